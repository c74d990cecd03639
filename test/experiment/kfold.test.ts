// Subject-wise k-fold cross-validation: every subject of every target is tested exactly once, by the model
// of the fold that held it out; the folds' test subjects are balanced per group; a small cohort makes
// 'auto' choose it; groups with fewer evaluated subjects than the minimum are marked.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { foldSubjects, kFoldWindowSets } from '../../src/data/split';
import { generateCohort } from '../../src/data/synth/cohort';
import { makeWindows } from '../../src/data/windows';
import { getBackend } from '../../src/engine/registry';
import { parseExperimentConfig } from '../../src/experiment/config';
import { chooseProtocol } from '../../src/experiment/data-stage';
import { runExperiment } from '../../src/experiment/run';
import { LocalRunner } from '../../src/runner/local';

const cohort = generateCohort('dalia-like', { seed: 4, subjects: 13, seconds: 60 });
const ws = makeWindows(cohort.recordings, cohort.subjects, { domain: 'd', seconds: 10, manifest: cohort.manifest });
const gender = (s: { attributes: Record<string, unknown> }) => String(s.attributes.gender);

describe('folds by subject', () => {
  test('every subject lands in exactly one fold, each group dealt evenly across the folds', () => {
    const folds = foldSubjects(cohort.subjects, 4, 7, gender);
    const all = folds.flat();
    expect(all.sort()).toEqual(cohort.subjects.map((s) => s.id).sort());
    const sizes = folds.map((f) => f.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (const g of new Set(cohort.subjects.map(gender))) {
      const per = folds.map((f) => f.filter((id) => gender(cohort.subjects.find((s) => s.id === id)!) === g).length);
      expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
    }
    // Seeded: the same seed gives the same folds, another seed other folds.
    expect(foldSubjects(cohort.subjects, 4, 7, gender)).toEqual(folds);
    expect(foldSubjects(cohort.subjects, 4, 8, gender)).not.toEqual(folds);
    expect(() => foldSubjects(cohort.subjects, 1, 7)).toThrow(/folds must be an integer ≥ 2/);
  });

  test('each fold tests its own subjects and trains and validates on the others, never the same subject twice', () => {
    const folds = kFoldWindowSets(ws, 4, 0.25, 3, gender);
    const tested: string[] = [];
    for (const f of folds) {
      const ids = (w: typeof ws) => new Set(w.subjects.map((s) => s.id));
      const [tr, va, te] = [ids(f.train), ids(f.val), ids(f.test)];
      for (const id of te) expect(tr.has(id) || va.has(id)).toBe(false);
      for (const id of va) expect(tr.has(id)).toBe(false);
      expect(tr.size + va.size + te.size).toBe(13);
      expect(va.size).toBeGreaterThan(0);
      tested.push(...te);
    }
    expect(tested.sort()).toEqual(cohort.subjects.map((s) => s.id).sort());
    expect(folds.reduce((a, f) => a + f.test.hr.length, 0)).toBe(ws.hr.length);
  });
});

describe('a k-fold experiment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-kfold-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const raw = {
    name: 'kf',
    windowSeconds: 10,
    domains: {
      a: { kind: 'synthetic', preset: 'dalia-like', seed: 1, subjects: 9, seconds: 60 },
      b: { kind: 'synthetic', preset: 'mimic-like', seed: 2, subjects: 8, seconds: 60, recordings: 1 },
    },
    sources: ['a'],
    strategies: ['erm'],
    seeds: [0],
    pretrain: { epochs: 1, batchSize: 16 },
    finetune: { epochs: 1, batchSize: 16 },
    split: { folds: 3 },
    evaluation: { bootstrap: 20, mmdPermutations: 10, maxEmbeddingRows: 40, projection: true, minSubjectsPerGroup: 4 },
  };

  test("'auto' chooses k-fold for a small cohort and holdout for a large one, saying why", () => {
    const c = parseExperimentConfig(raw);
    const [p, why] = chooseProtocol(c, new Map([['a', ws]]));
    expect(p).toBe('kfold');
    expect(why).toMatch(/fewer than 4 per group/);
    const big = makeWindows(...(() => {
      const k = generateCohort('dalia-like', { seed: 5, subjects: 60, seconds: 20 });
      return [k.recordings, k.subjects, { domain: 'big', seconds: 10, manifest: k.manifest }] as const;
    })());
    expect(chooseProtocol(c, new Map([['big', big]]))[0]).toBe('holdout');
    expect(chooseProtocol(parseExperimentConfig({ ...raw, split: { protocol: 'holdout' } }), new Map([['a', ws]]))[0]).toBe('holdout');
  });

  test('every target subject is evaluated once and the metrics pool the folds', async () => {
    const c = parseExperimentConfig(raw);
    const logs: string[] = [];
    const backend = getBackend('cpu');
    const { results } = await runExperiment(c, { runsDir: dir, backend, runner: new LocalRunner(backend), log: (s) => logs.push(s), progress: false });
    expect(results.failed).toEqual([]);
    expect(logs.some((l) => /protocol: 3-fold cross-validation by subject/.test(l))).toBe(true);
    const [cell] = results.cells;
    expect(cell.training.folds).toHaveLength(3);
    for (const t of cell.targets) {
      const n = t.target === 'a' ? 9 : 8;
      expect(t.metrics.subjects).toBe(n);
      expect(t.evaluation?.folds).toBe(3);
      expect(t.subjectErrors?.map((s) => s.subject).sort()).toHaveLength(n);
      const per = t.metrics.perGroup.map((g) => g.subjects);
      expect(per.reduce((a, b) => a + b, 0)).toBe(n);
      // Groups below the minimum of 4 evaluated subjects are named, the others not.
      expect(t.evaluation?.fewSubjects).toEqual(t.metrics.perGroup.filter((g) => g.subjects < 4).map((g) => g.group));
      expect(Number.isFinite(t.metrics.embeddings.pooled.mmd.mmd2)).toBe(true);
    }
    // Resumed: the same folds are read back from the cache.
    const again: string[] = [];
    await runExperiment(c, { runsDir: dir, backend, runner: new LocalRunner(backend), log: (s) => again.push(s), progress: false });
    expect(again.filter((l) => l.includes('already finished'))).toHaveLength(1);
  }, 300000);
});

