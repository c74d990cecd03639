// The op methods shared by the native backends (cpu: host Float32Arrays; cuda and cuda-emu: device views).
// Each op runs the engine's shared argument checks (./op-checks.ts, the same as every backend's) and makes one
// call into the addon, which validates again before touching memory. A backend supplies its memory manager,
// how a tensor becomes the addon's view, and the addon itself.
import type { AdamWOptions, AttentionDropout, Backend, BackendStats, DropoutKey, HrLossOptions } from './backend';
import { checkNumber, checkTensor } from './check';
import type { NativeOpsApi } from './native-ops-api';
import * as check from './op-checks';
import type { Tensor } from './tensor';

/** The memory half of a backend (HostStorage, DeviceStorage). */
export interface TensorMemory {
  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor;
  view(t: Tensor, shape: readonly number[]): Tensor;
  slice0(t: Tensor, start: number, count: number): Tensor;
  upload(t: Tensor, data: Float32Array): void;
  download(t: Tensor): Float32Array;
  zero(t: Tensor): void;
  copy(src: Tensor, dst: Tensor): void;
  dispose(t: Tensor): void;
  stats(): BackendStats;
}

/** The addon's dropout arguments (p, seed, step, site); no dropout is p = 0. */
function dropArgs(d: AttentionDropout | undefined): [number, number, number, number] {
  return d === undefined ? [0, 0, 0, 0] : [d.p, d.key.seed, d.key.step, d.key.site];
}

export abstract class NativeOpsBackend<V> implements Backend {
  abstract readonly name: string;
  abstract readonly description: string;
  protected abstract readonly native: NativeOpsApi<V>;
  protected abstract readonly memory: TensorMemory;
  /** The addon's view of a tensor's storage. */
  protected abstract v(t: Tensor): V;

  protected vn(t: Tensor | null): V | null {
    return t === null ? null : this.v(t);
  }

  // ---- memory ----
  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor {
    return this.memory.tensor(shape, init);
  }
  view(t: Tensor, shape: readonly number[]): Tensor {
    return this.memory.view(t, shape);
  }
  slice0(t: Tensor, start: number, count: number): Tensor {
    return this.memory.slice0(t, start, count);
  }
  upload(t: Tensor, data: Float32Array): void {
    this.memory.upload(t, data);
  }
  download(t: Tensor): Float32Array {
    return this.memory.download(t);
  }
  zero(t: Tensor): void {
    this.memory.zero(t);
  }
  copy(src: Tensor, dst: Tensor): void {
    this.memory.copy(src, dst);
  }
  dispose(t: Tensor): void {
    this.memory.dispose(t);
  }
  stats(): BackendStats {
    return this.memory.stats();
  }

  // ---- layers ----

  linear(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): void {
    const { N, K, M } = check.linear(this.name, x, w, b, y);
    this.native.linear(this.v(x), this.v(w), this.vn(b), this.v(y), N, K, M);
  }

  linearBackward(dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null): void {
    const { N, K, M } = check.linearBackward(this.name, dy, x, w, dx, dw, db);
    this.native.linearBackward(this.v(dy), this.v(x), this.v(w), this.vn(dx), this.vn(dw), this.vn(db), N, K, M);
  }

  /** x[B, T·P] as [B·T, P] through the GEMM. */
  patchEmbed(x: Tensor, w: Tensor, b: Tensor, e: Tensor): void {
    const { N, K, M } = check.patchEmbed(this.name, x, w, b, e);
    this.native.linear(this.v(x), this.v(w), this.v(b), this.v(e), N, K, M);
  }

  patchEmbedBackward(de: Tensor, x: Tensor, w: Tensor, dw: Tensor, db: Tensor, dx: Tensor | null): void {
    const { N, K, M } = check.patchEmbedBackward(this.name, de, x, w, dw, db, dx);
    this.native.linearBackward(this.v(de), this.v(x), this.v(w), this.vn(dx), this.v(dw), this.v(db), N, K, M);
  }

  startToken(e: Tensor, token: Tensor, h: Tensor): void {
    const { B, T, D } = check.startToken(this.name, e, token, h);
    this.native.startToken(this.v(e), this.v(token), this.v(h), B, T, D);
  }

  startTokenBackward(dh: Tensor, de: Tensor | null, dtoken: Tensor | null): void {
    const { B, T, D } = check.startTokenBackward(this.name, dh, de, dtoken);
    this.native.startTokenBackward(this.v(dh), this.vn(de), this.vn(dtoken), B, T, D);
  }

