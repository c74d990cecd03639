// The machine's arithmetic peak, measured (never assumed): an fp32 FMA loop on the widest vectors the CPU has
// (AVX-512 zmm, else AVX2 ymm: the width the engine's kernels pick too), an AVX512-BF16 vdpbf16ps loop and an
// AMX tdpbf16ps loop on 1 thread and on every core, with no memory traffic. Achieved GFLOP/s are reported as a
// fraction of these: the bf16 mode against the instruction its GEMMs run on.
import * as os from 'os';
import { loadAddon } from '../engine/cpu/addon';
import { runNativeTool } from './native-tools';

/** fp32 FMAs, AVX512-BF16 dot products (vdpbf16ps), AMX bf16 tile products (tdpbf16ps). */
export type PeakInstruction = 'fp32' | 'bf16' | 'amx';

export interface PeakFigure {
  kind: PeakInstruction;
  threads: number;
  /** Null when the CPU lacks the instructions (see `error`). */
  gflops: number | null;
  error?: string;
  /** fp32: the vectors the loop ran on (zmm on AVX-512 CPUs, ymm on AVX2-only ones). */
  vector?: 'zmm' | 'ymm';
}

export function measurePeak(kind: PeakInstruction, threads: number, seconds = 0.5): PeakFigure {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`measurePeak: threads must be a positive integer, got ${threads}`);
  const r = runNativeTool<{ kind: string; threads: number; gflops?: number; error?: string; vector?: string }>(
    'peak', [kind, String(threads), String(seconds)]);
  const vector: { vector?: 'zmm' | 'ymm' } =
    kind === 'fp32' && (r.vector === 'zmm' || r.vector === 'ymm') ? { vector: r.vector } : {};
  return { kind, threads, gflops: r.gflops ?? null, ...(r.error ? { error: r.error } : {}), ...vector };
}

/**
 * The vectors of the fp32 peak here: zmm where the addon found AVX-512, ymm where it found AVX2 (null: neither,
 * or no addon). The peak tool makes the same choice from the same CPU flags; its figures name the width.
 */
export function fp32PeakVector(): 'zmm' | 'ymm' | null {
  const r = loadAddon();
  if (!r.ok) return null;
  const isa = r.addon.info().detectedIsa;
  return isa === 'avx512' ? 'zmm' : isa === 'avx2' ? 'ymm' : null;
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

/**
 * The instruction the cpu backend's bf16 GEMMs run here: AMX tiles where the addon uses them, else vdpbf16ps.
 * Its peak is the bf16 mode's denominator. On an AMX CPU the tile peak is about 16 times the vdpbf16ps one,
 * which a bf16 step measured against the latter exceeded (124% "of peak").
 */
export function bf16PeakInstruction(): 'amx' | 'bf16' {
  const r = loadAddon();
  return r.ok && r.addon.info().bf16Kernel === 'amx' ? 'amx' : 'bf16';
}

/** The peak of the bf16 mode's instruction (bf16PeakInstruction) on all cores. */
export function bf16PeakAllCores(seconds = 0.5, kind: 'amx' | 'bf16' = bf16PeakInstruction()): number {
  return peakAllCores(kind, seconds);
}

function peakAllCores(kind: PeakInstruction, seconds: number): number {
  const all = measurePeak(kind, os.cpus().length, seconds), one = measurePeak(kind, 1, seconds);
  if (all.gflops === null || one.gflops === null) throw new Error(`cannot measure the ${kind} peak: ${all.error ?? one.error}`);
  // Other load can push the all-core loop below the one-core loop, which an idle machine never shows.
  return Math.max(all.gflops, one.gflops);
}
