// The bench's guard against a host that takes a core away mid-measurement (bench/steadiness.ts).
import { refuseDisturbed, steadyGuard, takeTurns } from '../../bench/steadiness';

function guardWith(probes: (number | null)[], retries = 2) {
  const seen = [...probes], logs: string[] = [], sleeps: number[] = [];
  const guard = steadyGuard({
    probe: () => {
      if (seen.length === 0) throw new Error('probed more often than the test planned');
      return seen.shift()!;
    },
    reference: 400, retries, waitMs: 1234, sleep: (ms) => sleeps.push(ms), log: (m) => logs.push(m),
  });
  return { guard, logs, sleeps, left: () => seen.length };
}

test('a figure taken between two calm probes is measured once', () => {
  const g = guardWith([390, 380]);
  let calls = 0;
  expect(g.guard('gemm', () => ++calls)).toBe(1);
  expect(g.left()).toBe(0);
  expect(g.guard.retried).toEqual([]);
  expect(g.sleeps).toEqual([]);
});

test('a probe below 75% of the peak after the figure makes it measured again after a pause, and the retry is the result', () => {
  const g = guardWith([390, 180, 395, 392]);
  let calls = 0;
  expect(g.guard('engine step', () => ++calls)).toBe(2);
  expect(g.guard.retried).toEqual(['engine step']);
  expect(g.guard.disturbed).toEqual([]);
  expect(g.sleeps).toEqual([1234]);
  expect(g.logs[0]).toMatch(/engine step: the host took a core .*probes 390 and 180 GFLOP\/s against a peak of 400/);
});

test('a disturbed probe before the figure counts too; a host disturbed through every retry marks the figure', () => {
  const g = guardWith([200, 390, 210, 390, 390, 100]);
  let calls = 0;
  expect(g.guard('PyTorch step', () => ++calls)).toBe(3);
  expect(g.guard.disturbed).toEqual(['PyTorch step']);
  expect(g.sleeps).toHaveLength(2);
  expect(() => refuseDisturbed('BENCHMARKS.md', g.guard.disturbed, false)).toThrow(/not writing BENCHMARKS.md: 1 figure.*PyTorch step.*--allow-disturbed/);
  expect(() => refuseDisturbed('BENCHMARKS.md', g.guard.disturbed, true)).not.toThrow();
  expect(() => refuseDisturbed('BENCHMARKS.md', [], false)).not.toThrow();
});

test('without a probe (no AVX-512, or a quick run) every figure is taken once', () => {
  const g = guardWith([null, null]);
  expect(g.guard('x', () => 'done')).toBe('done');
  expect(g.guard.retried).toEqual([]);
});

test('a probe above the run\'s peak raises the bar (a peak measured on a slowed host is too lenient), and is kept as evidence of the peak', () => {
  // reference 400; the first probe shows 500, so the second (360) is below 75% of 500 and the figure is retaken
  // (against the reference alone it would have passed).
  const g = guardWith([500, 360, 480, 470]);
  let calls = 0;
  expect(g.guard('gemm', () => ++calls)).toBe(2);
  expect(g.guard.retried).toEqual(['gemm']);
  expect(g.logs[0]).toMatch(/probes 500 and 360 GFLOP\/s against a peak of 500/);
  expect(g.guard.bestProbe()).toBe(500);
});

test('bestProbe is null until a probe has measured something, and a non-finite probe is no evidence', () => {
  // A NaN probe is not calm either: the figure is taken again, and the NaN does not become the best probe.
  const g = guardWith([null, null, NaN, 390, 380, 385]);
  expect(g.guard.bestProbe()).toBeNull();
  g.guard('x', () => 0);
  expect(g.guard.bestProbe()).toBeNull();
  g.guard('y', () => 0);
  expect(g.guard.retried).toEqual(['y']);
  expect(g.guard.bestProbe()).toBe(390);
  expect(g.left()).toBe(0);
});

