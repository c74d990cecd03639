// The raw functions of the fairtune_native addon (native/*.cc). Every function takes flat Float32Arrays
// plus the dims they are claimed to have, validates all of it natively and throws an Error
// "fairtune_native.<op>: …" on bad input. Dropout arguments are (p, seed, step, site); p = 0 is no dropout.
import type { NativeOpsApi } from '../native-ops-api';

export type IsaName = 'avx512' | 'avx2' | 'scalar';

/** Precision of the GEMMs: fp32, or bf16 inputs with fp32 accumulation (AVX512_BF16 CPUs only). */
export type ComputeMode = 'fp32' | 'bf16';

export interface NativeInfo {
  /** The kernel ISA in use. */
  isa: IsaName;
  /** The best ISA this CPU supports. */
  detectedIsa: IsaName;
  threads: number;
  /** The GEMM precision in use. */
  computeMode: ComputeMode;
  /** This CPU can run the bf16 GEMM kernels. */
  bf16Supported: boolean;
  /** What the bf16 mode runs on: AMX tiles, AVX512_BF16 dot products, or nothing (unsupported). */
  bf16Kernel: 'amx' | 'avx512bf16' | 'none';
}

export interface NativeAddon extends NativeOpsApi<Float32Array> {
  info(): NativeInfo;
  setIsa(isa: IsaName): void;
  setThreads(n: number): void;
  setComputeMode(mode: ComputeMode): void;
  /** Test hook: false keeps the bf16 mode off AMX (AVX512_BF16 dot products instead). */
  setBf16Amx(allow: boolean): void;
  /** Points file descriptor 2 at `path` (appending); returns the previous descriptor for stderrRestore. */
  stderrTo(path: string): number;
  stderrRestore(fd: number): void;
}

/** Every function the TypeScript side relies on: a stale build missing one is reported as unavailable. */
export const NATIVE_FUNCTIONS: readonly (keyof NativeAddon)[] = [
  'info', 'setIsa', 'setThreads', 'setComputeMode', 'setBf16Amx', 'linear', 'linearBackward', 'rmsNorm', 'rmsNormBackward', 'layerNorm',
  'layerNormBackward', 'startToken', 'startTokenBackward', 'meanPool', 'meanPoolBackward', 'relu', 'reluBackward',
  'gelu', 'geluBackward', 'dropout', 'dropoutBackward', 'add', 'accumulate', 'scale', 'gradReverse',
  'ropeAttention', 'ropeAttentionBackward', 'hrLoss', 'hrLossBackward', 'nextPatchNll', 'nextPatchNllBackward',
  'bceWithLogits', 'bceWithLogitsBackward', 'groupDroUpdate', 'adamw', 'sumSquares', 'stderrTo', 'stderrRestore',
];