  rmsNorm(x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor): void {
    const { N, D } = check.rmsNorm(this.name, x, scale, eps, y, rstd);
    this.native.rmsNorm(this.v(x), this.v(scale), eps, this.v(y), this.v(rstd), N, D);
  }

  rmsNormBackward(dy: Tensor, x: Tensor, scale: Tensor, rstd: Tensor, dx: Tensor, dscale: Tensor | null): void {
    const { N, D } = check.rmsNormBackward(this.name, dy, x, scale, rstd, dx, dscale);
    this.native.rmsNormBackward(this.v(dy), this.v(x), this.v(scale), this.v(rstd), this.v(dx), this.vn(dscale), N, D);
  }

  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number, y: Tensor, mean: Tensor, rstd: Tensor): void {
    const { N, C } = check.layerNorm(this.name, x, gamma, beta, eps, y, mean, rstd);
    this.native.layerNorm(this.v(x), this.v(gamma), this.v(beta), eps, this.v(y), this.v(mean), this.v(rstd), N, C);
  }

  layerNormBackward(
    dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor,
    dx: Tensor, dgamma: Tensor | null, dbeta: Tensor | null,
  ): void {
    const { N, C } = check.layerNormBackward(this.name, dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
    this.native.layerNormBackward(
      this.v(dy), this.v(x), this.v(gamma), this.v(mean), this.v(rstd), this.v(dx), this.vn(dgamma), this.vn(dbeta), N, C,
    );
  }

  // Elementwise ops skip the native call on empty tensors (nothing to do; some addons refuse 0-length views).
  relu(x: Tensor, y: Tensor): void {
    const n = check.sameShape('relu', this.name, [['x', x], ['y', y]]);
    if (n > 0) this.native.relu(this.v(x), this.v(y), n);
  }

  reluBackward(dy: Tensor, y: Tensor, dx: Tensor): void {
    const n = check.sameShape('reluBackward', this.name, [['dy', dy], ['y', y], ['dx', dx]]);
    if (n > 0) this.native.reluBackward(this.v(dy), this.v(y), this.v(dx), n);
  }

  gelu(x: Tensor, y: Tensor): void {
    const n = check.sameShape('gelu', this.name, [['x', x], ['y', y]]);
    if (n > 0) this.native.gelu(this.v(x), this.v(y), n);
  }

  geluBackward(dy: Tensor, x: Tensor, dx: Tensor): void {
    const n = check.sameShape('geluBackward', this.name, [['dy', dy], ['x', x], ['dx', dx]]);
    if (n > 0) this.native.geluBackward(this.v(dy), this.v(x), this.v(dx), n);
  }

  dropout(x: Tensor, y: Tensor, p: number, key: DropoutKey): void {
    const n = check.dropout(this.name, 'dropout', ['x', x], ['y', y], p, key);
    if (n > 0) this.native.dropout(this.v(x), this.v(y), n, p, key.seed, key.step, key.site);
  }

  dropoutBackward(dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void {
    const n = check.dropout(this.name, 'dropoutBackward', ['dy', dy], ['dx', dx], p, key);
    if (n > 0) this.native.dropoutBackward(this.v(dy), this.v(dx), n, p, key.seed, key.step, key.site);
  }

  ropeAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, out: Tensor, lse: Tensor, dropout?: AttentionDropout): void {
    const { B, S, D, H } = check.ropeAttention(this.name, q, k, v, heads, out, lse, dropout);
    this.native.ropeAttention(this.v(q), this.v(k), this.v(v), this.v(out), this.v(lse), B, S, D, H, ...dropArgs(dropout));
  }

  ropeAttentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, heads: number,
    dq: Tensor, dk: Tensor, dv: Tensor, dropout?: AttentionDropout,
  ): void {
    const { B, S, D, H } = check.ropeAttentionBackward(this.name, dout, q, k, v, out, lse, heads, dq, dk, dv, dropout);
    this.native.ropeAttentionBackward(
      this.v(dout), this.v(q), this.v(k), this.v(v), this.v(out), this.v(lse), this.v(dq), this.v(dk), this.v(dv), B, S, D, H,
      ...dropArgs(dropout),
    );
  }

  add(a: Tensor, b: Tensor, y: Tensor): void {
    const n = check.sameShape('add', this.name, [['a', a], ['b', b], ['y', y]]);
    if (n > 0) this.native.add(this.v(a), this.v(b), this.v(y), n);
  }

  accumulate(src: Tensor, dst: Tensor, alpha = 1): void {
    const n = check.sameShape('accumulate', this.name, [['src', src], ['dst', dst]]);
    checkNumber('accumulate', 'alpha', alpha);
    if (n > 0) this.native.accumulate(this.v(src), this.v(dst), alpha, n);
  }

  scale(x: Tensor, s: number): void {
    checkTensor('scale', 'x', x, this.name);
    checkNumber('scale', 's', s);
    if (x.size > 0) this.native.scale(this.v(x), s, x.size);
  }

  meanPool(h: Tensor, z: Tensor): void {
    const { B, S, D } = check.meanPool(this.name, h, z);
    this.native.meanPool(this.v(h), this.v(z), B, S, D);
  }

  meanPoolBackward(dz: Tensor, dh: Tensor): void {
    const { B, S, D } = check.meanPoolBackward(this.name, dz, dh);
    this.native.meanPoolBackward(this.v(dz), this.v(dh), B, S, D);
  }

  gradReverse(dy: Tensor, dx: Tensor, lambda: number): void {
    const n = check.sameShape('gradReverse', this.name, [['dy', dy], ['dx', dx]]);
    checkNumber('gradReverse', 'lambda', lambda, { min: 0 });
    if (n > 0) this.native.gradReverse(this.v(dy), this.v(dx), lambda, n);
  }

  // ---- losses (label, weight and group-id values are validated natively) ----

  hrLoss(
    out: Tensor, hr: Tensor, w: Tensor, group: Tensor, opts: HrLossOptions,
    pred: Tensor, sampleLoss: Tensor, loss: Tensor, groupLossSum: Tensor, groupCount: Tensor,
  ): void {
    const { B, G } = check.hrLoss(this.name, out, hr, w, group, opts, pred, sampleLoss, loss, groupLossSum, groupCount);
    this.native.hrLoss(
      this.v(out), this.v(hr), this.v(w), this.v(group), opts.lambda, opts.eps,
      this.v(pred), this.v(sampleLoss), this.v(loss), this.v(groupLossSum), this.v(groupCount), B, G,
    );
  }

  hrLossBackward(out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number): void {
    const { B } = check.hrLossBackward(this.name, out, hr, w, opts, dout, scale);
    this.native.hrLossBackward(this.v(out), this.v(hr), this.v(w), opts.lambda, opts.eps, this.v(dout), scale, B);
  }

  nextPatchNll(params: Tensor, x: Tensor, eps: number, loss: Tensor): void {
    const { B, S, T, P } = check.nextPatchNll(this.name, params, x, eps, loss);
    this.native.nextPatchNll(this.v(params), this.v(x), eps, this.v(loss), B, S, T, P);
  }

  nextPatchNllBackward(params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void {
    const { B, S, T, P } = check.nextPatchNllBackward(this.name, params, x, eps, dparams, scale);
    this.native.nextPatchNllBackward(this.v(params), this.v(x), eps, this.v(dparams), scale, B, S, T, P);
  }

  bceWithLogits(logits: Tensor, targets: Tensor, loss: Tensor): void {
    const n = check.bceWithLogits(this.name, logits, targets, loss);
    this.native.bceWithLogits(this.v(logits), this.v(targets), this.v(loss), n);
  }

  bceWithLogitsBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void {
    const n = check.bceWithLogitsBackward(this.name, logits, targets, dlogits, scale);
    this.native.bceWithLogitsBackward(this.v(logits), this.v(targets), this.v(dlogits), scale, n);
  }

  // ---- fairness and optimisation ----

  groupDroUpdate(q: Tensor, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, w: Tensor): void {
    const { G, B } = check.groupDroUpdate(this.name, q, groupLossSum, groupCount, eta, group, w);
    this.native.groupDroUpdate(this.v(q), this.v(groupLossSum), this.v(groupCount), eta, this.v(group), this.v(w), G, B);
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
    const n = check.adamw(this.name, param, grad, m, v, opts);
    if (n > 0) {
      this.native.adamw(this.v(param), this.v(grad), this.v(m), this.v(v), opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weightDecay, opts.step, n);
    }
  }

  sumSquares(tensors: readonly Tensor[]): number {
    check.sumSquares(this.name, tensors);
    return this.native.sumSquares(tensors.filter((t) => t.size > 0).map((t) => this.v(t)));
  }
}
