// The argument checks of every op, once for all backends: shapes (bound symbolically, so disagreeing dims
// are named), ranks, owning backend, disposed tensors, aliasing of outputs and inputs, and the ranges of
// hyper-parameters. Each returns the dims the kernels need. Checks that read tensor *values* (group ids,
// weights, labels) stay with the backends, since only a host backend can read them without a transfer.
import type { AdamWOptions, AttentionDropout, DropoutKey, HrLossOptions } from './backend';
import { OpError, ShapeBinder, checkDistinct, checkNumber, checkTensor } from './check';
import { Tensor, shapeStr } from './tensor';

const TWO_POW_32 = 4294967296;

/** Every tensor is live, on this backend, and has the shape of the first one. Null entries are skipped. */
export function requireSameShape(op: string, backend: string, named: readonly [string, Tensor | null | undefined][]): void {
  let first: [string, Tensor] | null = null;
  for (const [arg, t] of named) {
    if (t === null) continue;
    checkTensor(op, arg, t, backend);
    const tt = t as Tensor;
    if (first === null) {
      first = [arg, tt];
      continue;
    }
    const ref = first[1].shape;
    if (tt.rank !== ref.length || tt.shape.some((d, i) => d !== ref[i])) {
      throw new OpError(op, `${arg} ${shapeStr(tt.shape)} must have the same shape as ${first[0]} ${shapeStr(ref)}`);
    }
  }
}

/** A dimension that a mean or a normalisation divides by must be at least 1. */
export function requirePositive(op: string, what: string, value: number, shape: readonly number[]): void {
  if (!(value >= 1)) throw new OpError(op, `${what} must be at least 1, got ${value} (shape ${shapeStr(shape)})`);
}

export function checkDropoutKey(op: string, arg: string, key: DropoutKey | undefined | null): DropoutKey {
  if (key === null || key === undefined || typeof key !== 'object') throw new OpError(op, `${arg} must be a DropoutKey {seed, step, site}`);
  checkNumber(op, `${arg}.seed`, key.seed, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
  checkNumber(op, `${arg}.step`, key.step, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
  checkNumber(op, `${arg}.site`, key.site, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
  return key;
}

export function checkDropP(op: string, arg: string, p: unknown): number {
  return checkNumber(op, arg, p, { min: 0, max: 1, maxExclusive: true });
}

/** Group ids are float32 holding integers in [0, G). */
export function checkGroupIds(op: string, arg: string, data: Float32Array, G: number): void {
  for (let i = 0; i < data.length; i++) {
    const g = data[i];
    if (!Number.isInteger(g) || g < 0 || g >= G) {
      throw new OpError(op, `${arg}[${i}] = ${g} is not an integer group id in [0, ${G})`);
    }
  }
}

/** Every value is finite and within [min, max]. */
export function checkValues(op: string, arg: string, data: Float32Array, min = -Infinity, max = Infinity): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x) || x < min || x > max) {
      const range = min === -Infinity && max === Infinity ? 'finite' : `a finite value in [${min}, ${max}]`;
      throw new OpError(op, `${arg}[${i}] = ${x} must be ${range}`);
    }
  }
}

/** requireSameShape for non-null tensors, returning their element count. */
export function sameShape(op: string, backend: string, named: readonly [string, Tensor][]): number {
  requireSameShape(op, backend, named);
  return named[0][1].size;
}

export function checkPositive(op: string, arg: string, v: unknown): number {
  const x = checkNumber(op, arg, v);
  if (!(x > 0)) throw new OpError(op, `${arg} must be > 0, got ${x}`);
  return x;
}

function checkOptions(op: string, arg: string, o: unknown): void {
  if (o === null || typeof o !== 'object') throw new OpError(op, `${arg} must be an options object, got ${String(o)}`);
}

export function checkLaplaceEps(op: string, arg: string, eps: unknown): number {
  const e = checkPositive(op, arg, eps);
  if (!(e < 0.5)) throw new OpError(op, `${arg} must be in (0, 0.5), got ${e}`);
  return e;
}

