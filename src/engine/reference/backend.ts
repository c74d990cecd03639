// The reference backend: plain TypeScript over host Float32Arrays, float64 accumulation (JS numbers), no
// tiling, no threads. It is the oracle every other backend is compared with, so it favours the obvious
// formula over speed, validates every argument before touching memory, and recomputes rather than trusts
// saved intermediates where it can. The math lives in one module per op family (on plain typed arrays so
// the float64 gradient checks run the very same code); this class checks arguments and dispatches.
import type { AdamWOptions, AttentionDropout, Backend, DropoutKey, HrLossOptions } from '../backend';
import { OpError, checkNumber, checkTensor } from '../check';
import { HostStorage, hostData } from '../host-storage';
import * as check from '../op-checks';
import { Tensor } from '../tensor';
import { geluBackward, geluForward, reluBackward, reluForward } from './activation';
import { ropeAttentionBackward, ropeAttentionForward } from './attention';
import { bceWithLogitsBackward, bceWithLogitsForward } from './bce';
import { dropoutBackward, dropoutForward } from './dropout';
import { accumulateInto, addForward, scaleInPlace } from './elementwise';
import { groupDroUpdate } from './groupdro';
import { hrLossBackward, hrLossForward } from './hr-loss';
import { linearBackward, linearForward } from './linear';
import { nextPatchNllBackward, nextPatchNllForward } from './next-patch';
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from './norm';
import { adamwStep, sumSquares } from './optim';
import { meanPoolBackward, meanPoolForward, startTokenBackward, startTokenForward } from './sequence';
import { checkGroupIds, checkValues } from './validate';

const d = hostData;
const dn = (t: Tensor | null): Float32Array | null => (t === null ? null : hostData(t));

export class ReferenceBackend extends HostStorage implements Backend {
  readonly name = 'reference';
  readonly description = 'pure TypeScript, float64 accumulation, single thread (the oracle)';

  // ---- layers ----

  linear(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): void {
    const { N, K, M } = check.linear(this.name, x, w, b, y);
    linearForward(d(x), d(w), dn(b), d(y), N, K, M);
  }

  linearBackward(dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null): void {
    const { N, K, M } = check.linearBackward(this.name, dy, x, w, dx, dw, db);
    linearBackward(d(dy), d(x), d(w), dn(dx), dn(dw), dn(db), N, K, M);
  }

  patchEmbed(x: Tensor, w: Tensor, b: Tensor, e: Tensor): void {
    const { N, K, M } = check.patchEmbed(this.name, x, w, b, e);
    linearForward(d(x), d(w), d(b), d(e), N, K, M);
  }

  patchEmbedBackward(de: Tensor, x: Tensor, w: Tensor, dw: Tensor, db: Tensor, dx: Tensor | null): void {
    const { N, K, M } = check.patchEmbedBackward(this.name, de, x, w, dw, db, dx);
    linearBackward(d(de), d(x), d(w), dn(dx), d(dw), d(db), N, K, M);
  }

  startToken(e: Tensor, token: Tensor, h: Tensor): void {
    const { B, T, D } = check.startToken(this.name, e, token, h);
    startTokenForward(d(e), d(token), d(h), B, T, D);
  }

  startTokenBackward(dh: Tensor, de: Tensor | null, dtoken: Tensor | null): void {
    const { B, T, D } = check.startTokenBackward(this.name, dh, de, dtoken);
    startTokenBackward(d(dh), dn(de), dn(dtoken), B, T, D);
  }

  rmsNorm(x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor): void {
    const { N, D } = check.rmsNorm(this.name, x, scale, eps, y, rstd);
    rmsNormForward(d(x), d(scale), eps, d(y), d(rstd), N, D);
  }

