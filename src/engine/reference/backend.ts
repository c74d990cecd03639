// The reference backend: plain TypeScript over host Float32Arrays, float64 accumulation (JS numbers), no
// tiling, no threads. It is the oracle every other backend is compared with, so it favours the obvious
// formula over speed and recomputes rather than trusts saved intermediates where it can. The math lives in
// one module per op family (on plain typed arrays so the float64 gradient checks run the very same code);
// the argument checks are the op table's, as for every backend (../table-backend.ts), and this class only
// maps each op to its math.
import { NamedHostStorage, hostData } from '../host-storage';
import { TableBackend, type Kernels } from '../table-backend';
import { Tensor } from '../tensor';
import { geluBackward, geluForward, reluBackward, reluForward } from './activation';
import { ropeAttentionBackward, ropeAttentionForward } from './attention';
import { bceWithLogitsBackward, bceWithLogitsForward } from './bce';
import { dropoutBackward, dropoutForward } from './dropout';
import { accumulateInto, addForward, scaleInPlace } from './elementwise';
import { groupDroUpdate } from './groupdro';
import { groupLossReweight } from './group-reweight';
import { hrLossBackward, hrLossForward } from './hr-loss';
import { linearBackward, linearFanoutBackward, linearFanoutForward, linearForward } from './linear';
import { nextPatchNllBackward, nextPatchNllForward } from './next-patch';
import { layerNormBackward, layerNormForward, rmsNormBackward, rmsNormForward } from './norm';
import { adamwStep, clippedScale, globalNorm, sumSquares } from './optim';
import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from './softmax-ce';
import { meanPoolBackward, meanPoolForward, startTokenBackward, startTokenForward } from './sequence';

const d = hostData;
const dn = (t: Tensor | null): Float32Array | null => (t === null ? null : hostData(t));
type Shape4 = { B: number; S: number; H: number; D: number };
type PatchShape = { B: number; S: number; T: number; P: number };

