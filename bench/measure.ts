// Wall-clock timing for calls that take from microseconds to seconds, in steady state: warm-up calls continue
// past a minimum count until a call no longer beats the best before it by 3% (caches, thread pools, packed
// weights and lazily built tables settle at different speeds on each side; PyTorch 1.13's step needs 3-5
// calls), then calls until both a minimum time and a minimum count are reached; the median is reported
// (robust to the noise of a shared machine). bench/python/peers.py and gemm_peers.cc apply the same rule.
import { performance } from 'perf_hooks';

export interface Timing {
  medianMs: number;
  bestMs: number;
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
  ms.sort((a, b) => a - b);
  return { medianMs: ms[ms.length >> 1], bestMs: ms[0], calls: ms.length, warmup };
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
  ms.sort((a, b) => a - b);
  return { medianMs: ms[ms.length >> 1], bestMs: ms[0], calls: ms.length, warmup: opts.warmup ?? 1 };
}
