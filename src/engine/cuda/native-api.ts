// The raw functions of the CUDA addons (native/cuda/*.cc): fairtune_cuda (real GPU) and fairtune_cuda_emu
// (the same kernels emulated on the host): memory functions, typed here, and one function per op of the
// table (generated glue, native/generated/op_glue.h) in the layout of src/engine/ops/native-layout.ts.
// Tensors are device views {buf, offset, length} over buffers that alloc() returns; every op function
// checks its views and dims natively and throws "fairtune_native.<op>: …" on bad input.
import { NATIVE_OP_FUNCTIONS } from '../ops/native-layout';

/** An opaque device allocation (a type-tagged N-API External). */
export type DeviceBuffer = { readonly __deviceBuffer: unique symbol };

/** A contiguous range of a device buffer, in floats. */
export interface DeviceView {
  readonly buf: DeviceBuffer;
  readonly offset: number;
  readonly length: number;
}

type V = DeviceView;

export interface CudaInfo {
  available: boolean;
  /** Why not available ('' when available): the CUDA runtime's own message. */
  reason: string;
  devices: number;
  emulated: boolean;
  device?: string;
  /**
   * Precision now: fp32 on CUDA cores; bf16 operands with fp32 accumulation on tensor cores (GEMMs and
   * attention); or tf32 operands with fp32 accumulation on tensor cores (GEMMs; attention stays fp32).
   */
  computeMode: CudaComputeMode;
}

export type CudaComputeMode = 'fp32' | 'bf16' | 'tf32';

export type EmuOrder = 'forward' | 'reverse' | 'shuffle' | 'eager';

export interface CudaAddon {
  /** The op functions, by op name (ops/native-layout.ts NATIVE_OP_FUNCTIONS). */
  readonly [op: string]: unknown;
  info(): CudaInfo;
  alloc(n: number): DeviceBuffer;
  free(buf: DeviceBuffer): void;
  upload(view: V, data: Float32Array): void;
  download(view: V, out: Float32Array): void;
  /** n floats of page-locked host memory (DMA target of small reads); freed when the array is collected. */
  allocPinned(n: number): Float32Array;
  /** Two device-to-host copies and one synchronisation (a result and the device checks' flags together). */
  downloadPair(view: V, out: Float32Array, view2: V, out2: Float32Array): void;
  /** A value rule (kernels/cuda/check.cu CheckRule code) over x; the verdict goes into slot (2 floats). */
  checkValues(x: V, rule: number, G: number, slot: V): void;
  /** Every valid id of ids has a non-zero count in counts; the verdict goes into slot (2 floats). */
  checkIdsCounted(ids: V, counts: V, slot: V): void;
  zero(view: V, n: number): void;
  copy(src: V, dst: V, n: number): void;
  /** Emulator only: the order in which a block's threads run between barriers. */
  setSchedule(order: EmuOrder, seed: number): void;
  /** Precision of every GEMM after it (process-wide); 'bf16' throws on a device below compute capability 8.0. */
  setComputeMode(mode: CudaComputeMode): void;
}

/** Every function the TypeScript side relies on: a stale build missing one is reported as unavailable. */
export const CUDA_FUNCTIONS: readonly string[] = [
  'info', 'alloc', 'free', 'upload', 'download', 'downloadPair', 'allocPinned', 'checkValues', 'checkIdsCounted', 'zero', 'copy', 'setSchedule',
  'setComputeMode', ...NATIVE_OP_FUNCTIONS,
];
