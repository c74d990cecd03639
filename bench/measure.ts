// Wall-clock timing for calls that take from microseconds to seconds: a warm-up call, then calls until both a
// minimum time and a minimum count are reached; the median is reported (robust to the noise of a shared machine).
import { performance } from 'perf_hooks';

export interface Timing {
  medianMs: number;
  bestMs: number;
  calls: number;
}

export function timeCalls(fn: () => void, opts: { minTime: number; minCalls?: number; maxCalls?: number; warmup?: number }): Timing {
  const minCalls = opts.minCalls ?? 3, maxCalls = opts.maxCalls ?? 100000;
  for (let i = 0; i < (opts.warmup ?? 1); i++) fn();
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
  return { medianMs: ms[ms.length >> 1], bestMs: ms[0], calls: ms.length };
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
  return { medianMs: ms[ms.length >> 1], bestMs: ms[0], calls: ms.length };
}
