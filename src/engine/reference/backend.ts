// The reference backend: plain TypeScript over host Float32Arrays, float64 accumulation (JS numbers), no
// tiling, no threads. It is the oracle every other backend is compared with, so it favours the obvious
// formula over speed, validates every argument before touching memory, and recomputes rather than trusts
// saved intermediates where it can. The math lives in one module per op family (on plain typed arrays so
// the float64 gradient checks run the very same code); this class checks arguments and dispatches.
import type { AdamWOptions, AttentionDropout, Backend, DropoutKey, HrLossOptions } from '../backend';
import { OpError, ShapeBinder, checkDistinct, checkNumber, checkTensor } from '../check';
import { HostStorage, hostData } from '../host-storage';
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
import {
  checkDropP, checkDropoutKey, checkGroupIds, checkValues, requirePositive, requireSameShape,
} from './validate';

const d = hostData;
const dn = (t: Tensor | null): Float32Array | null => (t === null ? null : hostData(t));

function checkPositive(op: string, arg: string, v: unknown): number {
  const x = checkNumber(op, arg, v);
  if (!(x > 0)) throw new OpError(op, `${arg} must be > 0, got ${x}`);
  return x;
}

function checkOptions(op: string, arg: string, o: unknown): void {
  if (o === null || typeof o !== 'object') throw new OpError(op, `${arg} must be an options object, got ${String(o)}`);
}

function checkLaplaceEps(op: string, arg: string, eps: unknown): number {
  const e = checkPositive(op, arg, eps);
  if (!(e < 0.5)) throw new OpError(op, `${arg} must be in (0, 0.5), got ${e}`);
  return e;
}

export class ReferenceBackend extends HostStorage implements Backend {
  readonly name = 'reference';
  readonly description = 'pure TypeScript, float64 accumulation, single thread (the oracle)';

  // ---- layers ----