export function linear(be: string, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor) {
  const op = 'linear', sb = new ShapeBinder(op, be);
  sb.tensor('x', x, ['N', 'K']);
  sb.tensor('w', w, ['M', 'K']);
  sb.optional('b', b, ['M']);
  sb.tensor('y', y, ['N', 'M']);
  checkDistinct(op, [['y', y, 'x', x], ['y', y, 'w', w], ['y', y, 'b', b]]);
  return { N: sb.get('N'), K: sb.get('K'), M: sb.get('M') };
}

export function linearBackward(be: string, dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null) {
  const op = 'linearBackward', sb = new ShapeBinder(op, be);
  sb.tensor('x', x, ['N', 'K']);
  sb.tensor('w', w, ['M', 'K']);
  sb.tensor('dy', dy, ['N', 'M']);
  sb.optional('dx', dx, ['N', 'K']);
  sb.optional('dw', dw, ['M', 'K']);
  sb.optional('db', db, ['M']);
  checkDistinct(op, [
    ['dx', dx, 'dy', dy], ['dx', dx, 'x', x], ['dx', dx, 'w', w],
    ['dw', dw, 'dy', dy], ['dw', dw, 'x', x], ['dw', dw, 'w', w], ['db', db, 'dy', dy],
  ]);
  return { N: sb.get('N'), K: sb.get('K'), M: sb.get('M') };
}

/** Returns the GEMM dims of the patch embedding: N = B·T rows of P samples, D outputs. */
export function patchEmbed(be: string, x: Tensor, w: Tensor, b: Tensor, e: Tensor) {
  const op = 'patchEmbed', sb = new ShapeBinder(op, be);
  sb.tensor('w', w, ['D', 'P']);
  sb.tensor('b', b, ['D']);
  sb.tensor('e', e, ['B', 'T', 'D']);
  const T = sb.get('T'), P = sb.get('P');
  sb.tensor('x', x, ['B', T * P]);
  checkDistinct(op, [['e', e, 'x', x], ['e', e, 'w', w], ['e', e, 'b', b]]);
  return { N: sb.get('B') * T, K: P, M: sb.get('D') };
}

export function patchEmbedBackward(be: string, de: Tensor, x: Tensor, w: Tensor, dw: Tensor, db: Tensor, dx: Tensor | null) {
  const op = 'patchEmbedBackward', sb = new ShapeBinder(op, be);
  sb.tensor('w', w, ['D', 'P']);
  sb.tensor('de', de, ['B', 'T', 'D']);
  const T = sb.get('T'), P = sb.get('P');
  sb.tensor('x', x, ['B', T * P]);
  sb.tensor('dw', dw, ['D', 'P']);
  sb.tensor('db', db, ['D']);
  sb.optional('dx', dx, ['B', T * P]);
  checkDistinct(op, [['dw', dw, 'w', w], ['dx', dx, 'x', x], ['dx', dx, 'de', de], ['dw', dw, 'de', de], ['db', db, 'de', de]]);
  return { N: sb.get('B') * T, K: P, M: sb.get('D') };
}

export function startToken(be: string, e: Tensor, token: Tensor, h: Tensor) {
  const op = 'startToken', sb = new ShapeBinder(op, be);
  sb.tensor('e', e, ['B', 'T', 'D']);
  sb.tensor('token', token, ['D']);
  sb.tensor('h', h, ['B', sb.get('T') + 1, 'D']);
  checkDistinct(op, [['h', h, 'e', e], ['h', h, 'token', token]]);
  return { B: sb.get('B'), T: sb.get('T'), D: sb.get('D') };
}

export function startTokenBackward(be: string, dh: Tensor, de: Tensor | null, dtoken: Tensor | null) {
  const op = 'startTokenBackward', sb = new ShapeBinder(op, be);
  sb.tensor('dh', dh, ['B', 'S', 'D']);
  const S = sb.get('S');
  requirePositive(op, 'dh sequence length S', S, dh.shape);
  sb.optional('de', de, ['B', S - 1, 'D']);
  sb.optional('dtoken', dtoken, ['D']);
  checkDistinct(op, [['de', de, 'dh', dh], ['dtoken', dtoken, 'dh', dh]]);
  return { B: sb.get('B'), T: S - 1, D: sb.get('D') };
}

