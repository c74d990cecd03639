// The raw functions of the fairtune_native addon (native/*.cc): its controls, typed here, and one function
// per op of the table (generated glue, native/generated/op_glue.h), whose positional arguments are the ones
// src/engine/ops/native-layout.ts derives from the table: flat Float32Arrays, scalars, then dims. Each
// checks what protects memory and throws an Error "fairtune_native.<op>: …" on bad input.
import { NATIVE_OP_FUNCTIONS } from '../ops/native-layout';

export type IsaName = 'avx512' | 'avx2' | 'scalar';

/** Precision of the GEMMs: fp32, or bf16 inputs with fp32 accumulation (AVX512_BF16 CPUs only). */
export type ComputeMode = 'fp32' | 'bf16';

export interface NativeInfo {
  /** The kernel ISA in use. */
  isa: IsaName;
  /** The best ISA this CPU supports. */
  detectedIsa: IsaName;
  threads: number;
  /** Microseconds an idle pool thread spins before sleeping (FAIRTUNE_SPIN_US; 0 when threads exceed the cores). */
  spinUs: number;
  /** The GEMM precision in use. */
  computeMode: ComputeMode;
  /** This CPU can run the bf16 GEMM kernels. */
  bf16Supported: boolean;
  /** What the bf16 mode runs on: AMX tiles, AVX512_BF16 dot products, or nothing (unsupported). */
  bf16Kernel: 'amx' | 'avx512bf16' | 'none';
}

export interface NativeAddon {
  /** The op functions, by op name (ops/native-layout.ts NATIVE_OP_FUNCTIONS). */
  readonly [op: string]: unknown;
  info(): NativeInfo;
  setIsa(isa: IsaName): void;
  setThreads(n: number): void;
  setComputeMode(mode: ComputeMode): void;
  /** Test hook: false keeps the bf16 mode off AMX (AVX512_BF16 dot products instead). */
  setBf16Amx(allow: boolean): void;
  /** Bytes past the last 64-byte boundary at which the array's first element lies (host storage alignment). */
  misalignment(a: Float32Array): number;
  /**
   * The index of the first element of the array's first whole 2 MiB page (-1 if it holds none), after advising
   * the kernel to back its whole 2 MiB pages with transparent huge pages (best effort).
   */
  adviseHugePages(a: Float32Array): number;
  /** Points file descriptor 2 at `path` (appending); returns the previous descriptor for stderrRestore. */
  stderrTo(path: string): number;
  stderrRestore(fd: number): void;
}

/** Every function the TypeScript side relies on: a stale build missing one is reported as unavailable. */
export const NATIVE_FUNCTIONS: readonly string[] = [
  'info', 'setIsa', 'setThreads', 'setComputeMode', 'setBf16Amx', 'misalignment', 'adviseHugePages', 'stderrTo', 'stderrRestore', ...NATIVE_OP_FUNCTIONS,
];