  rmsNormBackward(dy: Tensor, x: Tensor, scale: Tensor, rstd: Tensor, dx: Tensor, dscale: Tensor | null): void {
    const { N, D } = check.rmsNormBackward(this.name, dy, x, scale, rstd, dx, dscale);
    rmsNormBackward(d(dy), d(x), d(scale), d(rstd), d(dx), dn(dscale), N, D);
  }

  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number, y: Tensor, mean: Tensor, rstd: Tensor): void {
    const { N, C } = check.layerNorm(this.name, x, gamma, beta, eps, y, mean, rstd);
    layerNormForward(d(x), d(gamma), d(beta), eps, d(y), d(mean), d(rstd), N, C);
  }

  layerNormBackward(
    dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor,
    dx: Tensor, dgamma: Tensor | null, dbeta: Tensor | null,
  ): void {
    const { N, C } = check.layerNormBackward(this.name, dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
    layerNormBackward(d(dy), d(x), d(gamma), d(mean), d(rstd), d(dx), dn(dgamma), dn(dbeta), N, C);
  }

  relu(x: Tensor, y: Tensor): void {
    check.requireSameShape('relu', this.name, [['x', x], ['y', y]]);
    reluForward(d(x), d(y));
  }

  reluBackward(dy: Tensor, y: Tensor, dx: Tensor): void {
    check.requireSameShape('reluBackward', this.name, [['dy', dy], ['y', y], ['dx', dx]]);
    reluBackward(d(dy), d(y), d(dx));
  }

  gelu(x: Tensor, y: Tensor): void {
    check.requireSameShape('gelu', this.name, [['x', x], ['y', y]]);
    geluForward(d(x), d(y));
  }

  geluBackward(dy: Tensor, x: Tensor, dx: Tensor): void {
    check.requireSameShape('geluBackward', this.name, [['dy', dy], ['x', x], ['dx', dx]]);
    geluBackward(d(dy), d(x), d(dx));
  }

  dropout(x: Tensor, y: Tensor, p: number, key: DropoutKey): void {
    check.dropout(this.name, 'dropout', ['x', x], ['y', y], p, key);
    dropoutForward(d(x), d(y), p, key);
  }

  dropoutBackward(dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void {
    check.dropout(this.name, 'dropoutBackward', ['dy', dy], ['dx', dx], p, key);
    dropoutBackward(d(dy), d(dx), p, key);
  }

  ropeAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, out: Tensor, lse: Tensor, dropout?: AttentionDropout): void {
    const shape = check.ropeAttention(this.name, q, k, v, heads, out, lse, dropout);
    ropeAttentionForward(d(q), d(k), d(v), shape, d(out), d(lse), dropout);
  }

  ropeAttentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, heads: number,
    dq: Tensor, dk: Tensor, dv: Tensor, dropout?: AttentionDropout,
  ): void {
    const shape = check.ropeAttentionBackward(this.name, dout, q, k, v, out, lse, heads, dq, dk, dv, dropout);
    // The oracle recomputes the probabilities from q and k; out and lse are checked for shape only.
    ropeAttentionBackward(d(dout), d(q), d(k), d(v), shape, d(dq), d(dk), d(dv), dropout);
  }

  add(a: Tensor, b: Tensor, y: Tensor): void {
    check.requireSameShape('add', this.name, [['a', a], ['b', b], ['y', y]]);
    addForward(d(a), d(b), d(y));
  }

  accumulate(src: Tensor, dst: Tensor, alpha = 1): void {
    check.requireSameShape('accumulate', this.name, [['src', src], ['dst', dst]]);
    checkNumber('accumulate', 'alpha', alpha);
    accumulateInto(d(src), d(dst), alpha);
  }

  scale(x: Tensor, s: number): void {
    checkTensor('scale', 'x', x, this.name);
    checkNumber('scale', 's', s);
    scaleInPlace(d(x), s);
  }

  meanPool(h: Tensor, z: Tensor): void {
    const { B, S, D } = check.meanPool(this.name, h, z);
    meanPoolForward(d(h), d(z), B, S, D);
  }

  meanPoolBackward(dz: Tensor, dh: Tensor): void {
    const { B, S, D } = check.meanPoolBackward(this.name, dz, dh);
    meanPoolBackward(d(dz), d(dh), B, S, D);
  }

  gradReverse(dy: Tensor, dx: Tensor, lambda: number): void {
    check.requireSameShape('gradReverse', this.name, [['dy', dy], ['dx', dx]]);
    checkNumber('gradReverse', 'lambda', lambda, { min: 0 });
    accumulateInto(d(dy), d(dx), -lambda);
  }

  // ---- losses ----

  /** Weights are finite, non-negative and not all zero (Σ w is the loss's denominator). */
  private checkWeights(op: string, w: Tensor): void {
    checkValues(op, 'w', d(w), 0);
    let sum = 0;
    for (const x of d(w)) sum += x;
    if (!(sum > 0)) throw new OpError(op, `w [${w.shape.join(', ')}] sums to ${sum}; Σ w must be > 0`);
  }

  hrLoss(
    out: Tensor, hr: Tensor, w: Tensor, group: Tensor, opts: HrLossOptions,
    pred: Tensor, sampleLoss: Tensor, loss: Tensor, groupLossSum: Tensor, groupCount: Tensor,
  ): void {
    const op = 'hrLoss';
    const { B, G } = check.hrLoss(this.name, out, hr, w, group, opts, pred, sampleLoss, loss, groupLossSum, groupCount);
    checkValues(op, 'hr', d(hr));
    this.checkWeights(op, w);
    checkGroupIds(op, 'group', d(group), G);
    hrLossForward(d(out), d(hr), d(w), d(group), B, G, opts, d(pred), d(sampleLoss), d(loss), d(groupLossSum), d(groupCount));
  }

  hrLossBackward(out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number): void {
    const op = 'hrLossBackward';
    const { B } = check.hrLossBackward(this.name, out, hr, w, opts, dout, scale);
    checkValues(op, 'hr', d(hr));
    this.checkWeights(op, w);
    hrLossBackward(d(out), d(hr), d(w), B, opts, d(dout), scale);
  }

  nextPatchNll(params: Tensor, x: Tensor, eps: number, loss: Tensor): void {
    const shape = check.nextPatchNll(this.name, params, x, eps, loss);
    checkValues('nextPatchNll', 'x', d(x));
    nextPatchNllForward(d(params), d(x), shape, eps, d(loss));
  }

  nextPatchNllBackward(params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void {
    const shape = check.nextPatchNllBackward(this.name, params, x, eps, dparams, scale);
    checkValues('nextPatchNllBackward', 'x', d(x));
    nextPatchNllBackward(d(params), d(x), shape, eps, d(dparams), scale);
  }

  bceWithLogits(logits: Tensor, targets: Tensor, loss: Tensor): void {
    check.bceWithLogits(this.name, logits, targets, loss);
    checkValues('bceWithLogits', 'targets', d(targets), 0, 1);
    bceWithLogitsForward(d(logits), d(targets), d(loss));
  }

  bceWithLogitsBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void {
    check.bceWithLogitsBackward(this.name, logits, targets, dlogits, scale);
    checkValues('bceWithLogitsBackward', 'targets', d(targets), 0, 1);
    bceWithLogitsBackward(d(logits), d(targets), d(dlogits), scale);
  }

  // ---- fairness and optimisation ----

  groupDroUpdate(q: Tensor, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, w: Tensor): void {
    const op = 'groupDroUpdate';
    const { G, B } = check.groupDroUpdate(this.name, q, groupLossSum, groupCount, eta, group, w);
    checkValues(op, 'q', d(q), 0);
    let qsum = 0;
    for (const x of d(q)) qsum += x;
    if (!(qsum > 0)) throw new OpError(op, `q [${q.shape.join(', ')}] sums to ${qsum}; it must hold a distribution`);
    checkValues(op, 'groupLossSum', d(groupLossSum));
    const counts = d(groupCount);
    for (let g = 0; g < G; g++) {
      if (!Number.isInteger(counts[g]) || counts[g] < 0) throw new OpError(op, `groupCount[${g}] = ${counts[g]} is not a non-negative integer`);
    }
    const ids = d(group);
    checkGroupIds(op, 'group', ids, G);
    for (let i = 0; i < ids.length; i++) {
      if (counts[ids[i]] === 0) throw new OpError(op, `group[${i}] = ${ids[i]} but groupCount[${ids[i]}] is 0`);
    }
    groupDroUpdate(d(q), d(groupLossSum), counts, eta, ids, d(w), G, B);
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
    check.adamw(this.name, param, grad, m, v, opts);
    adamwStep(d(param), d(grad), d(m), d(v), opts);
  }

  sumSquares(tensors: readonly Tensor[]): number {
    check.sumSquares(this.name, tensors);
    return sumSquares(tensors.map((t) => d(t)));
  }
}