export function rmsNorm(be: string, x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor) {
  const op = 'rmsNorm', sb = new ShapeBinder(op, be);
  sb.tensor('x', x, ['N', 'D']);
  sb.tensor('scale', scale, ['D']);
  sb.tensor('y', y, ['N', 'D']);
  sb.tensor('rstd', rstd, ['N']);
  requirePositive(op, 'x feature dim D', sb.get('D'), x.shape);
  checkPositive(op, 'eps', eps);
  checkDistinct(op, [['y', y, 'x', x], ['y', y, 'scale', scale], ['rstd', rstd, 'x', x], ['rstd', rstd, 'y', y]]);
  return { N: sb.get('N'), D: sb.get('D') };
}

export function rmsNormBackward(be: string, dy: Tensor, x: Tensor, scale: Tensor, rstd: Tensor, dx: Tensor, dscale: Tensor | null) {
  const op = 'rmsNormBackward', sb = new ShapeBinder(op, be);
  sb.tensor('x', x, ['N', 'D']);
  sb.tensor('dy', dy, ['N', 'D']);
  sb.tensor('scale', scale, ['D']);
  sb.tensor('rstd', rstd, ['N']);
  sb.tensor('dx', dx, ['N', 'D']);
  sb.optional('dscale', dscale, ['D']);
  checkDistinct(op, [['dx', dx, 'dy', dy], ['dx', dx, 'x', x], ['dscale', dscale, 'scale', scale]]);
  return { N: sb.get('N'), D: sb.get('D') };
}

export function layerNorm(be: string, x: Tensor, gamma: Tensor, beta: Tensor, eps: number, y: Tensor, mean: Tensor, rstd: Tensor) {
  const op = 'layerNorm', sb = new ShapeBinder(op, be);
  sb.tensor('x', x, ['N', 'C']);
  sb.tensor('gamma', gamma, ['C']);
  sb.tensor('beta', beta, ['C']);
  sb.tensor('y', y, ['N', 'C']);
  sb.tensor('mean', mean, ['N']);
  sb.tensor('rstd', rstd, ['N']);
  requirePositive(op, 'x feature dim C', sb.get('C'), x.shape);
  checkPositive(op, 'eps', eps);
  checkDistinct(op, [['y', y, 'x', x], ['mean', mean, 'rstd', rstd], ['y', y, 'gamma', gamma], ['y', y, 'beta', beta]]);
  return { N: sb.get('N'), C: sb.get('C') };
}

export function layerNormBackward(
  be: string, dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor, dx: Tensor, dgamma: Tensor | null, dbeta: Tensor | null,
) {
  const op = 'layerNormBackward', sb = new ShapeBinder(op, be);
  sb.tensor('x', x, ['N', 'C']);
  sb.tensor('dy', dy, ['N', 'C']);
  sb.tensor('gamma', gamma, ['C']);
  sb.tensor('mean', mean, ['N']);
  sb.tensor('rstd', rstd, ['N']);
  sb.tensor('dx', dx, ['N', 'C']);
  sb.optional('dgamma', dgamma, ['C']);
  sb.optional('dbeta', dbeta, ['C']);
  checkDistinct(op, [['dx', dx, 'dy', dy], ['dx', dx, 'x', x], ['dgamma', dgamma, 'dbeta', dbeta], ['dgamma', dgamma, 'gamma', gamma]]);
  return { N: sb.get('N'), C: sb.get('C') };
}

export function dropout(be: string, op: 'dropout' | 'dropoutBackward', a: [string, Tensor], b: [string, Tensor], p: number, key: DropoutKey): number {
  const n = sameShape(op, be, [a, b]);
  checkDropP(op, 'p', p);
  checkDropoutKey(op, 'key', key);
  return n;
}

