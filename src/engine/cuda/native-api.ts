// The raw functions of the CUDA addons (native/cuda/*.cc): fairtune_cuda (real GPU) and fairtune_cuda_emu
// (the same kernels emulated on the host). Tensors are device views {buf, offset, length} over buffers that
// alloc() returns; every function validates its views and dims natively and throws
// "fairtune_native.<op>: …" on bad input. Dropout arguments are (p, seed, step, site); p = 0 is no dropout.

/** An opaque device allocation (a type-tagged N-API External). */
export type DeviceBuffer = { readonly __deviceBuffer: unique symbol };

/** A contiguous range of a device buffer, in floats. */
export interface DeviceView {
  readonly buf: DeviceBuffer;
  readonly offset: number;
  readonly length: number;
}

type V = DeviceView;
type Opt = DeviceView | null;

export interface CudaInfo {
  available: boolean;
  /** Why not available ('' when available): the CUDA runtime's own message. */
  reason: string;
  devices: number;
  emulated: boolean;
  device?: string;
}

export type EmuOrder = 'forward' | 'reverse' | 'shuffle';

export interface CudaAddon {
  info(): CudaInfo;
  alloc(n: number): DeviceBuffer;
  free(buf: DeviceBuffer): void;
  upload(view: V, data: Float32Array): void;
  download(view: V, out: Float32Array): void;
  zero(view: V, n: number): void;
  copy(src: V, dst: V, n: number): void;
  /** Emulator only: the order in which a block's threads run between barriers. */
  setSchedule(order: EmuOrder, seed: number): void;

  linear(x: V, w: V, b: Opt, y: V, N: number, K: number, M: number): void;
  linearBackward(dy: V, x: V, w: V, dx: Opt, dw: Opt, db: Opt, N: number, K: number, M: number): void;
  rmsNorm(x: V, scale: V, eps: number, y: V, rstd: V, N: number, D: number): void;
  rmsNormBackward(dy: V, x: V, scale: V, rstd: V, dx: V, dscale: Opt, N: number, D: number): void;
  layerNorm(x: V, gamma: V, beta: V, eps: number, y: V, mean: V, rstd: V, N: number, C: number): void;
  layerNormBackward(dy: V, x: V, gamma: V, mean: V, rstd: V, dx: V, dgamma: Opt, dbeta: Opt, N: number, C: number): void;
  startToken(e: V, token: V, h: V, B: number, T: number, D: number): void;
  startTokenBackward(dh: V, de: Opt, dtoken: Opt, B: number, T: number, D: number): void;
  meanPool(h: V, z: V, B: number, S: number, D: number): void;
  meanPoolBackward(dz: V, dh: V, B: number, S: number, D: number): void;

  relu(x: V, y: V, n: number): void;
  reluBackward(dy: V, y: V, dx: V, n: number): void;
  gelu(x: V, y: V, n: number): void;
  geluBackward(dy: V, x: V, dx: V, n: number): void;
  dropout(x: V, y: V, n: number, p: number, seed: number, step: number, site: number): void;
  dropoutBackward(dy: V, dx: V, n: number, p: number, seed: number, step: number, site: number): void;
  add(a: V, b: V, y: V, n: number): void;
  accumulate(src: V, dst: V, alpha: number, n: number): void;
  scale(x: V, s: number, n: number): void;
  gradReverse(dy: V, dx: V, lambda: number, n: number): void;

  ropeAttention(
    q: V, k: V, v: V, out: V, lse: V, B: number, S: number, D: number, H: number,
    p: number, seed: number, step: number, site: number,
  ): void;
  ropeAttentionBackward(
    dout: V, q: V, k: V, v: V, out: V, lse: V, dq: V, dk: V, dv: V, B: number, S: number, D: number, H: number,
    p: number, seed: number, step: number, site: number,
  ): void;

  hrLoss(
    out: V, hr: V, w: V, group: V, lambda: number, eps: number,
    pred: V, sampleLoss: V, loss: V, groupLossSum: V, groupCount: V, B: number, G: number,
  ): void;
  hrLossBackward(out: V, hr: V, w: V, lambda: number, eps: number, dout: V, scale: number, B: number): void;
  nextPatchNll(params: V, x: V, eps: number, loss: V, B: number, S: number, T: number, P: number): void;
  nextPatchNllBackward(params: V, x: V, eps: number, dparams: V, scale: number, B: number, S: number, T: number, P: number): void;
  bceWithLogits(logits: V, targets: V, loss: V, n: number): void;
  bceWithLogitsBackward(logits: V, targets: V, dlogits: V, scale: number, n: number): void;

  groupDroUpdate(q: V, groupLossSum: V, groupCount: V, eta: number, group: V, w: V, G: number, B: number): void;
  adamw(
    param: V, grad: V, m: V, v: V, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
    step: number, n: number,
  ): void;
  sumSquares(views: readonly V[]): number;
}

/** Every function the TypeScript side relies on: a stale build missing one is reported as unavailable. */
export const CUDA_FUNCTIONS: readonly (keyof CudaAddon)[] = [
  'info', 'alloc', 'free', 'upload', 'download', 'zero', 'copy', 'setSchedule', 'linear', 'linearBackward', 'rmsNorm',
  'rmsNormBackward', 'layerNorm', 'layerNormBackward', 'startToken', 'startTokenBackward', 'meanPool',
  'meanPoolBackward', 'relu', 'reluBackward', 'gelu', 'geluBackward', 'dropout', 'dropoutBackward', 'add',
  'accumulate', 'scale', 'gradReverse', 'ropeAttention', 'ropeAttentionBackward', 'hrLoss', 'hrLossBackward',
  'nextPatchNll', 'nextPatchNllBackward', 'bceWithLogits', 'bceWithLogitsBackward', 'groupDroUpdate', 'adamw',
  'sumSquares',
];