  linear(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): void {
    const op = 'linear';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'K']);
    sb.tensor('w', w, ['M', 'K']);
    sb.optional('b', b, ['M']);
    sb.tensor('y', y, ['N', 'M']);
    checkDistinct(op, [['y', y, 'x', x], ['y', y, 'w', w], ['y', y, 'b', b]]);
    linearForward(d(x), d(w), dn(b), d(y), sb.get('N'), sb.get('K'), sb.get('M'));
  }

  linearBackward(dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null): void {
    const op = 'linearBackward';
    const sb = new ShapeBinder(op, this.name);
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
    linearBackward(d(dy), d(x), d(w), dn(dx), dn(dw), dn(db), sb.get('N'), sb.get('K'), sb.get('M'));
  }

  patchEmbed(x: Tensor, w: Tensor, b: Tensor, e: Tensor): void {
    const op = 'patchEmbed';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('w', w, ['D', 'P']);
    sb.tensor('b', b, ['D']);
    sb.tensor('e', e, ['B', 'T', 'D']);
    const T = sb.get('T'), P = sb.get('P');
    sb.tensor('x', x, ['B', T * P]);
    checkDistinct(op, [['e', e, 'x', x], ['e', e, 'w', w], ['e', e, 'b', b]]);
    linearForward(d(x), d(w), d(b), d(e), sb.get('B') * T, P, sb.get('D'));
  }

  patchEmbedBackward(de: Tensor, x: Tensor, w: Tensor, dw: Tensor, db: Tensor, dx: Tensor | null): void {
    const op = 'patchEmbedBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('w', w, ['D', 'P']);
    sb.tensor('de', de, ['B', 'T', 'D']);
    const T = sb.get('T'), P = sb.get('P');
    sb.tensor('x', x, ['B', T * P]);
    sb.tensor('dw', dw, ['D', 'P']);
    sb.tensor('db', db, ['D']);
    sb.optional('dx', dx, ['B', T * P]);
    checkDistinct(op, [['dw', dw, 'w', w], ['dx', dx, 'x', x], ['dx', dx, 'de', de], ['dw', dw, 'de', de], ['db', db, 'de', de]]);
    linearBackward(d(de), d(x), d(w), dn(dx), d(dw), d(db), sb.get('B') * T, P, sb.get('D'));
  }

  startToken(e: Tensor, token: Tensor, h: Tensor): void {
    const op = 'startToken';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('e', e, ['B', 'T', 'D']);
    sb.tensor('token', token, ['D']);
    sb.tensor('h', h, ['B', sb.get('T') + 1, 'D']);
    checkDistinct(op, [['h', h, 'e', e], ['h', h, 'token', token]]);
    startTokenForward(d(e), d(token), d(h), sb.get('B'), sb.get('T'), sb.get('D'));
  }

  startTokenBackward(dh: Tensor, de: Tensor | null, dtoken: Tensor | null): void {
    const op = 'startTokenBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dh', dh, ['B', 'S', 'D']);
    const S = sb.get('S');
    requirePositive(op, 'dh sequence length S', S, dh.shape);
    sb.optional('de', de, ['B', S - 1, 'D']);
    sb.optional('dtoken', dtoken, ['D']);
    checkDistinct(op, [['de', de, 'dh', dh], ['dtoken', dtoken, 'dh', dh]]);
    startTokenBackward(d(dh), dn(de), dn(dtoken), sb.get('B'), S - 1, sb.get('D'));
  }

  rmsNorm(x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor): void {
    const op = 'rmsNorm';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'D']);
    sb.tensor('scale', scale, ['D']);
    sb.tensor('y', y, ['N', 'D']);
    sb.tensor('rstd', rstd, ['N']);
    requirePositive(op, 'x feature dim D', sb.get('D'), x.shape);
    checkPositive(op, 'eps', eps);
    checkDistinct(op, [['y', y, 'x', x], ['y', y, 'scale', scale], ['rstd', rstd, 'x', x], ['rstd', rstd, 'y', y]]);
    rmsNormForward(d(x), d(scale), eps, d(y), d(rstd), sb.get('N'), sb.get('D'));
  }

  rmsNormBackward(dy: Tensor, x: Tensor, scale: Tensor, rstd: Tensor, dx: Tensor, dscale: Tensor | null): void {
    const op = 'rmsNormBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'D']);
    sb.tensor('dy', dy, ['N', 'D']);
    sb.tensor('scale', scale, ['D']);
    sb.tensor('rstd', rstd, ['N']);
    sb.tensor('dx', dx, ['N', 'D']);
    sb.optional('dscale', dscale, ['D']);
    checkDistinct(op, [['dx', dx, 'dy', dy], ['dx', dx, 'x', x], ['dscale', dscale, 'scale', scale]]);
    rmsNormBackward(d(dy), d(x), d(scale), d(rstd), d(dx), dn(dscale), sb.get('N'), sb.get('D'));
  }

  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number, y: Tensor, mean: Tensor, rstd: Tensor): void {
    const op = 'layerNorm';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'C']);
    sb.tensor('gamma', gamma, ['C']);
    sb.tensor('beta', beta, ['C']);
    sb.tensor('y', y, ['N', 'C']);
    sb.tensor('mean', mean, ['N']);
    sb.tensor('rstd', rstd, ['N']);
    requirePositive(op, 'x feature dim C', sb.get('C'), x.shape);
    checkPositive(op, 'eps', eps);
    checkDistinct(op, [['y', y, 'x', x], ['mean', mean, 'rstd', rstd], ['y', y, 'gamma', gamma], ['y', y, 'beta', beta]]);
    layerNormForward(d(x), d(gamma), d(beta), eps, d(y), d(mean), d(rstd), sb.get('N'), sb.get('C'));
  }

  layerNormBackward(
    dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor,
    dx: Tensor, dgamma: Tensor | null, dbeta: Tensor | null,
  ): void {
    const op = 'layerNormBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'C']);
    sb.tensor('dy', dy, ['N', 'C']);
    sb.tensor('gamma', gamma, ['C']);
    sb.tensor('mean', mean, ['N']);
    sb.tensor('rstd', rstd, ['N']);
    sb.tensor('dx', dx, ['N', 'C']);
    sb.optional('dgamma', dgamma, ['C']);
    sb.optional('dbeta', dbeta, ['C']);
    checkDistinct(op, [['dx', dx, 'dy', dy], ['dx', dx, 'x', x], ['dgamma', dgamma, 'dbeta', dbeta], ['dgamma', dgamma, 'gamma', gamma]]);
    layerNormBackward(d(dy), d(x), d(gamma), d(mean), d(rstd), d(dx), dn(dgamma), dn(dbeta), sb.get('N'), sb.get('C'));
  }

  relu(x: Tensor, y: Tensor): void {
    requireSameShape('relu', this.name, [['x', x], ['y', y]]);
    reluForward(d(x), d(y));
  }

  reluBackward(dy: Tensor, y: Tensor, dx: Tensor): void {
    requireSameShape('reluBackward', this.name, [['dy', dy], ['y', y], ['dx', dx]]);
    reluBackward(d(dy), d(y), d(dx));
  }

  gelu(x: Tensor, y: Tensor): void {
    requireSameShape('gelu', this.name, [['x', x], ['y', y]]);
    geluForward(d(x), d(y));
  }

  geluBackward(dy: Tensor, x: Tensor, dx: Tensor): void {
    requireSameShape('geluBackward', this.name, [['dy', dy], ['x', x], ['dx', dx]]);
    geluBackward(d(dy), d(x), d(dx));
  }

  dropout(x: Tensor, y: Tensor, p: number, key: DropoutKey): void {
    const op = 'dropout';
    requireSameShape(op, this.name, [['x', x], ['y', y]]);
    checkDropP(op, 'p', p);
    checkDropoutKey(op, 'key', key);
    dropoutForward(d(x), d(y), p, key);
  }

  dropoutBackward(dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void {
    const op = 'dropoutBackward';
    requireSameShape(op, this.name, [['dy', dy], ['dx', dx]]);
    checkDropP(op, 'p', p);
    checkDropoutKey(op, 'key', key);
    dropoutBackward(d(dy), d(dx), p, key);
  }

  /** Shared shape and hyper-parameter checks of the attention forward and backward. */
  private attentionShape(op: string, sb: ShapeBinder, heads: number, lse: Tensor, dropout: AttentionDropout | undefined) {
    checkNumber(op, 'heads', heads, { integer: true, min: 1 });
    const B = sb.get('B'), S = sb.get('S'), D = sb.get('D');
    sb.require(D % heads === 0, `model width D = ${D} (q shape [${B}, ${S}, ${D}]) is not divisible by heads = ${heads}`);
    const hd = D / heads;
    sb.require(hd % 4 === 0, `head dim d = D/heads = ${D}/${heads} = ${hd} must be a multiple of 4 (RoPE rotates d/2 features in pairs)`);
    sb.tensor('lse', lse, ['B', heads, 'S']);
    if (dropout !== undefined) {
      checkOptions(op, 'dropout', dropout);
      checkDropP(op, 'dropout.p', dropout.p);
      checkDropoutKey(op, 'dropout.key', dropout.key);
    }
    return { B, S, H: heads, D };
  }

  ropeAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, out: Tensor, lse: Tensor, dropout?: AttentionDropout): void {
    const op = 'ropeAttention';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('q', q, ['B', 'S', 'D']);
    sb.tensor('k', k, ['B', 'S', 'D']);
    sb.tensor('v', v, ['B', 'S', 'D']);
    sb.tensor('out', out, ['B', 'S', 'D']);
    const shape = this.attentionShape(op, sb, heads, lse, dropout);
    checkDistinct(op, [['out', out, 'q', q], ['out', out, 'k', k], ['out', out, 'v', v], ['lse', lse, 'out', out]]);
    ropeAttentionForward(d(q), d(k), d(v), shape, d(out), d(lse), dropout);
  }

  ropeAttentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, heads: number,
    dq: Tensor, dk: Tensor, dv: Tensor, dropout?: AttentionDropout,
  ): void {
    const op = 'ropeAttentionBackward';
    const sb = new ShapeBinder(op, this.name);
    const names: [string, Tensor][] = [['dout', dout], ['q', q], ['k', k], ['v', v], ['out', out], ['dq', dq], ['dk', dk], ['dv', dv]];
    for (const [n, t] of names) sb.tensor(n, t, ['B', 'S', 'D']);
    const shape = this.attentionShape(op, sb, heads, lse, dropout);
    const pairs: [string, Tensor, string, Tensor][] = [];
    for (const [gn, g] of [['dq', dq], ['dk', dk], ['dv', dv]] as [string, Tensor][]) {
      for (const [n, t] of names.slice(0, 5)) pairs.push([gn, g, n, t]);
    }
    pairs.push(['dq', dq, 'dk', dk], ['dq', dq, 'dv', dv], ['dk', dk, 'dv', dv]);
    checkDistinct(op, pairs);
    // The oracle recomputes the probabilities from q and k; out and lse are checked for shape only.
    ropeAttentionBackward(d(dout), d(q), d(k), d(v), shape, d(dq), d(dk), d(dv), dropout);
  }

  add(a: Tensor, b: Tensor, y: Tensor): void {
    requireSameShape('add', this.name, [['a', a], ['b', b], ['y', y]]);
    addForward(d(a), d(b), d(y));
  }

  accumulate(src: Tensor, dst: Tensor, alpha = 1): void {
    requireSameShape('accumulate', this.name, [['src', src], ['dst', dst]]);
    checkNumber('accumulate', 'alpha', alpha);
    accumulateInto(d(src), d(dst), alpha);
  }

  scale(x: Tensor, s: number): void {
    checkTensor('scale', 'x', x, this.name);
    checkNumber('scale', 's', s);
    scaleInPlace(d(x), s);
  }

  meanPool(h: Tensor, z: Tensor): void {
    const op = 'meanPool';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('h', h, ['B', 'S', 'D']);
    sb.tensor('z', z, ['B', 'D']);
    requirePositive(op, 'h sequence length S', sb.get('S'), h.shape);
    checkDistinct(op, [['z', z, 'h', h]]);
    meanPoolForward(d(h), d(z), sb.get('B'), sb.get('S'), sb.get('D'));
  }

  meanPoolBackward(dz: Tensor, dh: Tensor): void {
    const op = 'meanPoolBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dh', dh, ['B', 'S', 'D']);
    sb.tensor('dz', dz, ['B', 'D']);
    requirePositive(op, 'dh sequence length S', sb.get('S'), dh.shape);
    checkDistinct(op, [['dh', dh, 'dz', dz]]);
    meanPoolBackward(d(dz), d(dh), sb.get('B'), sb.get('S'), sb.get('D'));
  }

  gradReverse(dy: Tensor, dx: Tensor, lambda: number): void {
    requireSameShape('gradReverse', this.name, [['dy', dy], ['dx', dx]]);
    checkNumber('gradReverse', 'lambda', lambda, { min: 0 });
    accumulateInto(d(dy), d(dx), -lambda);
  }

  // ---- losses ----

  private checkHrOptions(op: string, opts: HrLossOptions): void {
    checkOptions(op, 'opts', opts);
    checkNumber(op, 'opts.lambda', opts.lambda, { min: 0 });
    checkLaplaceEps(op, 'opts.eps', opts.eps);
  }

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
    const sb = new ShapeBinder(op, this.name);
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
    this.checkHrOptions(op, opts);
    const outputs: [string, Tensor][] = [['pred', pred], ['sampleLoss', sampleLoss], ['loss', loss], ['groupLossSum', groupLossSum], ['groupCount', groupCount]];
    const inputs: [string, Tensor][] = [['out', out], ['hr', hr], ['w', w], ['group', group]];
    const pairs: [string, Tensor, string, Tensor][] = [];
    outputs.forEach(([on, o], i) => {
      for (const [n, t] of inputs) pairs.push([on, o, n, t]);
      for (const [n, t] of outputs.slice(i + 1)) pairs.push([on, o, n, t]);
    });
    checkDistinct(op, pairs);
    checkValues(op, 'hr', d(hr));
    this.checkWeights(op, w);
    checkGroupIds(op, 'group', d(group), G);
    hrLossForward(d(out), d(hr), d(w), d(group), B, G, opts, d(pred), d(sampleLoss), d(loss), d(groupLossSum), d(groupCount));
  }

  hrLossBackward(out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number): void {
    const op = 'hrLossBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('out', out, ['B', 2]);
    sb.tensor('hr', hr, ['B']);
    sb.tensor('w', w, ['B']);
    sb.tensor('dout', dout, ['B', 2]);
    requirePositive(op, 'batch size B', sb.get('B'), out.shape);
    this.checkHrOptions(op, opts);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dout', dout, 'out', out], ['dout', dout, 'hr', hr], ['dout', dout, 'w', w]]);
    checkValues(op, 'hr', d(hr));
    this.checkWeights(op, w);
    hrLossBackward(d(out), d(hr), d(w), sb.get('B'), opts, d(dout), scale);
  }

  private nextPatchShape(op: string, sb: ShapeBinder, params: Tensor, x: Tensor, eps: number) {
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
    checkValues(op, 'x', d(x));
    return { B, S, T, P };
  }

  nextPatchNll(params: Tensor, x: Tensor, eps: number, loss: Tensor): void {
    const op = 'nextPatchNll';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('loss', loss, [1]);
    const shape = this.nextPatchShape(op, sb, params, x, eps);
    checkDistinct(op, [['loss', loss, 'params', params], ['loss', loss, 'x', x]]);
    nextPatchNllForward(d(params), d(x), shape, eps, d(loss));
  }

  nextPatchNllBackward(params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void {
    const op = 'nextPatchNllBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dparams', dparams, ['B', 'S', 'C']);
    const shape = this.nextPatchShape(op, sb, params, x, eps);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dparams', dparams, 'params', params], ['dparams', dparams, 'x', x]]);
    nextPatchNllBackward(d(params), d(x), shape, eps, d(dparams), scale);
  }

  private bceShape(op: string, sb: ShapeBinder, logits: Tensor, targets: Tensor): void {
    sb.tensor('logits', logits, ['N', 'C']);
    sb.tensor('targets', targets, ['N', 'C']);
    requirePositive(op, 'element count N·C', logits.size, logits.shape);
    checkValues(op, 'targets', d(targets), 0, 1);
  }

  bceWithLogits(logits: Tensor, targets: Tensor, loss: Tensor): void {
    const op = 'bceWithLogits';
    const sb = new ShapeBinder(op, this.name);
    this.bceShape(op, sb, logits, targets);
    sb.tensor('loss', loss, [1]);
    checkDistinct(op, [['loss', loss, 'logits', logits], ['loss', loss, 'targets', targets]]);
    bceWithLogitsForward(d(logits), d(targets), d(loss));
  }

  bceWithLogitsBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void {
    const op = 'bceWithLogitsBackward';
    const sb = new ShapeBinder(op, this.name);
    this.bceShape(op, sb, logits, targets);
    sb.tensor('dlogits', dlogits, ['N', 'C']);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dlogits', dlogits, 'logits', logits], ['dlogits', dlogits, 'targets', targets]]);
    bceWithLogitsBackward(d(logits), d(targets), d(dlogits), scale);
  }

  // ---- fairness and optimisation ----

  groupDroUpdate(q: Tensor, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, w: Tensor): void {
    const op = 'groupDroUpdate';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('q', q, ['G']);
    sb.tensor('groupLossSum', groupLossSum, ['G']);
    sb.tensor('groupCount', groupCount, ['G']);
    sb.tensor('group', group, ['B']);
    sb.tensor('w', w, ['B']);
    const G = sb.get('G');
    requirePositive(op, 'group count G', G, q.shape);
    checkNumber(op, 'eta', eta, { min: 0 });
    checkDistinct(op, [
      ['w', w, 'q', q], ['w', w, 'group', group], ['w', w, 'groupLossSum', groupLossSum], ['w', w, 'groupCount', groupCount],
      ['q', q, 'groupLossSum', groupLossSum], ['q', q, 'groupCount', groupCount], ['q', q, 'group', group],
    ]);
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
    groupDroUpdate(d(q), d(groupLossSum), counts, eta, ids, d(w), G, sb.get('B'));
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
    const op = 'adamw';
    requireSameShape(op, this.name, [['param', param], ['grad', grad], ['m', m], ['v', v]]);
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
    adamwStep(d(param), d(grad), d(m), d(v), opts);
  }

  sumSquares(tensors: readonly Tensor[]): number {
    if (!Array.isArray(tensors)) throw new OpError('sumSquares', 'tensors must be an array of Tensors');
    tensors.forEach((t, i) => checkTensor('sumSquares', `tensors[${i}]`, t, this.name));
    return sumSquares(tensors.map((t) => d(t)));
  }
}
