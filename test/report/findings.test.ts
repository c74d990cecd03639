// The report's findings against hand-built cells whose per-subject errors are known exactly: the point
// change of gap and MAE against ERM, the paired interval (which must cancel what both arms share), the
// sentences, and the transfers that are too small or cannot be compared.
import type { CellResult } from '../../src/experiment/results';
import type { SubjectErrors } from '../../src/fairness/metrics/subject-errors';
import { computeFindings, findingSentence } from '../../src/report/findings';
import { renderReport } from '../../src/report';
import { makeResults } from './fixture';

/** n subjects per group (F even, M odd), 10 windows each, mean |error| per window = f(subject). */
function errors(n: number, mean: (subject: number, group: 'F' | 'M') => number): SubjectErrors[] {
  return Array.from({ length: 2 * n }, (_, s) => {
    const group = s % 2 === 0 ? 'F' : 'M';
    return { subject: `p${String(s).padStart(2, '0')}`, group, windows: 10, absErrorSum: 10 * mean(s, group) };
  });
}

function cellOf(strategy: string, seed: number, target: string, subjectErrors: SubjectErrors[] | undefined, source = 'a'): CellResult {
  return {
    id: `${source}-${strategy}-${seed}`, source, strategy, size: 'tiny', seed, params: {}, groupNames: ['F', 'M'],
    training: { epochs: [], bestEpoch: 0, bestValMae: null, windowsPerSecond: 1, seconds: 1 },
    targets: [{ target, metrics: {} as never, subjectErrors }],
    finished: '',
  };
}

// Subject effects shared by both arms spread 0–3 bpm; F is served 5 bpm worse than M under ERM, and the
// strategy moves F down by 1.2 and M up by 0.2 (gap −1.4, MAE −0.5), the same for every subject.
const shared = (s: number) => ((s * 37) % 11) * 0.3;
const erm = (s: number, g: 'F' | 'M') => shared(s) + (g === 'F' ? 8 : 3);
const dro = (s: number, g: 'F' | 'M') => shared(s) + (g === 'F' ? 6.8 : 3.2);

describe('findings', () => {
  const cells = [1, 2].flatMap((seed) => [
    cellOf('erm', seed, 'b', errors(6, erm)),
    cellOf('groupdro', seed, 'b', errors(6, dro)),
    cellOf('if', seed, 'b', errors(6, erm)),
  ]);
  const f = computeFindings({ cells }, { resamples: 400, seed: 3 });
  const dr = f.findings.find((x) => x.strategy === 'groupdro')!;

  test('the point change is the hand-computed one', () => {
    const mean = (fn: typeof erm, g: 'F' | 'M') => {
      const ss = Array.from({ length: 12 }, (_, s) => s).filter((s) => (s % 2 === 0 ? 'F' : 'M') === g);
      return ss.reduce((a, s) => a + fn(s, g), 0) / ss.length;
    };
    const gap = (fn: typeof erm) => Math.abs(mean(fn, 'F') - mean(fn, 'M'));
    const mae = (fn: typeof erm) => (mean(fn, 'F') + mean(fn, 'M')) / 2;
    expect(dr.gapChange.estimate).toBeCloseTo(gap(dro) - gap(erm), 10);
    expect(dr.maeChange.estimate).toBeCloseTo(mae(dro) - mae(erm), 10);
    expect(dr.seeds).toEqual([1, 2]);
    expect(dr.subjects).toBe(12);
  });

  test('the paired interval cancels what both arms share: it is narrow although subjects differ by 3 bpm', () => {
    // Within each group the change is the same for every subject, so no resample of subjects moves it: an
    // unpaired comparison would carry the subjects' spread in both arms' intervals.
    expect(dr.gapChange.hi - dr.gapChange.lo).toBeLessThan(1e-9);
    expect(dr.gapChange.hi).toBeLessThan(0);
  });

  test('a change whose interval excludes zero gets a sentence; no change gets none', () => {
    expect(dr.sentence).toMatch(/^GroupDRO narrowed the gap on a → b by 1\.4 bpm \[1\.4, 1\.4\] while lowering MAE by 0\.5 bpm \[0\.5, 0\.5\]\.$/);
    const same = f.findings.find((x) => x.strategy === 'if')!;
    expect(same.gapChange).toEqual({ estimate: 0, lo: 0, hi: 0 });
    expect(same.sentence).toBeNull();
  });

  test('sentences name a cost, or a change in MAE alone', () => {
    const base = { strategy: 'adv', arm: 'adv', source: 's', target: 't', size: 'tiny' };
    expect(findingSentence({ ...base, gapChange: { estimate: 1, lo: 0.5, hi: 1.5 }, maeChange: { estimate: 0.6, lo: 0.2, hi: 1 } }))
      .toBe('ADV widened the gap on s → t by 1.0 bpm [0.5, 1.5] at a cost of 0.6 bpm MAE [0.2, 1.0].');
    expect(findingSentence({ ...base, gapChange: { estimate: 0.1, lo: -0.5, hi: 0.7 }, maeChange: { estimate: 0.6, lo: 0.2, hi: 1 } }))
      .toBe('ADV raised MAE on s → t by 0.6 bpm [0.2, 1.0] with no clear change in the gap.');
    expect(findingSentence({ ...base, gapChange: { estimate: 0.1, lo: -0.5, hi: 0.7 }, maeChange: { estimate: 0.1, lo: -0.2, hi: 0.3 } })).toBeNull();
  });

  test('transfers with too few subjects per group are listed, not compared', () => {
    const small = computeFindings({ cells: [cellOf('erm', 1, 'c', errors(1, erm)), cellOf('adv', 1, 'c', errors(1, dro))] }, { resamples: 50 });
    expect(small.findings).toEqual([]);
    expect(small.tooSmall).toEqual([{ size: 'tiny', source: 'a', target: 'c', groups: [{ group: 'F', subjects: 1 }, { group: 'M', subjects: 1 }] }]);
  });

  test('comparisons that cannot be made say why', () => {
    const noErm = computeFindings({ cells: [cellOf('adv', 1, 'b', errors(6, dro))] }, { resamples: 50 });
    expect(noErm.skipped).toEqual([{ size: 'tiny', source: 'a', target: 'b', arm: 'adv', reason: 'no ERM cell to compare with' }]);
    const old = computeFindings({ cells: [cellOf('erm', 1, 'b', undefined), cellOf('adv', 1, 'b', undefined)] }, { resamples: 50 });
    expect(old.skipped[0].reason).toMatch(/no per-subject errors/);
    const otherSubjects = errors(6, dro).map((s, i) => (i === 0 ? { ...s, subject: 'zz' } : s));
    const mism = computeFindings({ cells: [cellOf('erm', 1, 'b', errors(6, erm)), cellOf('adv', 1, 'b', otherSubjects)] }, { resamples: 50 });
    expect(mism.skipped[0].reason).toMatch(/subject zz differs/);
  });
});

test('the report opens with the findings, and results carry them', async () => {
  const html = await renderReport(makeResults());
  const at = html.indexOf('<section id="findings">');
  expect(at).toBeGreaterThan(0);
  expect(at).toBeLessThan(html.indexOf('<section id="summary">'));
  // The fixture's mitigations narrow F's penalty: at least one sentence, and the table of every comparison.
  expect(html).toMatch(/<ul class="findings"><li>[A-Za-z]+ narrowed the gap on /);
  expect(html).toContain('Δ gap vs ERM, bpm [95%]');
});
