// Every op rejects a wrong shape, a disposed tensor, a tensor of another backend and bad hyper-parameters
// with an Error whose message names the op and the offending argument.
import type { DropoutKey } from '../../src/engine/backend';
import { HostStorage } from '../../src/engine/host-storage';
import { OP_NAMES } from '../../src/engine/ops/op-table';
import { ReferenceBackend } from '../../src/engine/reference/backend';
import { Tensor } from '../../src/engine/tensor';

class OtherHostBackend extends HostStorage {
  readonly name = 'other';
}

const be = new ReferenceBackend();
const other = new OtherHostBackend();
const t = (...shape: number[]) => be.tensor(shape);
const filled = (shape: number[], v: number) => be.tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v));
const disposed = (...shape: number[]) => {
  const x = be.tensor(shape);
  be.dispose(x);
  return x;
};
const key: DropoutKey = { seed: 1, step: 0, site: 0 };
const hrOpts = { lambda: 1, eps: 0.1 };
const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };

// Valid operands reused across cases (B = 2, S = 3, D = 8, H = 2).
const q = () => t(2, 3, 8);
const lse = () => t(2, 2, 3);
const sq = t(2, 2);

type Case = [string, () => void, RegExp];
const cases: Case[] = [
  // linear
  ['linear x rank', () => be.linear(t(2, 3, 1), t(4, 3), null, t(2, 4)), /^linear: x must have shape \[N, K\], got \[2, 3, 1\]/],
  ['linear w K', () => be.linear(t(2, 3), t(4, 5), null, t(2, 4)), /^linear: w \[4, 5\] disagrees with x\[2, 3\] on K/],
  ['linear b size', () => be.linear(t(2, 3), t(4, 3), t(3), t(2, 4)), /^linear: b \[3\] disagrees with w\[4, 3\] on M/],
  ['linear y', () => be.linear(t(2, 3), t(4, 3), null, t(3, 4)), /^linear: y \[3, 4\] disagrees/],
  ['linear disposed x', () => be.linear(disposed(2, 3), t(4, 3), null, t(2, 4)), /^linear: x \[2, 3\] has been disposed/],
  ['linear other backend', () => be.linear(t(2, 3), other.tensor([4, 3]), null, t(2, 4)), /^linear: w lives on backend 'other'/],
  ['linear null x', () => be.linear(null as unknown as Tensor, t(4, 3), null, t(2, 4)), /^linear: x must be a Tensor/],
  ['linear y aliases x', () => be.linear(sq, t(2, 2), null, sq), /^linear: y and x must not be the same tensor/],
  ['linearBackward dw', () => be.linearBackward(t(2, 4), t(2, 3), t(4, 3), null, t(3, 4), null), /^linearBackward: dw \[3, 4\]/],
  ['linearBackward dx disposed', () => be.linearBackward(t(2, 4), t(2, 3), t(4, 3), disposed(2, 3), null, null), /^linearBackward: dx .*disposed/],
  // linearFanout: G linears sharing one input
  ['linearFanout x rank', () => be.linearFanout(t(2, 3, 1), t(2, 4, 3), null, t(2, 2, 4)), /^linearFanout: x must have shape \[N, K\], got \[2, 3, 1\]/],
  ['linearFanout w K', () => be.linearFanout(t(2, 3), t(2, 4, 5), null, t(2, 2, 4)), /^linearFanout: w \[2, 4, 5\] disagrees with x\[2, 3\] on K \(5 vs 3\)/],
  ['linearFanout b M', () => be.linearFanout(t(2, 3), t(2, 4, 3), t(2, 3), t(2, 2, 4)), /^linearFanout: b \[2, 3\] disagrees with w\[2, 4, 3\] on M/],
  ['linearFanout y G', () => be.linearFanout(t(2, 3), t(2, 4, 3), null, t(3, 2, 4)), /^linearFanout: y \[3, 2, 4\] disagrees with w\[2, 4, 3\] on G \(3 vs 2\)/],
  ['linearFanout disposed w', () => be.linearFanout(t(2, 3), disposed(2, 4, 3), null, t(2, 2, 4)), /^linearFanout: w \[2, 4, 3\] has been disposed/],
  ['linearFanoutBackward dw', () => be.linearFanoutBackward(t(2, 2, 4), t(2, 3), t(2, 4, 3), null, t(2, 3, 4), null, true, true), /^linearFanoutBackward: dw \[2, 3, 4\] disagrees with dy\[2, 2, 4\] on M/],
  ['linearFanoutBackward dx', () => be.linearFanoutBackward(t(2, 2, 4), t(2, 3), t(2, 4, 3), t(2, 4), null, null, true, true), /^linearFanoutBackward: dx \[2, 4\] disagrees with x\[2, 3\] on K/],
  ['linearFanoutBackward db', () => be.linearFanoutBackward(t(2, 2, 4), t(2, 3), t(2, 4, 3), null, null, t(2, 5), true, true), /^linearFanoutBackward: db \[2, 5\] disagrees with dy\[2, 2, 4\] on M/],
  ['linearFanoutBackward flag', () => be.linearFanoutBackward(t(2, 2, 4), t(2, 3), t(2, 4, 3), t(2, 3), null, null, 1 as unknown as boolean, true), /^linearFanoutBackward: overwriteDx must be true or false, got 1/],
  // patchEmbed
  ['patchEmbed x length', () => be.patchEmbed(t(2, 7), t(8, 4), t(8), t(2, 2, 8)), /^patchEmbed: x \[2, 7\] dim 1 must be T\*P = 8 \(T = 2, P = 4\), got 7/],
  ['patchEmbed b', () => be.patchEmbed(t(2, 8), t(8, 4), t(4), t(2, 2, 8)), /^patchEmbed: b \[4\] disagrees/],
  ['patchEmbedBackward dw null', () => be.patchEmbedBackward(t(2, 2, 8), t(2, 8), t(8, 4), null as unknown as Tensor, t(8), null), /^patchEmbedBackward: dw must be a Tensor/],
  ['patchEmbedBackward dx', () => be.patchEmbedBackward(t(2, 2, 8), t(2, 8), t(8, 4), t(8, 4), t(8), t(2, 9)), /^patchEmbedBackward: dx \[2, 9\] dim 1 must be T\*P = 8/],
  // startToken
  ['startToken h', () => be.startToken(t(2, 3, 4), t(4), t(2, 3, 4)), /^startToken: h \[2, 3, 4\] dim 1 must be T\+1 = 4 \(T = 3\), got 3/],
  ['startToken token', () => be.startToken(t(2, 3, 4), t(5), t(2, 4, 4)), /^startToken: token \[5\] disagrees/],
  ['startTokenBackward de', () => be.startTokenBackward(t(2, 4, 4), t(2, 4, 4), null), /^startTokenBackward: de \[2, 4, 4\] disagrees with dh\[2, 4, 4\] on T \(4 vs 3\)/],
  ['startTokenBackward other', () => be.startTokenBackward(t(2, 4, 4), null, other.tensor([4])), /^startTokenBackward: dtoken lives on backend 'other'/],
  // norms
  ['rmsNorm eps 0', () => be.rmsNorm(t(2, 4), t(4), 0, t(2, 4), t(2)), /^rmsNorm: eps must be > 0/],
  ['rmsNorm eps NaN', () => be.rmsNorm(t(2, 4), t(4), NaN, t(2, 4), t(2)), /^rmsNorm: eps must be a finite number/],
  ['rmsNorm scale', () => be.rmsNorm(t(2, 4), t(3), 1e-8, t(2, 4), t(2)), /^rmsNorm: scale \[3\] disagrees/],
  ['rmsNorm rstd', () => be.rmsNorm(t(2, 4), t(4), 1e-8, t(2, 4), t(3)), /^rmsNorm: rstd \[3\] disagrees/],
  ['rmsNorm D = 0', () => be.rmsNorm(t(2, 0), t(0), 1e-8, t(2, 0), t(2)), /^rmsNorm: D must be at least 1, got 0 \(x\[2, 0\]\)/],
  ['rmsNormBackward rstd', () => be.rmsNormBackward(t(2, 4), t(2, 4), t(4), t(1), t(2, 4), null), /^rmsNormBackward: rstd \[1\]/],
  ['rmsNormBackward dscale', () => be.rmsNormBackward(t(2, 4), t(2, 4), t(4), t(2), t(2, 4), t(5)), /^rmsNormBackward: dscale \[5\]/],
  ['layerNorm eps', () => be.layerNorm(t(2, 4), t(4), t(4), -1, t(2, 4), t(2), t(2)), /^layerNorm: eps must be > 0/],
  ['layerNorm mean', () => be.layerNorm(t(2, 4), t(4), t(4), 1e-5, t(2, 4), t(4), t(2)), /^layerNorm: mean \[4\] disagrees/],
  ['layerNorm beta', () => be.layerNorm(t(2, 4), t(4), t(2), 1e-5, t(2, 4), t(2), t(2)), /^layerNorm: beta \[2\] disagrees/],
  ['layerNormBackward dgamma', () => be.layerNormBackward(t(2, 4), t(2, 4), t(4), t(2), t(2), t(2, 4), t(3), null), /^layerNormBackward: dgamma \[3\]/],
  ['layerNormBackward dx disposed', () => be.layerNormBackward(t(2, 4), t(2, 4), t(4), t(2), t(2), disposed(2, 4), null, null), /^layerNormBackward: dx .*disposed/],
  // activations
  ['relu shape', () => be.relu(t(2, 4), t(8)), /^relu: y \[8\] must have the same shape as x \[2, 4\]/],
  ['reluBackward disposed', () => be.reluBackward(t(3), disposed(3), t(3)), /^reluBackward: y \[3\] has been disposed/],
  ['gelu other', () => be.gelu(other.tensor([3]), t(3)), /^gelu: x lives on backend 'other'/],
  ['geluBackward shape', () => be.geluBackward(t(3), t(3), t(4)), /^geluBackward: dx \[4\] must have the same shape as dy/],
  // dropout
  ['dropout p = 1', () => be.dropout(t(4), t(4), 1, key), /^dropout: p must be < 1/],
  ['dropout p < 0', () => be.dropout(t(4), t(4), -0.1, key), /^dropout: p must be ≥ 0/],
  ['dropout seed', () => be.dropout(t(4), t(4), 0.1, { ...key, seed: -1 }), /^dropout: key.seed must be ≥ 0/],
  ['dropout step', () => be.dropout(t(4), t(4), 0.1, { ...key, step: 2 ** 32 }), /^dropout: key.step must be < 4294967296/],
  ['dropout site', () => be.dropout(t(4), t(4), 0.1, { ...key, site: 1.5 }), /^dropout: key.site must be an integer/],
  ['dropout key missing', () => be.dropout(t(4), t(4), 0.1, undefined as unknown as DropoutKey), /^dropout: key must be a DropoutKey/],
  ['dropoutBackward shape', () => be.dropoutBackward(t(4), t(5), 0.1, key), /^dropoutBackward: dx \[5\]/],
  // attention
  ['ropeAttention heads ∤ D', () => be.ropeAttention(q(), q(), q(), 3, q(), t(2, 3, 3)), /^ropeAttention: model width D = 8 .* not divisible by heads = 3/],
  ['ropeAttention d % 4', () => be.ropeAttention(q(), q(), q(), 4, q(), t(2, 4, 3)), /^ropeAttention: head dim d = D\/heads = 8\/4 = 2 must be a multiple of 4/],
  ['ropeAttention heads 0', () => be.ropeAttention(q(), q(), q(), 0, q(), t(2, 0, 3)), /^ropeAttention: heads must be ≥ 1/],
  ['ropeAttention heads 1.5', () => be.ropeAttention(q(), q(), q(), 1.5, q(), lse()), /^ropeAttention: heads must be an integer/],
  ['ropeAttention k S', () => be.ropeAttention(q(), t(2, 4, 8), q(), 2, q(), lse()), /^ropeAttention: k \[2, 4, 8\] disagrees with q\[2, 3, 8\] on S/],
  ['ropeAttention lse', () => be.ropeAttention(q(), q(), q(), 2, q(), t(2, 3, 3)), /^ropeAttention: lse \[2, 3, 3\] disagrees with heads = 2 on H \(3 vs 2\)/],
  ['ropeAttention dropout.p', () => be.ropeAttention(q(), q(), q(), 2, q(), lse(), { p: 1.5, key }), /^ropeAttention: dropout.p must be < 1/],
  ['ropeAttention dropout.key', () => be.ropeAttention(q(), q(), q(), 2, q(), lse(), { p: 0.1, key: { seed: 0.5, step: 0, site: 0 } }), /^ropeAttention: dropout.key.seed must be an integer/],
  ['ropeAttention out aliases q', () => { const x = q(); be.ropeAttention(x, q(), q(), 2, x, lse()); }, /^ropeAttention: out and q must not be the same tensor/],
  ['ropeAttention disposed v', () => be.ropeAttention(q(), q(), disposed(2, 3, 8), 2, q(), lse()), /^ropeAttention: v \[2, 3, 8\] has been disposed/],
  ['ropeAttentionBackward dv', () => be.ropeAttentionBackward(q(), q(), q(), q(), q(), lse(), 2, q(), q(), t(2, 3, 4)), /^ropeAttentionBackward: dv \[2, 3, 4\] disagrees/],
  ['ropeAttentionBackward dq aliases q', () => { const x = q(); be.ropeAttentionBackward(q(), x, q(), q(), q(), lse(), 2, x, q(), q()); }, /^ropeAttentionBackward: dq and q must not be the same tensor/],
  ['ropeAttentionBackward other', () => be.ropeAttentionBackward(q(), q(), q(), q(), q(), lse(), 2, q(), other.tensor([2, 3, 8]), q()), /^ropeAttentionBackward: dk lives on backend 'other'/],
  // elementwise and pooling
  ['add shape', () => be.add(t(4), t(3), t(4)), /^add: b \[3\] must have the same shape as a \[4\]/],
  ['accumulate alpha', () => be.accumulate(t(4), t(4), NaN), /^accumulate: alpha must be a finite number/],
  ['scale s', () => be.scale(t(4), Infinity), /^scale: s must be a finite number/],
  ['scale disposed', () => be.scale(disposed(4), 2), /^scale: x \[4\] has been disposed/],
  ['meanPool z', () => be.meanPool(t(2, 3, 4), t(2, 3)), /^meanPool: z \[2, 3\] disagrees with h\[2, 3, 4\] on D/],
  ['meanPool S = 0', () => be.meanPool(t(2, 0, 4), t(2, 4)), /^meanPool: S must be at least 1, got 0 \(h\[2, 0, 4\]\)/],
  ['meanPoolBackward dz', () => be.meanPoolBackward(t(3, 4), t(2, 3, 4)), /^meanPoolBackward: dh \[2, 3, 4\] disagrees with dz\[3, 4\] on B/],
  ['gradReverse lambda', () => be.gradReverse(t(4), t(4), -1), /^gradReverse: lambda must be ≥ 0/],
  // hrLoss
  ...((): Case[] => {
    const call = (o: { out?: Tensor; hr?: Tensor; w?: Tensor; group?: Tensor; opts?: typeof hrOpts; gc?: Tensor }) => () =>
      be.hrLoss(o.out ?? t(2, 2), o.hr ?? filled([2], 80), o.w ?? filled([2], 1), o.group ?? t(2), o.opts ?? hrOpts,
        t(2), t(2), t(1), t(2), o.gc ?? t(2));
    return [
      ['hrLoss out', call({ out: t(2, 3) }), /^hrLoss: out dim 1 must be 2, got shape \[2, 3\]/],
      ['hrLoss group id range', call({ group: be.tensor([2], [0, 2]) }), /^hrLoss: group\[1\] = 2 is not an integer group id in \[0, 2\)/],
      ['hrLoss group id fraction', call({ group: be.tensor([2], [0.5, 0]) }), /^hrLoss: group\[0\] = 0.5 is not an integer group id/],
      ['hrLoss weights negative', call({ w: be.tensor([2], [1, -1]) }), /^hrLoss: w\[1\] = -1 must be a finite value in \[0, Infinity\]/],
      ['hrLoss weight negative', call({ w: be.tensor([2], [1, -1]) }), /^hrLoss: w\[1\] = -1 must be a finite value in \[0, Infinity\]/],
      ['hrLoss hr NaN', call({ hr: be.tensor([2], [NaN, 80]) }), /^hrLoss: hr\[0\] = NaN must be finite/],
      ['hrLoss opts.eps', call({ opts: { lambda: 1, eps: 0.5 } }), /^hrLoss: opts.eps must be in \(0, 0.5\)/],
      ['hrLoss opts.lambda', call({ opts: { lambda: -1, eps: 0.1 } }), /^hrLoss: opts.lambda must be ≥ 0/],
      ['hrLoss groupCount', call({ gc: t(3) }), /^hrLoss: groupCount \[3\] disagrees with groupLossSum\[2\] on G/],
      ['hrLoss disposed hr', call({ hr: disposed(2) }), /^hrLoss: hr \[2\] has been disposed/],
    ];
  })(),
  ['hrLossBackward dout', () => be.hrLossBackward(t(2, 2), filled([2], 80), filled([2], 1), hrOpts, t(3, 2), 1), /^hrLossBackward: dout \[3, 2\] disagrees/],
  ['hrLossBackward scale', () => be.hrLossBackward(t(2, 2), filled([2], 80), filled([2], 1), hrOpts, t(2, 2), NaN), /^hrLossBackward: scale must be a finite number/],
  ['hrLossBackward weights', () => be.hrLossBackward(t(2, 2), filled([2], 80), filled([2], NaN), hrOpts, t(2, 2), 1), /^hrLossBackward: w\[0\] = NaN must be a finite value/],
  // nextPatchNll
  ['nextPatchNll odd channels', () => be.nextPatchNll(t(2, 3, 5), t(2, 4), 0.1, t(1)), /^nextPatchNll: params \[2, 3, 5\] dim 2 = 5 is not 2\*P for any integer P/],
  ['nextPatchNll x length', () => be.nextPatchNll(t(2, 3, 4), t(2, 3), 0.1, t(1)), /^nextPatchNll: x \[2, 3\] dim 1 = 3 is not T\*P for any integer T/],
  ['nextPatchNll T > S − 1', () => be.nextPatchNll(t(2, 3, 4), t(2, 6), 0.1, t(1)), /^nextPatchNll: x has T = 3 patches but params has S = 3 tokens/],
  ['nextPatchNll eps', () => be.nextPatchNll(t(2, 3, 4), t(2, 4), 0, t(1)), /^nextPatchNll: eps must be in \(0, 0.5\), got 0/],
  ['nextPatchNll loss', () => be.nextPatchNll(t(2, 3, 4), t(2, 4), 0.1, t(2)), /^nextPatchNll: loss dim 0 must be 1/],
  ['nextPatchNll x NaN', () => be.nextPatchNll(t(2, 3, 4), filled([2, 4], NaN), 0.1, t(1)), /^nextPatchNll: x\[0\] = NaN must be finite/],
  ['nextPatchNll batch', () => be.nextPatchNll(t(2, 3, 4), t(3, 4), 0.1, t(1)), /^nextPatchNll: x \[3, 4\] disagrees with params\[2, 3, 4\] on B/],
  ['nextPatchNllBackward dparams', () => be.nextPatchNllBackward(t(2, 3, 4), t(2, 4), 0.1, t(2, 3, 6), 1), /^nextPatchNllBackward: dparams \[2, 3, 6\] dim 2 must be 2\*P = 4 \(P = 2\), got 6/],
  ['nextPatchNllBackward scale', () => be.nextPatchNllBackward(t(2, 3, 4), t(2, 4), 0.1, t(2, 3, 4), Infinity), /^nextPatchNllBackward: scale must be a finite number/],
  // bce
  ['bceWithLogits targets range', () => be.bceWithLogits(t(2, 1), filled([2, 1], 1.5), t(1)), /^bceWithLogits: targets\[0\] = 1.5 must be a finite value in \[0, 1\]/],
  ['bceWithLogits targets shape', () => be.bceWithLogits(t(2, 1), t(2, 2), t(1)), /^bceWithLogits: targets \[2, 2\] disagrees with logits\[2, 1\] on C/],
  ['bceWithLogits loss', () => be.bceWithLogits(t(2, 1), t(2, 1), t(1, 1)), /^bceWithLogits: loss must have shape \[1\]/],
  ['bceWithLogitsBackward dlogits', () => be.bceWithLogitsBackward(t(2, 1), t(2, 1), t(1, 2), 1), /^bceWithLogitsBackward: dlogits \[1, 2\] disagrees/],
  ['softmaxCrossEntropy targets range', () => be.softmaxCrossEntropy(t(2, 3), filled([2, 3], -0.5), t(1)), /^softmaxCrossEntropy: targets\[0\] = -0.5 must be a finite value in \[0, 1\]/],
  ['softmaxCrossEntropyBackward dlogits', () => be.softmaxCrossEntropyBackward(t(2, 3), t(2, 3), t(3, 2), 1), /^softmaxCrossEntropyBackward: dlogits \[3, 2\] disagrees/],
  ['groupLossReweight gw zero', () => be.groupLossReweight(filled([2], 1), filled([2], 1), 0.5, be.tensor([2], [0, 1]), t(2), t(2)), /^groupLossReweight: gw \[2\] sums to 0; it must be > 0/],
  ['groupLossReweight group id', () => be.groupLossReweight(filled([2], 1), filled([2], 1), 0.5, be.tensor([2], [0, 3]), filled([2], 1), t(2)), /^groupLossReweight: group\[1\] = 3 is not an integer group id/],
  // groupDroUpdate
  ...((): Case[] => {
    const call = (o: { q?: Tensor; gc?: Tensor; eta?: number; group?: Tensor; w?: Tensor }) => () =>
      be.groupDroUpdate(o.q ?? filled([2], 0.5), filled([2], 1), o.gc ?? filled([2], 2), o.eta ?? 0.1,
        o.group ?? be.tensor([4], [0, 1, 1, 0]), o.w ?? t(4));
    return [
      ['groupDroUpdate eta', call({ eta: -0.1 }), /^groupDroUpdate: eta must be ≥ 0/],
      ['groupDroUpdate q zero', call({ q: t(2) }), /^groupDroUpdate: q \[2\] sums to 0; it must be > 0/],
      ['groupDroUpdate q negative', call({ q: be.tensor([2], [-0.5, 1.5]) }), /^groupDroUpdate: q\[0\] = -0.5/],
      ['groupDroUpdate group id', call({ group: be.tensor([4], [0, 1, 2, 0]) }), /^groupDroUpdate: group\[2\] = 2 is not an integer group id in \[0, 2\)/],
      ['groupDroUpdate empty group', call({ gc: be.tensor([2], [4, 0]) }), /^groupDroUpdate: group\[1\] = 1 but groupCount\[1\] is 0/],
      ['groupDroUpdate count fraction', call({ gc: be.tensor([2], [1.5, 2]) }), /^groupDroUpdate: groupCount\[0\] = 1.5 is not a non-negative integer/],
      ['groupDroUpdate w', call({ w: t(3) }), /^groupDroUpdate: w \[3\] disagrees with group\[4\] on B/],
      ['groupDroUpdate q size', call({ q: filled([3], 0.3) }), /^groupDroUpdate: groupLossSum \[2\] disagrees with q\[3\] on G/],
    ];
  })(),
  // adamw
  ['adamw beta1', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, beta1: 1 }), /^adamw: opts.beta1 must be < 1/],
  ['adamw beta2', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, beta2: -0.1 }), /^adamw: opts.beta2 must be ≥ 0/],
  ['adamw step 0', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, step: 0 }), /^adamw: opts.step must be ≥ 1/],
  ['adamw norm shape', () => be.adamw(t(3), t(3), t(3), t(3), adam, t(2)), /^adamw: norm dim 0 must be 1, got shape \[2\]/],
  ['adamw maxNorm negative', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, maxNorm: -1 }, t(1)), /^adamw: opts.maxNorm must be ≥ 0/],
  ['adamw step fraction', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, step: 1.5 }), /^adamw: opts.step must be an integer/],
  ['adamw eps', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, eps: 0 }), /^adamw: opts.eps must be > 0/],
  ['adamw lr', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, lr: -1 }), /^adamw: opts.lr must be ≥ 0/],
  ['adamw weightDecay', () => be.adamw(t(3), t(3), t(3), t(3), { ...adam, weightDecay: NaN }), /^adamw: opts.weightDecay must be a finite number/],
  ['adamw m shape', () => be.adamw(t(3), t(3), t(4), t(3), adam), /^adamw: m \[4\] must have the same shape as param \[3\]/],
  ['adamw aliasing', () => { const p = t(3); be.adamw(p, p, t(3), t(3), adam); }, /^adamw: param and grad must not be the same tensor/],
  ['adamw other backend', () => be.adamw(t(3), t(3), t(3), other.tensor([3]), adam), /^adamw: v lives on backend 'other'/],
  // sumSquares
  ['sumSquares disposed', () => be.sumSquares([t(2), disposed(3)]), /^sumSquares: tensors\[1\] \[3\] has been disposed/],
  ['sumSquares other', () => be.sumSquares([other.tensor([2])]), /^sumSquares: tensors\[0\] lives on backend 'other'/],
  // oneHot
  ['oneHot id out of range', () => be.oneHot(be.tensor([2], [0, 3]), t(2, 3)), /^oneHot: ids\[1\] = 3 is not an integer group id in \[0, 3\)/],
  ['oneHot out shape', () => be.oneHot(be.tensor([2], [0, 1]), t(3, 3)), /^oneHot: out \[3, 3\] disagrees with ids\[2\] on B \(3 vs 2\)/],
  // globalNorm
  ['globalNorm norm shape', () => be.globalNorm([t(2)], t(2)), /^globalNorm: norm dim 0 must be 1, got shape \[2\]/],
  ['globalNorm disposed', () => be.globalNorm([t(2), disposed(3)], t(1)), /^globalNorm: tensors\[1\] \[3\] has been disposed/],
];

describe('bad input', () => {
  test.each(cases)('%s', (_label, fn, message) => {
    expect(fn).toThrow(Error);
    expect(fn).toThrow(message);
  });

  test('every op of the table has at least one bad-input case', () => {
    const covered = new Set(cases.map(([label]) => label.split(' ')[0]));
    expect(OP_NAMES.filter((m) => !covered.has(m))).toEqual([]);
  });

  test('a failed check leaves the outputs untouched', () => {
    const y = filled([2, 4], 7);
    expect(() => be.linear(t(2, 3), t(4, 5), null, y)).toThrow();
    expect(Array.from(be.download(y)).every((v) => v === 7)).toBe(true);
    const q1 = filled([2], 0.5);
    expect(() => be.groupDroUpdate(q1, filled([2], 1), be.tensor([2], [4, 0]), 0.1, be.tensor([2], [0, 1]), t(2))).toThrow();
    expect(Array.from(be.download(q1))).toEqual([0.5, 0.5]);
  });
});