/** Shared shape and hyper-parameter checks of the attention forward and backward. */
function attentionShape(op: string, sb: ShapeBinder, heads: number, lse: Tensor, drop: AttentionDropout | undefined) {
  checkNumber(op, 'heads', heads, { integer: true, min: 1 });
  const B = sb.get('B'), S = sb.get('S'), D = sb.get('D');
  sb.require(D % heads === 0, `model width D = ${D} (q shape [${B}, ${S}, ${D}]) is not divisible by heads = ${heads}`);
  const hd = D / heads;
  sb.require(hd % 4 === 0, `head dim d = D/heads = ${D}/${heads} = ${hd} must be a multiple of 4 (RoPE rotates d/2 features in pairs)`);
  sb.tensor('lse', lse, ['B', heads, 'S']);
  if (drop !== undefined) {
    checkOptions(op, 'dropout', drop);
    checkDropP(op, 'dropout.p', drop.p);
    checkDropoutKey(op, 'dropout.key', drop.key);
  }
  return { B, S, H: heads, D };
}

export function ropeAttention(be: string, q: Tensor, k: Tensor, v: Tensor, heads: number, out: Tensor, lse: Tensor, drop?: AttentionDropout) {
  const op = 'ropeAttention', sb = new ShapeBinder(op, be);
  sb.tensor('q', q, ['B', 'S', 'D']);
  sb.tensor('k', k, ['B', 'S', 'D']);
  sb.tensor('v', v, ['B', 'S', 'D']);
  sb.tensor('out', out, ['B', 'S', 'D']);
  const shape = attentionShape(op, sb, heads, lse, drop);
  checkDistinct(op, [['out', out, 'q', q], ['out', out, 'k', k], ['out', out, 'v', v], ['lse', lse, 'out', out]]);
  return shape;
}

export function ropeAttentionBackward(
  be: string, dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, heads: number,
  dq: Tensor, dk: Tensor, dv: Tensor, drop?: AttentionDropout,
) {
  const op = 'ropeAttentionBackward', sb = new ShapeBinder(op, be);
  const names: [string, Tensor][] = [['dout', dout], ['q', q], ['k', k], ['v', v], ['out', out], ['dq', dq], ['dk', dk], ['dv', dv]];
  for (const [n, t] of names) sb.tensor(n, t, ['B', 'S', 'D']);
  const shape = attentionShape(op, sb, heads, lse, drop);
  const pairs: [string, Tensor, string, Tensor][] = [];
  for (const [gn, g] of [['dq', dq], ['dk', dk], ['dv', dv]] as [string, Tensor][]) {
    for (const [n, t] of names.slice(0, 5)) pairs.push([gn, g, n, t]);
  }
  pairs.push(['dq', dq, 'dk', dk], ['dq', dq, 'dv', dv], ['dk', dk, 'dv', dv]);
  checkDistinct(op, pairs);
  return shape;
}

export function meanPool(be: string, h: Tensor, z: Tensor) {
  const op = 'meanPool', sb = new ShapeBinder(op, be);
  sb.tensor('h', h, ['B', 'S', 'D']);
  sb.tensor('z', z, ['B', 'D']);
  requirePositive(op, 'h sequence length S', sb.get('S'), h.shape);
  checkDistinct(op, [['z', z, 'h', h]]);
  return { B: sb.get('B'), S: sb.get('S'), D: sb.get('D') };
}

export function meanPoolBackward(be: string, dz: Tensor, dh: Tensor) {
  const op = 'meanPoolBackward', sb = new ShapeBinder(op, be);
  sb.tensor('dh', dh, ['B', 'S', 'D']);
  sb.tensor('dz', dz, ['B', 'D']);
  requirePositive(op, 'dh sequence length S', sb.get('S'), dh.shape);
  checkDistinct(op, [['dh', dh, 'dz', dz]]);
  return { B: sb.get('B'), S: sb.get('S'), D: sb.get('D') };
}

