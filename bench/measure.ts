// Wall-clock timing for calls that take from microseconds to seconds, in steady state: warm-up calls continue
// past a minimum count until a call no longer beats the best before it by 3% (caches, thread pools, packed
// weights and lazily built tables settle at different speeds on each side; PyTorch 1.13's step needs 3-5
// calls), then calls until both a minimum time and a minimum count are reached; the median is reported
// (robust to the noise of a shared machine). bench/python/peers.py and gemm_peers.cc apply the same rule.
import { performance } from 'perf_hooks';

export interface Timing {
  medianMs: number;
  bestMs: number;
  /** The 10th-percentile call (the fastest below ten calls): the steadiness guard's spread rule compares the
   * median with it rather than with the fastest, an outlier of a figure's hundreds of short calls. */
  fastMs: number;
  calls: number;
  /** Warm-up calls made before timing. */
  warmup: number;
}

/** Steady-state warm-up: at least `min` calls, then until one is not 3% faster than the best before it. */
function warmUp(fn: () => void, min: number): number {
  let best = Infinity;
  for (let n = 1; ; n++) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    if ((n >= min && dt > 0.97 * best) || n >= 50) return n;
    best = Math.min(best, dt);
  }
}

/** The 10th-percentile call of sorted times, as peers.py and gemm_peers.cc take it: index ⌊(n − 1) / 10⌋. */
export function fastCall(sorted: readonly number[]): number {
  return sorted[Math.floor((sorted.length - 1) / 10)];
}

function summarise(ms: number[], warmup: number): Timing {
  ms.sort((a, b) => a - b);
  return { medianMs: ms[ms.length >> 1], bestMs: ms[0], fastMs: fastCall(ms), calls: ms.length, warmup };
}

export function timeCalls(fn: () => void, opts: { minTime: number; minCalls?: number; maxCalls?: number; warmup?: number }): Timing {
  const minCalls = opts.minCalls ?? 3, maxCalls = opts.maxCalls ?? 100000;
  const warmup = warmUp(fn, opts.warmup ?? 1);
  const ms: number[] = [];
  let total = 0;
  while ((total < opts.minTime * 1000 || ms.length < minCalls) && ms.length < maxCalls) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    ms.push(dt);
    total += dt;
  }
  return summarise(ms, warmup);
}

export async function timeCallsAsync(fn: () => Promise<void>, opts: { minTime: number; minCalls?: number; warmup?: number }): Promise<Timing> {
  const minCalls = opts.minCalls ?? 3;
  for (let i = 0; i < (opts.warmup ?? 1); i++) await fn();
  const ms: number[] = [];
  let total = 0;
  while (total < opts.minTime * 1000 || ms.length < minCalls) {
    const t0 = performance.now();
    await fn();
    const dt = performance.now() - t0;
    ms.push(dt);
    total += dt;
  }
  return summarise(ms, opts.warmup ?? 1);
}
