// The machine's arithmetic peak, measured (never assumed): an AVX-512 fp32 FMA loop and an AVX512-BF16
// vdpbf16ps loop on 1 thread and on every core, with no memory traffic. Achieved GFLOP/s are reported as a
// fraction of these.
import * as os from 'os';
import { runNativeTool } from './native-tools';

export interface PeakFigure {
  kind: 'fp32' | 'bf16';
  threads: number;
  /** Null when the CPU lacks the instructions (see `error`). */
  gflops: number | null;
  error?: string;
}

export function measurePeak(kind: 'fp32' | 'bf16', threads: number, seconds = 0.5): PeakFigure {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`measurePeak: threads must be a positive integer, got ${threads}`);
  const r = runNativeTool<{ kind: string; threads: number; gflops?: number; error?: string }>('peak', [kind, String(threads), String(seconds)]);
  return { kind, threads, gflops: r.gflops ?? null, ...(r.error ? { error: r.error } : {}) };
}

/** Cores the engine's thread pool uses by default (FAIRTUNE_THREADS, else every core). */
export function engineThreads(): number {
  const env = process.env.FAIRTUNE_THREADS;
  const n = env ? Number(env) : NaN;
  return Number.isInteger(n) && n > 0 ? n : os.cpus().length;
}

/** The fp32 FMA peak on all cores, the denominator of every "fraction of peak" for fp32 figures. */
export function fp32PeakAllCores(seconds = 0.5): number {
  return peakAllCores('fp32', seconds);
}

/** The bf16 dot-product (vdpbf16ps) peak on all cores, the denominator for the bf16 mode's figures. */
export function bf16PeakAllCores(seconds = 0.5): number {
  return peakAllCores('bf16', seconds);
}

function peakAllCores(kind: 'fp32' | 'bf16', seconds: number): number {
  const all = measurePeak(kind, os.cpus().length, seconds), one = measurePeak(kind, 1, seconds);
  if (all.gflops === null || one.gflops === null) throw new Error(`cannot measure the ${kind} peak: ${all.error ?? one.error}`);
  // Other load can push the all-core loop below the one-core loop, which an idle machine never shows.
  return Math.max(all.gflops, one.gflops);
}