export function hrOptions(op: string, opts: HrLossOptions): void {
  checkOptions(op, 'opts', opts);
  checkNumber(op, 'opts.lambda', opts.lambda, { min: 0 });
  checkLaplaceEps(op, 'opts.eps', opts.eps);
}

export function hrLoss(
  be: string, out: Tensor, hr: Tensor, w: Tensor, group: Tensor, opts: HrLossOptions,
  pred: Tensor, sampleLoss: Tensor, loss: Tensor, groupLossSum: Tensor, groupCount: Tensor,
) {
  const op = 'hrLoss', sb = new ShapeBinder(op, be);
  sb.tensor('out', out, ['B', 2]);
  for (const [n, t] of [['hr', hr], ['w', w], ['group', group], ['pred', pred], ['sampleLoss', sampleLoss]] as [string, Tensor][]) {
    sb.tensor(n, t, ['B']);
  }
  sb.tensor('loss', loss, [1]);
  sb.tensor('groupLossSum', groupLossSum, ['G']);
  sb.tensor('groupCount', groupCount, ['G']);
  const B = sb.get('B'), G = sb.get('G');
  requirePositive(op, 'batch size B', B, out.shape);
  requirePositive(op, 'group count G', G, groupLossSum.shape);
  hrOptions(op, opts);
  const outputs: [string, Tensor][] = [['pred', pred], ['sampleLoss', sampleLoss], ['loss', loss], ['groupLossSum', groupLossSum], ['groupCount', groupCount]];
  const inputs: [string, Tensor][] = [['out', out], ['hr', hr], ['w', w], ['group', group]];
  const pairs: [string, Tensor, string, Tensor][] = [];
  outputs.forEach(([on, o], i) => {
    for (const [n, t] of inputs) pairs.push([on, o, n, t]);
    for (const [n, t] of outputs.slice(i + 1)) pairs.push([on, o, n, t]);
  });
  checkDistinct(op, pairs);
  return { B, G };
}

export function hrLossBackward(be: string, out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number) {
  const op = 'hrLossBackward', sb = new ShapeBinder(op, be);
  sb.tensor('out', out, ['B', 2]);
  sb.tensor('hr', hr, ['B']);
  sb.tensor('w', w, ['B']);
  sb.tensor('dout', dout, ['B', 2]);
  requirePositive(op, 'batch size B', sb.get('B'), out.shape);
  hrOptions(op, opts);
  checkNumber(op, 'scale', scale);
  checkDistinct(op, [['dout', dout, 'out', out], ['dout', dout, 'hr', hr], ['dout', dout, 'w', w]]);
  return { B: sb.get('B') };
}

function nextPatchShape(op: string, sb: ShapeBinder, params: Tensor, x: Tensor, eps: number) {
  sb.tensor('params', params, ['B', 'S', 'C']);
  sb.tensor('x', x, ['B', 'L']);
  const B = sb.get('B'), S = sb.get('S'), C = sb.get('C'), L = sb.get('L');
  requirePositive(op, 'batch size B', B, params.shape);
  sb.require(C >= 2 && C % 2 === 0, `params [${params.shape.join(', ')}] last dim must be 2P (μ and log b per sample), got ${C}`);
  const P = C / 2;
  sb.require(L >= P && L % P === 0, `x [${x.shape.join(', ')}] length ${L} must be a positive multiple of the patch length P = ${P}`);
  const T = L / P;
  sb.require(T <= S - 1, `x has T = ${T} patches but params [${params.shape.join(', ')}] has S = ${S} tokens (need T ≤ S − 1)`);
  checkLaplaceEps(op, 'eps', eps);
  return { B, S, T, P };
}

export function nextPatchNll(be: string, params: Tensor, x: Tensor, eps: number, loss: Tensor) {
  const op = 'nextPatchNll', sb = new ShapeBinder(op, be);
  sb.tensor('loss', loss, [1]);
  const shape = nextPatchShape(op, sb, params, x, eps);
  checkDistinct(op, [['loss', loss, 'params', params], ['loss', loss, 'x', x]]);
  return shape;
}