const KERNELS: Kernels = {
  linear: ({ N, K, M }, x, w, b, y, relu, dropout, residual) => {
    linearForward(d(x), d(w), dn(b), d(y), N, K, M);
    if (relu === true) reluForward(d(y), d(y));
    if (dropout !== undefined && dropout.p > 0) dropoutForward(d(y), d(y), dropout.p, dropout.key);
    if (residual !== undefined && residual !== null) addForward(d(residual), d(y), d(y));
  },
  linearBackward: ({ N, K, M }, dy, x, w, dx, dw, db, overwriteDx, reluOf, overwriteDw, reluScale) =>
    linearBackward(d(dy), d(x), d(w), dn(dx), dn(dw), dn(db), N, K, M, overwriteDx ?? false, dn(reluOf ?? null), overwriteDw ?? false,
      reluScale ?? 1),
  linearFanout: ({ G, N, K, M }, x, w, b, y) => linearFanoutForward(d(x), d(w), dn(b), d(y), G, N, K, M),
  linearFanoutBackward: ({ G, N, K, M }, dy, x, w, dx, dw, db, overwriteDx, overwriteDw) =>
    linearFanoutBackward(d(dy), d(x), d(w), dn(dx), dn(dw), dn(db), G, N, K, M, overwriteDx ?? false, overwriteDw ?? false),
  patchEmbed: ({ B, T, P, D }, x, w, b, e) => linearForward(d(x), d(w), d(b), d(e), B * T, P, D),
  patchEmbedBackward: ({ B, T, P, D }, de, x, w, dw, db, dx) => linearBackward(d(de), d(x), d(w), dn(dx), d(dw), d(db), B * T, P, D),
  startToken: ({ B, T, D }, e, token, h) => startTokenForward(d(e), d(token), d(h), B, T, D),
  startTokenBackward: ({ B, T, D }, dh, de, dtoken) => startTokenBackward(d(dh), dn(de), dn(dtoken), B, T, D),
  rmsNorm: ({ N, D }, x, scale, eps, y, rstd) => rmsNormForward(d(x), d(scale), eps, d(y), d(rstd), N, D),
  rmsNormBackward: ({ N, D }, dy, x, scale, rstd, dx, dscale) => rmsNormBackward(d(dy), d(x), d(scale), d(rstd), d(dx), dn(dscale), N, D),
  layerNorm: ({ N, C }, x, gamma, beta, eps, y, mean, rstd) => layerNormForward(d(x), d(gamma), d(beta), eps, d(y), d(mean), d(rstd), N, C),
  layerNormBackward: ({ N, C }, dy, x, gamma, mean, rstd, dx, dgamma, dbeta) =>
    layerNormBackward(d(dy), d(x), d(gamma), d(mean), d(rstd), d(dx), dn(dgamma), dn(dbeta), N, C),
  relu: (_, x, y) => reluForward(d(x), d(y)),
  reluBackward: (_, dy, y, dx) => reluBackward(d(dy), d(y), d(dx)),
  gelu: (_, x, y) => geluForward(d(x), d(y)),
  geluBackward: (_, dy, x, dx) => geluBackward(d(dy), d(x), d(dx)),
  dropout: (_, x, y, p, key) => dropoutForward(d(x), d(y), p, key),
  dropoutBackward: (_, dy, dx, p, key) => dropoutBackward(d(dy), d(dx), p, key),
  ropeAttention: (dims, q, k, v, _heads, out, lse, dropout) =>
    ropeAttentionForward(d(q), d(k), d(v), dims as Shape4, d(out), d(lse), dropout),
  // The oracle recomputes the probabilities from q and k; out and lse are checked for shape only, and the
  // reserve (kept only by backends that use one) is left untouched in both directions.
  ropeAttentionBackward: (dims, dout, q, k, v, _out, _lse, _heads, dq, dk, dv, dropout, overwrite) =>
    ropeAttentionBackward(d(dout), d(q), d(k), d(v), dims as Shape4, d(dq), d(dk), d(dv), dropout, overwrite ?? false),
  add: (_, a, b, y, dropout) => {
    if (dropout === undefined || dropout.p === 0) {
      addForward(d(a), d(b), d(y));
      return;
    }
    const dropped = new Float64Array(d(b).length);
    dropoutForward(d(b), dropped, dropout.p, dropout.key);
    addForward(d(a), dropped, d(y));
  },
  accumulate: (_, src, dst, alpha = 1) => accumulateInto(d(src), d(dst), alpha),
  scale: (_, x, s) => scaleInPlace(d(x), s),
  meanPool: ({ B, S, D }, h, z) => meanPoolForward(d(h), d(z), B, S, D),
  meanPoolBackward: ({ B, S, D }, dz, dh) => meanPoolBackward(d(dz), d(dh), B, S, D),
  gradReverse: (_, dy, dx, lambda) => accumulateInto(d(dy), d(dx), -lambda),
  hrLoss: ({ B, G }, out, hr, w, group, opts, pred, sampleLoss, loss, groupLossSum, groupCount) =>
    hrLossForward(d(out), d(hr), d(w), d(group), B, G, opts, d(pred), d(sampleLoss), d(loss), d(groupLossSum), d(groupCount)),
  hrLossBackward: ({ B }, out, hr, w, opts, dout, scale) => hrLossBackward(d(out), d(hr), d(w), B, opts, d(dout), scale),
  nextPatchNll: (dims, params, x, eps, loss) => nextPatchNllForward(d(params), d(x), dims as PatchShape, eps, d(loss)),
  nextPatchNllBackward: (dims, params, x, eps, dparams, scale) =>
    nextPatchNllBackward(d(params), d(x), dims as PatchShape, eps, d(dparams), scale),
  bceWithLogits: (_, logits, targets, loss) => bceWithLogitsForward(d(logits), d(targets), d(loss)),
  bceWithLogitsBackward: (_, logits, targets, dlogits, scale) => bceWithLogitsBackward(d(logits), d(targets), d(dlogits), scale),
  softmaxCrossEntropy: ({ N, C }, logits, targets, loss) => softmaxCrossEntropyForward(d(logits), d(targets), d(loss), N, C),
  softmaxCrossEntropyBackward: ({ N, C }, logits, targets, dlogits, scale) =>
    softmaxCrossEntropyBackward(d(logits), d(targets), d(dlogits), scale, N, C),
  groupDroUpdate: ({ G, B }, q, groupLossSum, groupCount, eta, group, w) =>
    groupDroUpdate(d(q), d(groupLossSum), d(groupCount), eta, d(group), d(w), G, B),
  groupLossReweight: ({ G, B }, groupLossSum, groupCount, eta, group, gw, w) =>
    groupLossReweight(d(groupLossSum), d(groupCount), eta, d(group), d(gw), d(w), G, B),
  adamw: (_, param, grad, m, v, opts, norm) => {
    const scale = norm ? clippedScale(opts.gradScale ?? 1, opts.maxNorm ?? 0, d(norm)[0]) : (opts.gradScale ?? 1);
    if (scale !== null) adamwStep(d(param), d(grad), d(m), d(v), { ...opts, gradScale: scale });
  },
  sumSquares: (_, tensors) => sumSquares(tensors.map((t) => d(t))),
  oneHot: ({ G }, ids, out) => {
    const o = d(out), id = d(ids);
    o.fill(0);
    for (let i = 0; i < id.length; i++) o[i * G + id[i]] = 1;
  },
  globalNorm: (_, tensors, norm) => {
    d(norm)[0] = globalNorm(tensors.map((t) => d(t)));
  },
};

export class ReferenceBackend extends TableBackend {
  readonly name = 'reference';
  readonly description = 'pure TypeScript, float64 accumulation, single thread (the oracle)';
  protected readonly memory = new NamedHostStorage('reference');
  protected readonly kernels = KERNELS;

  protected hostValues(t: Tensor): Float32Array {
    return hostData(t);
  }
}
