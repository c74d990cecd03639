// The op methods shared by the native backends (cpu: host Float32Arrays; cuda and cuda-emu: device views).
// Each op checks its tensors with the shared ShapeBinder (so errors read the same on every backend) and makes
// one call into the addon, which validates again before touching memory. A backend supplies its memory
// manager, how a tensor becomes the addon's view, and the addon itself.
import type { AdamWOptions, AttentionDropout, Backend, BackendStats, DropoutKey, HrLossOptions } from './backend';
import { OpError, ShapeBinder, checkDistinct, checkNumber, checkTensor } from './check';
import type { NativeOpsApi } from './native-ops-api';
import { Tensor, shapeStr } from './tensor';

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

const TWO_POW_32 = 4294967296;

/** Every tensor is live, on this backend, and has the shape of the first. */
function sameShape(op: string, backend: string, named: readonly [string, Tensor][]): number {
  const [firstName, first] = named[0];
  for (const [arg, t] of named) {
    checkTensor(op, arg, t, backend);
    if (t.rank !== first.rank || t.shape.some((v, i) => v !== first.shape[i])) {
      throw new OpError(op, `${arg} ${shapeStr(t.shape)} must have the shape of ${firstName} ${shapeStr(first.shape)}`);
    }
  }
  return first.size;
}

