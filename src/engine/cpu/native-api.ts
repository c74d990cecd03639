// The raw functions of the fairtune_native addon (native/*.cc). Every function takes flat Float32Arrays
// plus the dims they are claimed to have, validates all of it natively and throws an Error
// "fairtune_native.<op>: …" on bad input. Dropout arguments are (p, seed, step, site); p = 0 is no dropout.
type F = Float32Array;
type Opt = Float32Array | null;

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

export interface NativeAddon {
  info(): NativeInfo;
  setIsa(isa: IsaName): void;
  setThreads(n: number): void;
  setComputeMode(mode: ComputeMode): void;
  /** Test hook: false keeps the bf16 mode off AMX (AVX512_BF16 dot products instead). */
  setBf16Amx(allow: boolean): void;

  linear(x: F, w: F, b: Opt, y: F, N: number, K: number, M: number): void;
  linearBackward(dy: F, x: F, w: F, dx: Opt, dw: Opt, db: Opt, N: number, K: number, M: number): void;
  rmsNorm(x: F, scale: F, eps: number, y: F, rstd: F, N: number, D: number): void;
  rmsNormBackward(dy: F, x: F, scale: F, rstd: F, dx: F, dscale: Opt, N: number, D: number): void;
  layerNorm(x: F, gamma: F, beta: F, eps: number, y: F, mean: F, rstd: F, N: number, C: number): void;
  layerNormBackward(dy: F, x: F, gamma: F, mean: F, rstd: F, dx: F, dgamma: Opt, dbeta: Opt, N: number, C: number): void;
  startToken(e: F, token: F, h: F, B: number, T: number, D: number): void;
  startTokenBackward(dh: F, de: Opt, dtoken: Opt, B: number, T: number, D: number): void;
  meanPool(h: F, z: F, B: number, S: number, D: number): void;
  meanPoolBackward(dz: F, dh: F, B: number, S: number, D: number): void;

  relu(x: F, y: F, n: number): void;
  reluBackward(dy: F, y: F, dx: F, n: number): void;
  gelu(x: F, y: F, n: number): void;
  geluBackward(dy: F, x: F, dx: F, n: number): void;
  dropout(x: F, y: F, n: number, p: number, seed: number, step: number, site: number): void;
  dropoutBackward(dy: F, dx: F, n: number, p: number, seed: number, step: number, site: number): void;
  add(a: F, b: F, y: F, n: number): void;
  accumulate(src: F, dst: F, alpha: number, n: number): void;
  scale(x: F, s: number, n: number): void;
  gradReverse(dy: F, dx: F, lambda: number, n: number): void;

  ropeAttention(
    q: F, k: F, v: F, out: F, lse: F, B: number, S: number, D: number, H: number,
    p: number, seed: number, step: number, site: number,
  ): void;
  ropeAttentionBackward(
    dout: F, q: F, k: F, v: F, out: F, lse: F, dq: F, dk: F, dv: F, B: number, S: number, D: number, H: number,
    p: number, seed: number, step: number, site: number,
  ): void;

  hrLoss(
    out: F, hr: F, w: F, group: F, lambda: number, eps: number,
    pred: F, sampleLoss: F, loss: F, groupLossSum: F, groupCount: F, B: number, G: number,
  ): void;
  hrLossBackward(out: F, hr: F, w: F, lambda: number, eps: number, dout: F, scale: number, B: number): void;
  nextPatchNll(params: F, x: F, eps: number, loss: F, B: number, S: number, T: number, P: number): void;
  nextPatchNllBackward(params: F, x: F, eps: number, dparams: F, scale: number, B: number, S: number, T: number, P: number): void;
  bceWithLogits(logits: F, targets: F, loss: F, n: number): void;
  bceWithLogitsBackward(logits: F, targets: F, dlogits: F, scale: number, n: number): void;

  groupDroUpdate(q: F, groupLossSum: F, groupCount: F, eta: number, group: F, w: F, G: number, B: number): void;
  adamw(
    param: F, grad: F, m: F, v: F, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
    step: number, n: number,
  ): void;
  sumSquares(arrays: readonly F[]): number;
}

/** Every function the TypeScript side relies on: a stale build missing one is reported as unavailable. */
export const NATIVE_FUNCTIONS: readonly (keyof NativeAddon)[] = [
  'info', 'setIsa', 'setThreads', 'setComputeMode', 'setBf16Amx', 'linear', 'linearBackward', 'rmsNorm', 'rmsNormBackward', 'layerNorm',
  'layerNormBackward', 'startToken', 'startTokenBackward', 'meanPool', 'meanPoolBackward', 'relu', 'reluBackward',
  'gelu', 'geluBackward', 'dropout', 'dropoutBackward', 'add', 'accumulate', 'scale', 'gradReverse',
  'ropeAttention', 'ropeAttentionBackward', 'hrLoss', 'hrLossBackward', 'nextPatchNll', 'nextPatchNllBackward',
  'bceWithLogits', 'bceWithLogitsBackward', 'groupDroUpdate', 'adamw', 'sumSquares',
];