export function nextPatchNllBackward(be: string, params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number) {
  const op = 'nextPatchNllBackward', sb = new ShapeBinder(op, be);
  sb.tensor('dparams', dparams, ['B', 'S', 'C']);
  const shape = nextPatchShape(op, sb, params, x, eps);
  checkNumber(op, 'scale', scale);
  checkDistinct(op, [['dparams', dparams, 'params', params], ['dparams', dparams, 'x', x]]);
  return shape;
}

function bceShape(op: string, sb: ShapeBinder, logits: Tensor, targets: Tensor): void {
  sb.tensor('logits', logits, ['N', 'C']);
  sb.tensor('targets', targets, ['N', 'C']);
  requirePositive(op, 'element count N·C', logits.size, logits.shape);
}

export function bceWithLogits(be: string, logits: Tensor, targets: Tensor, loss: Tensor): number {
  const op = 'bceWithLogits', sb = new ShapeBinder(op, be);
  bceShape(op, sb, logits, targets);
  sb.tensor('loss', loss, [1]);
  checkDistinct(op, [['loss', loss, 'logits', logits], ['loss', loss, 'targets', targets]]);
  return logits.size;
}

export function bceWithLogitsBackward(be: string, logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): number {
  const op = 'bceWithLogitsBackward', sb = new ShapeBinder(op, be);
  bceShape(op, sb, logits, targets);
  sb.tensor('dlogits', dlogits, ['N', 'C']);
  checkNumber(op, 'scale', scale);
  checkDistinct(op, [['dlogits', dlogits, 'logits', logits], ['dlogits', dlogits, 'targets', targets]]);
  return logits.size;
}

export function groupDroUpdate(be: string, q: Tensor, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, w: Tensor) {
  const op = 'groupDroUpdate', sb = new ShapeBinder(op, be);
  sb.tensor('q', q, ['G']);
  sb.tensor('groupLossSum', groupLossSum, ['G']);
  sb.tensor('groupCount', groupCount, ['G']);
  sb.tensor('group', group, ['B']);
  sb.tensor('w', w, ['B']);
  requirePositive(op, 'group count G', sb.get('G'), q.shape);
  checkNumber(op, 'eta', eta, { min: 0 });
  checkDistinct(op, [
    ['w', w, 'q', q], ['w', w, 'group', group], ['w', w, 'groupLossSum', groupLossSum], ['w', w, 'groupCount', groupCount],
    ['q', q, 'groupLossSum', groupLossSum], ['q', q, 'groupCount', groupCount], ['q', q, 'group', group],
  ]);
  return { G: sb.get('G'), B: sb.get('B') };
}

export function adamw(be: string, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): number {
  const op = 'adamw';
  const n = sameShape(op, be, [['param', param], ['grad', grad], ['m', m], ['v', v]]);
  checkDistinct(op, [
    ['param', param, 'grad', grad], ['param', param, 'm', m], ['param', param, 'v', v],
    ['m', m, 'v', v], ['m', m, 'grad', grad], ['v', v, 'grad', grad],
  ]);
  checkOptions(op, 'opts', opts);
  checkNumber(op, 'opts.lr', opts.lr, { min: 0 });
  checkNumber(op, 'opts.beta1', opts.beta1, { min: 0, max: 1, maxExclusive: true });
  checkNumber(op, 'opts.beta2', opts.beta2, { min: 0, max: 1, maxExclusive: true });
  checkPositive(op, 'opts.eps', opts.eps);
  checkNumber(op, 'opts.weightDecay', opts.weightDecay, { min: 0 });
  checkNumber(op, 'opts.step', opts.step, { integer: true, min: 1 });
  return n;
}

export function sumSquares(be: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors)) throw new OpError('sumSquares', 'tensors must be an array of Tensors');
  tensors.forEach((t, i) => checkTensor('sumSquares', `tensors[${i}]`, t, be));
}
