// The op functions every native addon exposes (cpu: host Float32Arrays; cuda, cuda-emu: device views),
// with the same argument order and dims, so one TypeScript class (native-ops.ts) drives them all. Each
// validates natively and throws "<addon>.<op>: …" on bad input. Dropout arguments are (p, seed, step, site);
// p = 0 is no dropout.
export interface NativeOpsApi<F> {
  linear(x: F, w: F, b: F | null, y: F, N: number, K: number, M: number): void;
  linearBackward(dy: F, x: F, w: F, dx: F | null, dw: F | null, db: F | null, N: number, K: number, M: number): void;
  rmsNorm(x: F, scale: F, eps: number, y: F, rstd: F, N: number, D: number): void;
  rmsNormBackward(dy: F, x: F, scale: F, rstd: F, dx: F, dscale: F | null, N: number, D: number): void;
  layerNorm(x: F, gamma: F, beta: F, eps: number, y: F, mean: F, rstd: F, N: number, C: number): void;
  layerNormBackward(dy: F, x: F, gamma: F, mean: F, rstd: F, dx: F, dgamma: F | null, dbeta: F | null, N: number, C: number): void;
  startToken(e: F, token: F, h: F, B: number, T: number, D: number): void;
  startTokenBackward(dh: F, de: F | null, dtoken: F | null, B: number, T: number, D: number): void;
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