describe('the fine-tuning mode as a grid axis', () => {
  test('a list of modes makes every strategy run each way, named apart in ids, results and arms', async () => {
    const { cellsOf, cellId } = await import('../../src/experiment/cell');
    const { armsOf } = await import('../../src/report/arms');
    const c = parseExperimentConfig({
      name: 'modes', domains: { a: { kind: 'synthetic', preset: 'dalia-like', seed: 1, subjects: 6, seconds: 40 } },
      sources: ['a'], strategies: ['erm', 'groupdro'], seeds: [0], pretrain: { epochs: 1, batchSize: 16 },
      finetune: { epochs: 1, batchSize: 16, mode: ['full', 'lora'] }, split: { protocol: 'kfold', folds: 2 },
      evaluation: { bootstrap: 10, mmdPermutations: 5, maxEmbeddingRows: 20, projection: false },
    });
    const specs = cellsOf(c);
    expect(specs.map((s) => `${s.strategy}/${s.mode}`)).toEqual(['erm/full', 'groupdro/full', 'erm/lora', 'groupdro/lora']);
    expect(new Set(specs.map((s) => cellId(c, s))).size).toBe(4);
    expect(cellId(c, specs[2])).toContain('__lora__');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-modes-'));
    try {
      const backend = getBackend('cpu');
      const { results } = await runExperiment(c, { runsDir: dir, backend, runner: new LocalRunner(backend), progress: false });
      expect(results.failed).toEqual([]);
      expect(results.cells.map((x) => x.mode)).toEqual(['full', 'full', 'lora', 'lora']);
      expect(armsOf(results).order).toEqual(['erm full', 'erm lora', 'groupdro full', 'groupdro lora']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});