function checkKey(op: string, arg: string, key: DropoutKey): void {
  if (key === null || typeof key !== 'object') throw new OpError(op, `${arg} must be a DropoutKey {seed, step, site}`);
  checkNumber(op, `${arg}.seed`, key.seed, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
  checkNumber(op, `${arg}.step`, key.step, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
  checkNumber(op, `${arg}.site`, key.site, { integer: true, min: 0, max: TWO_POW_32, maxExclusive: true });
}

function checkP(op: string, arg: string, p: number): void {
  checkNumber(op, arg, p, { min: 0, max: 1, maxExclusive: true });
}

/** The native dropout arguments (p, seed, step, site); no dropout is p = 0. */
function attnDropoutArgs(op: string, dropout: AttentionDropout | undefined): [number, number, number, number] {
  if (dropout === undefined) return [0, 0, 0, 0];
  if (dropout === null || typeof dropout !== 'object') throw new OpError(op, 'dropout must be {p, key} or undefined');
  checkP(op, 'dropout.p', dropout.p);
  checkKey(op, 'dropout.key', dropout.key);
  return [dropout.p, dropout.key.seed, dropout.key.step, dropout.key.site];
}

function checkHr(op: string, opts: HrLossOptions): void {
  if (opts === null || typeof opts !== 'object') throw new OpError(op, 'opts must be {lambda, eps}');
  checkNumber(op, 'opts.lambda', opts.lambda, { min: 0 });
  checkNumber(op, 'opts.eps', opts.eps, { min: 0, max: 0.5, maxExclusive: true });
  if (!(opts.eps > 0)) throw new OpError(op, `opts.eps must be > 0, got ${opts.eps}`);
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
    const op = 'linear';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'K']);
    sb.tensor('w', w, ['M', 'K']);
    sb.optional('b', b, ['M']);
    sb.tensor('y', y, ['N', 'M']);
    checkDistinct(op, [['y', y, 'x', x], ['y', y, 'w', w], ['y', y, 'b', b]]);
    this.native.linear(this.v(x), this.v(w), this.vn(b), this.v(y), sb.get('N'), sb.get('K'), sb.get('M'));
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
    checkDistinct(op, [['dx', dx, 'dy', dy], ['dx', dx, 'x', x], ['dw', dw, 'w', w], ['dw', dw, 'dy', dy], ['db', db, 'dy', dy]]);
    this.native.linearBackward(this.v(dy), this.v(x), this.v(w), this.vn(dx), this.vn(dw), this.vn(db), sb.get('N'), sb.get('K'), sb.get('M'));
  }

  /** x[B, T·P] as [B·T, P] through the GEMM. */
  patchEmbed(x: Tensor, w: Tensor, b: Tensor, e: Tensor): void {
    const op = 'patchEmbed';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('w', w, ['D', 'P']);
    sb.tensor('b', b, ['D']);
    sb.tensor('e', e, ['B', 'T', 'D']);
    const T = sb.get('T'), P = sb.get('P');
    sb.tensor('x', x, ['B', T * P]);
    checkDistinct(op, [['e', e, 'x', x], ['e', e, 'w', w], ['e', e, 'b', b]]);
    this.native.linear(this.v(x), this.v(w), this.v(b), this.v(e), sb.get('B') * T, P, sb.get('D'));
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
    this.native.linearBackward(this.v(de), this.v(x), this.v(w), this.vn(dx), this.v(dw), this.v(db), sb.get('B') * T, P, sb.get('D'));
  }

  startToken(e: Tensor, token: Tensor, h: Tensor): void {
    const op = 'startToken';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('e', e, ['B', 'T', 'D']);
    sb.tensor('token', token, ['D']);
    sb.tensor('h', h, ['B', sb.get('T') + 1, 'D']);
    checkDistinct(op, [['h', h, 'e', e], ['h', h, 'token', token]]);
    this.native.startToken(this.v(e), this.v(token), this.v(h), sb.get('B'), sb.get('T'), sb.get('D'));
  }

  startTokenBackward(dh: Tensor, de: Tensor | null, dtoken: Tensor | null): void {
    const op = 'startTokenBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dh', dh, ['B', 'S', 'D']);
    const S = sb.get('S');
    sb.require(S >= 1, `dh ${shapeStr(dh.shape)} must hold at least the start token (S ≥ 1)`);
    sb.optional('de', de, ['B', S - 1, 'D']);
    sb.optional('dtoken', dtoken, ['D']);
    checkDistinct(op, [['de', de, 'dh', dh], ['dtoken', dtoken, 'dh', dh]]);
    this.native.startTokenBackward(this.v(dh), this.vn(de), this.vn(dtoken), sb.get('B'), S - 1, sb.get('D'));
  }

  rmsNorm(x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor): void {
    const op = 'rmsNorm';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'D']);
    sb.tensor('scale', scale, ['D']);
    sb.tensor('y', y, ['N', 'D']);
    sb.tensor('rstd', rstd, ['N']);
    checkNumber(op, 'eps', eps, { min: 0 });
    checkDistinct(op, [['y', y, 'x', x], ['rstd', rstd, 'x', x], ['rstd', rstd, 'y', y]]);
    this.native.rmsNorm(this.v(x), this.v(scale), eps, this.v(y), this.v(rstd), sb.get('N'), sb.get('D'));
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
    this.native.rmsNormBackward(this.v(dy), this.v(x), this.v(scale), this.v(rstd), this.v(dx), this.vn(dscale), sb.get('N'), sb.get('D'));
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
    checkNumber(op, 'eps', eps, { min: 0 });
    checkDistinct(op, [['y', y, 'x', x], ['mean', mean, 'rstd', rstd]]);
    this.native.layerNorm(this.v(x), this.v(gamma), this.v(beta), eps, this.v(y), this.v(mean), this.v(rstd), sb.get('N'), sb.get('C'));
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
    checkDistinct(op, [['dx', dx, 'dy', dy], ['dx', dx, 'x', x], ['dgamma', dgamma, 'dbeta', dbeta]]);
    this.native.layerNormBackward(
      this.v(dy), this.v(x), this.v(gamma), this.v(mean), this.v(rstd), this.v(dx), this.vn(dgamma), this.vn(dbeta), sb.get('N'), sb.get('C'),
    );
  }

  relu(x: Tensor, y: Tensor): void {
    const n = sameShape('relu', this.name, [['x', x], ['y', y]]);
    if (n > 0) this.native.relu(this.v(x), this.v(y), n);
  }

  reluBackward(dy: Tensor, y: Tensor, dx: Tensor): void {
    this.native.reluBackward(this.v(dy), this.v(y), this.v(dx), sameShape('reluBackward', this.name, [['dy', dy], ['y', y], ['dx', dx]]));
  }

  gelu(x: Tensor, y: Tensor): void {
    this.native.gelu(this.v(x), this.v(y), sameShape('gelu', this.name, [['x', x], ['y', y]]));
  }

  geluBackward(dy: Tensor, x: Tensor, dx: Tensor): void {
    this.native.geluBackward(this.v(dy), this.v(x), this.v(dx), sameShape('geluBackward', this.name, [['dy', dy], ['x', x], ['dx', dx]]));
  }

  dropout(x: Tensor, y: Tensor, p: number, key: DropoutKey): void {
    const n = sameShape('dropout', this.name, [['x', x], ['y', y]]);
    checkP('dropout', 'p', p);
    checkKey('dropout', 'key', key);
    this.native.dropout(this.v(x), this.v(y), n, p, key.seed, key.step, key.site);
  }

  dropoutBackward(dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void {
    const n = sameShape('dropoutBackward', this.name, [['dy', dy], ['dx', dx]]);
    checkP('dropoutBackward', 'p', p);
    checkKey('dropoutBackward', 'key', key);
    this.native.dropoutBackward(this.v(dy), this.v(dx), n, p, key.seed, key.step, key.site);
  }

  private attentionShape(op: string, sb: ShapeBinder, heads: number, lse: Tensor): [number, number, number, number] {
    checkNumber(op, 'heads', heads, { integer: true, min: 1 });
    const B = sb.get('B'), S = sb.get('S'), D = sb.get('D');
    sb.require(D % heads === 0, `model width D = ${D} is not divisible by heads = ${heads}`);
    sb.require((D / heads) % 4 === 0, `head dim D/heads = ${D / heads} must be a multiple of 4 (RoPE rotates d/2 features in pairs)`);
    sb.tensor('lse', lse, ['B', heads, 'S']);
    return [B, S, D, heads];
  }

  ropeAttention(q: Tensor, k: Tensor, v: Tensor, heads: number, out: Tensor, lse: Tensor, dropout?: AttentionDropout): void {
    const op = 'ropeAttention';
    const sb = new ShapeBinder(op, this.name);
    for (const [n, t] of [['q', q], ['k', k], ['v', v], ['out', out]] as [string, Tensor][]) sb.tensor(n, t, ['B', 'S', 'D']);
    const [B, S, D, H] = this.attentionShape(op, sb, heads, lse);
    const [p, seed, step, site] = attnDropoutArgs(op, dropout);
    checkDistinct(op, [['out', out, 'q', q], ['out', out, 'k', k], ['out', out, 'v', v], ['lse', lse, 'out', out]]);
    this.native.ropeAttention(this.v(q), this.v(k), this.v(v), this.v(out), this.v(lse), B, S, D, H, p, seed, step, site);
  }

  ropeAttentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, heads: number,
    dq: Tensor, dk: Tensor, dv: Tensor, dropout?: AttentionDropout,
  ): void {
    const op = 'ropeAttentionBackward';
    const sb = new ShapeBinder(op, this.name);
    const named: [string, Tensor][] = [['dout', dout], ['q', q], ['k', k], ['v', v], ['out', out], ['dq', dq], ['dk', dk], ['dv', dv]];
    for (const [n, t] of named) sb.tensor(n, t, ['B', 'S', 'D']);
    const [B, S, D, H] = this.attentionShape(op, sb, heads, lse);
    const [p, seed, step, site] = attnDropoutArgs(op, dropout);
    checkDistinct(op, [['dq', dq, 'dk', dk], ['dq', dq, 'dv', dv], ['dk', dk, 'dv', dv], ['dq', dq, 'dout', dout], ['dk', dk, 'dout', dout], ['dv', dv, 'dout', dout]]);
    this.native.ropeAttentionBackward(
      this.v(dout), this.v(q), this.v(k), this.v(v), this.v(out), this.v(lse), this.v(dq), this.v(dk), this.v(dv), B, S, D, H, p, seed, step, site,
    );
  }

  add(a: Tensor, b: Tensor, y: Tensor): void {
    this.native.add(this.v(a), this.v(b), this.v(y), sameShape('add', this.name, [['a', a], ['b', b], ['y', y]]));
  }

  accumulate(src: Tensor, dst: Tensor, alpha = 1): void {
    const n = sameShape('accumulate', this.name, [['src', src], ['dst', dst]]);
    checkNumber('accumulate', 'alpha', alpha);
    this.native.accumulate(this.v(src), this.v(dst), alpha, n);
  }

  scale(x: Tensor, s: number): void {
    checkTensor('scale', 'x', x, this.name);
    checkNumber('scale', 's', s);
    if (x.size > 0) this.native.scale(this.v(x), s, x.size);
  }

  meanPool(h: Tensor, z: Tensor): void {
    const op = 'meanPool';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('h', h, ['B', 'S', 'D']);
    sb.tensor('z', z, ['B', 'D']);
    checkDistinct(op, [['z', z, 'h', h]]);
    this.native.meanPool(this.v(h), this.v(z), sb.get('B'), sb.get('S'), sb.get('D'));
  }

  meanPoolBackward(dz: Tensor, dh: Tensor): void {
    const op = 'meanPoolBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dh', dh, ['B', 'S', 'D']);
    sb.tensor('dz', dz, ['B', 'D']);
    checkDistinct(op, [['dh', dh, 'dz', dz]]);
    this.native.meanPoolBackward(this.v(dz), this.v(dh), sb.get('B'), sb.get('S'), sb.get('D'));
  }

  gradReverse(dy: Tensor, dx: Tensor, lambda: number): void {
    const n = sameShape('gradReverse', this.name, [['dy', dy], ['dx', dx]]);
    checkNumber('gradReverse', 'lambda', lambda, { min: 0 });
    this.native.gradReverse(this.v(dy), this.v(dx), lambda, n);
  }

  // ---- losses ----

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
    checkHr(op, opts);
    checkDistinct(op, [['pred', pred, 'out', out], ['sampleLoss', sampleLoss, 'out', out], ['groupLossSum', groupLossSum, 'groupCount', groupCount]]);
    this.native.hrLoss(
      this.v(out), this.v(hr), this.v(w), this.v(group), opts.lambda, opts.eps,
      this.v(pred), this.v(sampleLoss), this.v(loss), this.v(groupLossSum), this.v(groupCount), sb.get('B'), sb.get('G'),
    );
  }

  hrLossBackward(out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number): void {
    const op = 'hrLossBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('out', out, ['B', 2]);
    sb.tensor('hr', hr, ['B']);
    sb.tensor('w', w, ['B']);
    sb.tensor('dout', dout, ['B', 2]);
    checkHr(op, opts);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dout', dout, 'out', out]]);
    this.native.hrLossBackward(this.v(out), this.v(hr), this.v(w), opts.lambda, opts.eps, this.v(dout), scale, sb.get('B'));
  }

  private nextPatchShape(op: string, sb: ShapeBinder, params: Tensor, x: Tensor, eps: number): [number, number, number, number] {
    sb.tensor('params', params, ['B', 'S', 'C']);
    sb.tensor('x', x, ['B', 'L']);
    const B = sb.get('B'), S = sb.get('S'), C = sb.get('C'), L = sb.get('L');
    sb.require(C >= 2 && C % 2 === 0, `params ${shapeStr(params.shape)} last dim must be 2P (μ and log b per sample), got ${C}`);
    const P = C / 2;
    sb.require(L >= P && L % P === 0, `x ${shapeStr(x.shape)} length ${L} must be a positive multiple of the patch length P = ${P}`);
    const T = L / P;
    sb.require(T <= S - 1, `x has T = ${T} patches but params ${shapeStr(params.shape)} has S = ${S} tokens (need T ≤ S − 1)`);
    checkNumber(op, 'eps', eps, { min: 0, max: 0.5, maxExclusive: true });
    return [B, S, T, P];
  }

  nextPatchNll(params: Tensor, x: Tensor, eps: number, loss: Tensor): void {
    const op = 'nextPatchNll';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('loss', loss, [1]);
    const [B, S, T, P] = this.nextPatchShape(op, sb, params, x, eps);
    checkDistinct(op, [['loss', loss, 'params', params], ['loss', loss, 'x', x]]);
    this.native.nextPatchNll(this.v(params), this.v(x), eps, this.v(loss), B, S, T, P);
  }

  nextPatchNllBackward(params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void {
    const op = 'nextPatchNllBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dparams', dparams, ['B', 'S', 'C']);
    const [B, S, T, P] = this.nextPatchShape(op, sb, params, x, eps);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dparams', dparams, 'params', params], ['dparams', dparams, 'x', x]]);
    this.native.nextPatchNllBackward(this.v(params), this.v(x), eps, this.v(dparams), scale, B, S, T, P);
  }

  bceWithLogits(logits: Tensor, targets: Tensor, loss: Tensor): void {
    const op = 'bceWithLogits';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('logits', logits, ['N', 'C']);
    sb.tensor('targets', targets, ['N', 'C']);
    sb.tensor('loss', loss, [1]);
    checkDistinct(op, [['loss', loss, 'logits', logits], ['loss', loss, 'targets', targets]]);
    this.native.bceWithLogits(this.v(logits), this.v(targets), this.v(loss), logits.size);
  }

  bceWithLogitsBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void {
    const op = 'bceWithLogitsBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('logits', logits, ['N', 'C']);
    sb.tensor('targets', targets, ['N', 'C']);
    sb.tensor('dlogits', dlogits, ['N', 'C']);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dlogits', dlogits, 'logits', logits], ['dlogits', dlogits, 'targets', targets]]);
    this.native.bceWithLogitsBackward(this.v(logits), this.v(targets), this.v(dlogits), scale, logits.size);
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
    checkNumber(op, 'eta', eta, { min: 0 });
    checkDistinct(op, [['w', w, 'q', q], ['w', w, 'group', group], ['q', q, 'groupLossSum', groupLossSum]]);
    this.native.groupDroUpdate(this.v(q), this.v(groupLossSum), this.v(groupCount), eta, this.v(group), this.v(w), sb.get('G'), sb.get('B'));
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
    const op = 'adamw';
    const n = sameShape(op, this.name, [['param', param], ['grad', grad], ['m', m], ['v', v]]);
    checkDistinct(op, [['param', param, 'grad', grad], ['param', param, 'm', m], ['param', param, 'v', v], ['m', m, 'v', v]]);
    if (opts === null || typeof opts !== 'object') throw new OpError(op, 'opts must be an AdamWOptions object');
    checkNumber(op, 'opts.lr', opts.lr, { min: 0 });
    checkNumber(op, 'opts.beta1', opts.beta1, { min: 0, max: 1, maxExclusive: true });
    checkNumber(op, 'opts.beta2', opts.beta2, { min: 0, max: 1, maxExclusive: true });
    checkNumber(op, 'opts.eps', opts.eps, { min: 0 });
    checkNumber(op, 'opts.weightDecay', opts.weightDecay, { min: 0 });
    checkNumber(op, 'opts.step', opts.step, { integer: true, min: 1 });
    if (n === 0) return;
    this.native.adamw(this.v(param), this.v(grad), this.v(m), this.v(v), opts.lr, opts.beta1, opts.beta2, opts.eps, opts.weightDecay, opts.step, n);
  }

  sumSquares(tensors: readonly Tensor[]): number {
    if (!Array.isArray(tensors)) throw new OpError('sumSquares', 'tensors must be an array of Tensors');
    tensors.forEach((t, i) => checkTensor('sumSquares', `tensors[${i}]`, t, this.name));
    return this.native.sumSquares(tensors.filter((t) => t.size > 0).map((t) => this.v(t)));
  }
}