// The spread rule: a figure measured between calm probes whose median call lies well above its fastest was
// slowed part of the way through (the host took a core between the probes).
describe('the spread of a figure\'s calls', () => {
  const calls = (r: { medianMs: number; fastMs: number }) => r;

  test('a figure whose median call stays within 1.25× of its 10th percentile is measured once', () => {
    const g = guardWith([390, 380]);
    expect(g.guard('engine step', () => ({ medianMs: 220, fastMs: 200 }), calls)).toEqual({ medianMs: 220, fastMs: 200 });
    expect(g.guard.retried).toEqual([]);
    expect(g.guard.spread).toEqual([]);
  });

  test('a median past 1.25× the 10th-percentile call is measured again after a pause, between calm probes', () => {
    const g = guardWith([390, 380, 395, 392]);
    const results = [{ medianMs: 303, fastMs: 205 }, { medianMs: 210, fastMs: 199 }];
    expect(g.guard('engine step 19m B=8', () => results.shift()!, calls)).toEqual({ medianMs: 210, fastMs: 199 });
    expect(g.guard.retried).toEqual(['engine step 19m B=8']);
    expect(g.guard.disturbed).toEqual([]);
    expect(g.guard.spread).toEqual([]);
    expect(g.sleeps).toEqual([1234]);
    expect(g.logs[0]).toMatch(/engine step 19m B=8: slowed part of the way through \(its median call took 1\.48× its 10th percentile \(303\.0 against 205\.0 ms\)\); measuring again/);
  });

  test('calls that still spread after the retries on a calm host: the calm attempt with the lowest median stands, listed but not marked', () => {
    const g = guardWith([390, 380, 390, 385, 388, 391]);
    const results = [{ medianMs: 300, fastMs: 100 }, { medianMs: 180, fastMs: 100 }, { medianMs: 240, fastMs: 100 }];
    expect(g.guard('PyTorch attention', () => results.shift()!, calls)).toEqual({ medianMs: 180, fastMs: 100 });
    expect(g.guard.spread).toEqual(['PyTorch attention']);
    expect(g.guard.disturbed).toEqual([]);
    expect(g.logs[g.logs.length - 1]).toMatch(/still spread after 2 retries \(its median call took 1\.80×.*lowest median stands, listed/);
    // Listed figures do not stop the document; disturbed ones do.
    expect(() => refuseDisturbed('BENCHMARKS.md', g.guard.disturbed, false)).not.toThrow();
  });

  test('a calm attempt whose calls spread stands against later attempts on a disturbed host', () => {
    // Attempt 1: calm probes, calls spread (kept as the fallback); attempt 2: disturbed probe; attempt 3: a
    // disturbed probe again. The calm, spread attempt stands (listed), not the last, disturbed one.
    const g = guardWith([390, 380, 390, 150, 120, 390]);
    const results = [{ medianMs: 150, fastMs: 100 }, { medianMs: 400, fastMs: 390 }, { medianMs: 500, fastMs: 480 }];
    expect(g.guard('gemm', () => results.shift()!, calls)).toEqual({ medianMs: 150, fastMs: 100 });
    expect(g.guard.spread).toEqual(['gemm']);
    expect(g.guard.disturbed).toEqual([]);
  });

  test('without a spread (a failed peer, a side that reports none) only the probes decide', () => {
    const g = guardWith([390, 380, 390, 100, 395, 396]);
    expect(g.guard('peer', () => 'failed', () => null)).toBe('failed');
    expect(g.guard.retried).toEqual([]);
    // Disturbed probes retry as before; the retry, calm and within the spread, is the result.
    let n = 0;
    expect(g.guard('x', () => ({ medianMs: 10, fastMs: 9, n: ++n }), calls)).toEqual({ medianMs: 10, fastMs: 9, n: 2 });
    expect(g.guard.retried).toEqual(['x']);
    expect(g.guard.spread).toEqual([]);
    expect(g.left()).toBe(0);
  });
});

test('a run without probes (--quick, or no fp32 probe) takes every figure once, however its calls spread', () => {
  const g = guardWith([null, null]);
  expect(g.guard('x', () => ({ medianMs: 300, fastMs: 100 }), (r) => r)).toEqual({ medianMs: 300, fastMs: 100 });
  expect(g.guard.retried).toEqual([]);
  expect(g.sleeps).toEqual([]);
});

// One-thread figures (gemm-one-thread) are probed on one thread, against the one-thread peak: the all-core probe
// reads half whenever the host takes either core, which says nothing of the core a one-thread figure ran on.
describe('one-thread figures', () => {
  function guardWithOne(all: (number | null)[], one: (number | null)[], withOne = true) {
    const seenAll = [...all], seenOne = [...one], logs: string[] = [];
    const take = (q: (number | null)[], which: string) => () => {
      if (q.length === 0) throw new Error(`probed the ${which} loop more often than the test planned`);
      return q.shift()!;
    };
    const guard = steadyGuard({
      probe: take(seenAll, 'all-core'), reference: 200,
      ...(withOne ? { one: { probe: take(seenOne, 'one-thread'), reference: 100 } } : {}),
      retries: 2, waitMs: 1, sleep: () => undefined, log: (m) => logs.push(m),
    });
    return { guard, logs, left: () => [seenAll.length, seenOne.length] };
  }

  test('take the one-thread probe against the one-thread peak, and leave the all-core probe alone', () => {
    // 90 and 95 GFLOP/s on one thread are calm against its peak of 100, though far below 75% of the all-core 200.
    const g = guardWithOne([], [90, 95]);
    expect(g.guard('engine forward (one thread)', () => 'ok', undefined, 'one')).toBe('ok');
    expect(g.guard.retried).toEqual([]);
    expect(g.left()).toEqual([0, 0]);
    expect(g.guard.bestProbe('one')).toBe(95);
    expect(g.guard.bestProbe()).toBeNull();
  });

  test('a one-thread probe below 75% of the one-thread peak retakes the figure, and says which peak', () => {
    const g = guardWithOne([], [90, 50, 96, 97]);
    let calls = 0;
    expect(g.guard('OpenBLAS sgemm forward (one thread)', () => ++calls, undefined, 'one')).toBe(2);
    expect(g.guard.retried).toEqual(['OpenBLAS sgemm forward (one thread)']);
    expect(g.logs[0]).toMatch(/probes 90 and 50 GFLOP\/s against a one-thread peak of 100/);
    expect(g.left()).toEqual([0, 0]);
  });

  test('a one-thread probe above the one-thread peak raises that bar only', () => {
    const g = guardWithOne([190, 185], [120, 85, 110, 112]);
    let calls = 0;
    // 85 is calm against 100 but not against the 120 the first probe showed: retaken.
    expect(g.guard('x', () => ++calls, undefined, 'one')).toBe(2);
    expect(g.guard.bestProbe('one')).toBe(120);
    // The all-core figures still hold against the all-core peak (200), not the one-thread probes.
    expect(g.guard('y', () => 'all')).toBe('all');
    expect(g.guard.bestProbe('all')).toBe(190);
    expect(g.left()).toEqual([0, 0]);
  });

  test('without a one-thread probe, one-thread figures take the all-core probe (the stricter guard)', () => {
    const g = guardWithOne([190, 80, 195, 196], [], false);
    let calls = 0;
    expect(g.guard('z', () => ++calls, undefined, 'one')).toBe(2);
    expect(g.logs[0]).toMatch(/probes 190 and 80 GFLOP\/s against a peak of 200/);
    expect(g.guard.bestProbe('one')).toBeNull();
    expect(g.guard.bestProbe()).toBe(196);
  });
});

// Turns: a figure is the median of turns taken alternately with the other sides; turns that disagree are listed.
describe('the turns of a figure', () => {
  test('turns within 1.25× of each other are not listed', () => {
    const g = guardWith([]);
    g.guard.turns('engine step 19m B=32 T=30', [763, 800, 900]);
    expect(g.guard.unevenTurns).toEqual([]);
    expect(g.logs).toEqual([]);
  });

  test('turns whose slowest took more than 1.25× the fastest are listed with the turns and their spread, and logged', () => {
    const g = guardWith([]);
    g.guard.turns('engine step 19m B=32 T=30', [763, 1012, 935]);
    g.guard.turns('engine attention B=32 S=31', [1.7, 2.4, 1.8]);
    expect(g.guard.unevenTurns).toEqual([
      'engine step 19m B=32 T=30 (763, 1012, 935 ms: 1.33×)',
      'engine attention B=32 S=31 (1.70, 2.40, 1.80 ms: 1.41×)',
    ]);
    expect(g.logs[0]).toMatch(/engine step 19m B=32 T=30: its turns disagreed by more than 1\.25× \(763, 1012, 935 ms: 1\.33×\); the median turn stands, listed/);
    // The turns probe nothing and retake nothing.
    expect(g.guard.retried).toEqual([]);
    expect(g.sleeps).toEqual([]);
  });

  test('one turn, or turns that are not times (a failed side), list nothing', () => {
    const g = guardWith([]);
    g.guard.turns('a', [100]);
    g.guard.turns('b', []);
    g.guard.turns('c', [100, NaN, 0]);
    expect(g.guard.unevenTurns).toEqual([]);
    // The known turns still count when some are missing.
    g.guard.turns('d', [100, NaN, 130]);
    expect(g.guard.unevenTurns).toEqual(['d (100, 130 ms: 1.30×)']);
  });

  test('disagree says whether turns disagree, without listing or logging them (the GEMM suite takes more turns then)', () => {
    const g = guardWith([]);
    expect(g.guard.disagree([100, 125, 110])).toBe(false); // 1.25× exactly is within
    expect(g.guard.disagree([100, 126])).toBe(true);
    expect(g.guard.disagree([126, 100, 101])).toBe(true);
    expect(g.guard.disagree([100])).toBe(false);
    expect(g.guard.disagree([100, NaN, 0, 200])).toBe(true);
    expect(g.guard.disagree([100, NaN, 0])).toBe(false);
    expect(g.guard.unevenTurns).toEqual([]);
    expect(g.logs).toEqual([]);
  });
});

// A GEMM comparison takes two more turns of every side when some side's first three disagree.
describe('takeTurns', () => {
  function run(rounds: number, maxRounds: number, unevenAfter: number) {
    const taken: number[] = [], extras: [number, number][] = [];
    let asked = 0;
    const n = takeTurns({
      rounds, maxRounds, turn: (r) => taken.push(r),
      uneven: () => {
        asked++;
        return unevenAfter;
      },
      onExtra: (extra, uneven) => extras.push([extra, uneven]),
    });
    return { n, taken, extras, asked };
  }

  test('turns that agree: the first rounds only, asked once after them', () => {
    expect(run(3, 5, 0)).toEqual({ n: 3, taken: [0, 1, 2], extras: [], asked: 1 });
  });

  test('turns that disagree: every extra turn, in order, announced once with how many sides disagree', () => {
    expect(run(3, 5, 2)).toEqual({ n: 5, taken: [0, 1, 2, 3, 4], extras: [[2, 2]], asked: 1 });
  });

  test('no room for extra turns (a quick run): never asks', () => {
    expect(run(1, 1, 3)).toEqual({ n: 1, taken: [0], extras: [], asked: 0 });
  });

  test('the turns seen by uneven() are the first rounds', () => {
    const seen: number[] = [];
    // Disagreeing only when asked after exactly the first three turns: asked at any other point, no extra turn.
    takeTurns({ rounds: 3, maxRounds: 5, turn: (r) => seen.push(r), uneven: () => (seen.length === 3 ? 1 : 0) });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });
});
