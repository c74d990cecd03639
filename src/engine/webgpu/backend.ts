// The webgpu backend: every op is a WGSL kernel (kernels/wgsl) run by Dawn through the `webgpu` package.
// Ops validate their arguments exactly as the reference backend does (same checks, same messages), then
// queue dispatches: nothing waits on the device except download() and sumSquares() (and a value check of
// a tensor whose contents the host does not know; see storage.ts). The device lives in a worker thread
// (device-worker.ts) behind a synchronous facade (device-client.ts), so this class is synchronous like
// every other backend and the registry can construct it directly.
import type { AdamWOptions, AttentionDropout, Backend, DropoutKey, HrLossOptions } from '../backend';
import { OpError, ShapeBinder, checkDistinct, checkNumber, checkTensor } from '../check';
import { dropoutKeyWords, dropoutThreshold } from '../philox';
import { ropeTable } from '../reference/rope';
import {
  checkDropP, checkDropoutKey, checkGroupIds, checkValues, requirePositive, requireSameShape,
} from '../reference/validate';
import { Tensor } from '../tensor';
import { DeviceClient, DeviceOptions } from './device-client';
import { Grid, KernelRunner } from './kernel-runner';
import { ATTENTION, ATTENTION_ROWS, ELEMENTWISE_WG, GEMM_TILE, K, attentionConsts } from './kernels';
import { GpuStorage, handleOf } from './storage';
import type { KernelDef } from './wgsl';

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

/** Philox parameters of a dropout key as kernel uniforms. */
function dropParams(p: number, key: DropoutKey): Record<string, number> {
  const [k0, k1] = dropoutKeyWords(key);
  return { k0, k1, step: key.step >>> 0, site: key.site >>> 0, threshold: dropoutThreshold(p), scale: 1 / (1 - p) };
}

export class WebGpuBackend extends GpuStorage implements Backend {
  override readonly name = 'webgpu';
  readonly description: string;
  private readonly runner: KernelRunner;
  /** RoPE cos/sin tables on the device, by "S×hd". */
  private readonly ropeTables = new Map<string, Tensor>();
  /** Internal scratch (attention Δ, sumSquares partials), grown on demand; not counted in stats(). */
  private scratchDelta: Tensor | null = null;
  private scratchPartials: Tensor | null = null;

  /** Starts the device worker and waits for the device; throws "webgpu unavailable: <reason>" without one. */
  constructor(opts: DeviceOptions = {}) {
    let client: DeviceClient;
    try {
      client = new DeviceClient(opts);
    } catch (e) {
      throw new Error(`webgpu unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
    super(client);
    this.runner = new KernelRunner(client);
    const opt = opts.createOptions?.join(' ') ?? 'backend=opengles';
    this.description = `WGSL kernels on Dawn (${opt}): ${client.description.adapter}; device in a worker thread`;
  }

  /** The asynchronous probe the brief of issue 8 asks for; construction itself is synchronous (worker facade). */
  static async create(opts: DeviceOptions = {}): Promise<WebGpuBackend> {
    return new WebGpuBackend(opts);
  }

  /** Number of distinct WGSL pipelines built so far. */
  get pipelinesCompiled(): number {
    return this.runner.compiled;
  }

  /** Waits until the device has run every queued op (errors of earlier ops surface here). */
  synchronize(): void {
    this.client.sync();
  }

  /** Destroys the device and ends its worker thread; the backend is unusable afterwards. */
  destroy(): void {
    this.client.shutdown();
  }

  get destroyed(): boolean {
    return this.client.isClosed;
  }

  private run(def: KernelDef, tensors: Record<string, Tensor | null>, params: Record<string, number>, grid: Grid, consts?: Record<string, number | string>): void {
    this.runner.run(def, tensors, params, grid, consts);
  }

  /** One invocation per element (or per `per` elements) of a kernel with workgroup size wg. */
  private elems(n: number, wg = ELEMENTWISE_WG, per = 1): Grid {
    return this.runner.grid1d(Math.ceil(Math.ceil(n / per) / wg));
  }

  private internal(current: Tensor | null, n: number): Tensor {
    if (current !== null && current.size >= n) return current;
    if (current !== null) this.dispose(current);
    return this.internalTensor([Math.max(n, 1024)]);
  }

  // ---- layers ----

  /** c[M,N] (+)= a·b (+ bias) with strides; see gemm.wgsl. */
  private gemm(
    a: Tensor, b: Tensor, c: Tensor, bias: Tensor | null,
    M: number, N: number, Kd: number, sa: [number, number], sb: [number, number], accumulate: boolean,
  ): void {
    this.run(K.gemm, { a, b, c, bias }, {
      M, N, K: Kd, sa_i: sa[0], sa_k: sa[1], sb_k: sb[0], sb_j: sb[1], accumulate: accumulate ? 1 : 0,
    }, [Math.ceil(N / GEMM_TILE.TN), Math.ceil(M / GEMM_TILE.TM), 1]);
  }

  private linearForwardRaw(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, N: number, Kd: number, M: number): void {
    // y[n, m] = Σ_k x[n, k]·w[m, k] + b[m]: A = x (row-major), B(k, m) = w[m, k].
    this.gemm(x, w, y, b, N, M, Kd, [Kd, 1], [1, Kd], false);
  }

  private linearBackwardRaw(
    dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null, N: number, Kd: number, M: number,
  ): void {
    // dx[n, k] += Σ_m dy[n, m]·w[m, k]
    if (dx !== null) this.gemm(dy, w, dx, null, N, Kd, M, [M, 1], [Kd, 1], true);
    // dw[m, k] += Σ_n dy[n, m]·x[n, k]: A(m, n) = dy[n, m]
    if (dw !== null) this.gemm(dy, x, dw, null, M, Kd, N, [1, M], [Kd, 1], true);
    if (db !== null) this.run(K.columnSum, { a: dy, out: db }, { rows: N, cols: M, lda: M }, [Math.ceil(M / 64), 1, 1]);
  }

  linear(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): void {
    const op = 'linear';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('x', x, ['N', 'K']);
    sb.tensor('w', w, ['M', 'K']);
    sb.optional('b', b, ['M']);
    sb.tensor('y', y, ['N', 'M']);
    checkDistinct(op, [['y', y, 'x', x], ['y', y, 'w', w], ['y', y, 'b', b]]);
    this.linearForwardRaw(x, w, b, y, sb.get('N'), sb.get('K'), sb.get('M'));
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
    this.linearBackwardRaw(dy, x, w, dx, dw, db, sb.get('N'), sb.get('K'), sb.get('M'));
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
    this.linearForwardRaw(x, w, b, e, sb.get('B') * T, P, sb.get('D'));
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
    this.linearBackwardRaw(de, x, w, dx, dw, db, sb.get('B') * T, P, sb.get('D'));
  }

  startToken(e: Tensor, token: Tensor, h: Tensor): void {
    const op = 'startToken';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('e', e, ['B', 'T', 'D']);
    sb.tensor('token', token, ['D']);
    sb.tensor('h', h, ['B', sb.get('T') + 1, 'D']);
    checkDistinct(op, [['h', h, 'e', e], ['h', h, 'token', token]]);
    const B = sb.get('B'), T = sb.get('T'), D = sb.get('D');
    this.run(K.startToken, { e, token, h }, { B, T, D }, this.elems(B * (T + 1) * D));
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
    const B = sb.get('B'), D = sb.get('D'), T = S - 1;
    if (dtoken !== null) this.run(K.columnSum, { a: dh, out: dtoken }, { rows: B, cols: D, lda: S * D }, [Math.ceil(D / 64), 1, 1]);
    if (de !== null) this.run(K.startTokenBackwardDe, { dh, de }, { B, T, D }, this.elems(B * T * D));
  }

  /** Norm kernels run one workgroup per row, rows folded into a 2-D grid. */
  private rows(n: number): Grid {
    return this.runner.grid1d(n);
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
    const N = sb.get('N'), D = sb.get('D');
    this.run(K.rmsForward, { x, scale, y, rstd }, { N, D, eps }, this.rows(N));
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
    const N = sb.get('N'), D = sb.get('D');
    // dscale first: it reads dy and x, which the dx pass never writes (they are distinct from dx).
    if (dscale !== null) this.run(K.rmsBackwardDscale, { dy, x, rstd, dscale }, { N, D }, [Math.ceil(D / 64), 1, 1]);
    this.run(K.rmsBackwardDx, { dy, x, scale, rstd, dx }, { N, D }, this.rows(N));
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
    const N = sb.get('N'), C = sb.get('C');
    this.run(K.lnForward, { x, gamma, beta, y, mean, rstd }, { N, C, eps }, this.rows(N));
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
    const N = sb.get('N'), C = sb.get('C');
    if (dgamma !== null || dbeta !== null) {
      this.run(K.lnBackwardParams, { dy, x, mean, rstd, dgamma, dbeta }, { N, C }, [Math.ceil(C / 64), 1, 1]);
    }
    this.run(K.lnBackwardDx, { dy, x, gamma, mean, rstd, dx }, { N, C }, this.rows(N));
  }

  relu(x: Tensor, y: Tensor): void {
    requireSameShape('relu', this.name, [['x', x], ['y', y]]);
    this.run(K.relu, { x, y }, { n: x.size }, this.elems(x.size));
  }

  reluBackward(dy: Tensor, y: Tensor, dx: Tensor): void {
    requireSameShape('reluBackward', this.name, [['dy', dy], ['y', y], ['dx', dx]]);
    this.run(K.reluBackward, { dy, y, dx }, { n: dy.size }, this.elems(dy.size));
  }

  gelu(x: Tensor, y: Tensor): void {
    requireSameShape('gelu', this.name, [['x', x], ['y', y]]);
    this.run(K.gelu, { x, y }, { n: x.size }, this.elems(x.size));
  }

  geluBackward(dy: Tensor, x: Tensor, dx: Tensor): void {
    requireSameShape('geluBackward', this.name, [['dy', dy], ['x', x], ['dx', dx]]);
    this.run(K.geluBackward, { dy, x, dx }, { n: dy.size }, this.elems(dy.size));
  }

  dropout(x: Tensor, y: Tensor, p: number, key: DropoutKey): void {
    const op = 'dropout';
    requireSameShape(op, this.name, [['x', x], ['y', y]]);
    checkDropP(op, 'p', p);
    checkDropoutKey(op, 'key', key);
    if (p === 0) {
      this.copy(x, y);
      return;
    }
    this.run(K.dropoutForward, { x, y }, { n: x.size, ...dropParams(p, key) }, this.elems(x.size, ELEMENTWISE_WG, 4));
  }

  dropoutBackward(dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void {
    const op = 'dropoutBackward';
    requireSameShape(op, this.name, [['dy', dy], ['dx', dx]]);
    checkDropP(op, 'p', p);
    checkDropoutKey(op, 'key', key);
    if (p === 0) {
      this.run(K.axpy, { src: dy, dst: dx }, { n: dy.size, alpha: 1 }, this.elems(dy.size));
      return;
    }
    this.run(K.dropoutBackward, { dy, dx }, { n: dy.size, ...dropParams(p, key) }, this.elems(dy.size, ELEMENTWISE_WG, 4));
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
    return { B, S, H: heads, D, hd };
  }

  /** The uniforms shared by the attention kernels. */
  private attentionParams(s: { B: number; S: number; H: number; D: number; hd: number }, dropout: AttentionDropout | undefined) {
    const on = dropout !== undefined && dropout.p > 0;
    const dp = on ? dropParams(dropout.p, dropout.key) : { k0: 0, k1: 0, step: 0, site: 0, threshold: 0, scale: 1 };
    return {
      B: s.B, S: s.S, H: s.H, D: s.D, scale: 1 / Math.sqrt(s.hd), drop: on ? 1 : 0,
      k0: dp.k0, k1: dp.k1, step: dp.step, site: dp.site, threshold: dp.threshold, dscale: dp.scale,
    };
  }

  /** The RoPE cos/sin table for S positions and head dim hd, computed in float64 and kept on the device. */
  private rope(S: number, hd: number): Tensor {
    const key = `${S}x${hd}`;
    let t = this.ropeTables.get(key);
    if (t === undefined) {
      const tab = ropeTable(Math.max(S, 1), hd);
      const data = new Float32Array(tab.cos.length * 2);
      for (let i = 0; i < tab.cos.length; i++) {
        data[2 * i] = tab.cos[i];
        data[2 * i + 1] = tab.sin[i];
      }
      t = this.internalTensor([Math.max(data.length, 1)], data.length > 0 ? data : new Float32Array(1));
      this.ropeTables.set(key, t);
    }
    return t;
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
    if (shape.B * shape.S * shape.D === 0) return;
    const rope = this.rope(shape.S, shape.hd);
    this.run(ATTENTION.forward, { q, k, v, rope, out, lse }, this.attentionParams(shape, dropout),
      [Math.ceil(shape.S / ATTENTION_ROWS), shape.B * shape.H, 1], attentionConsts(shape.hd));
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
    const { B, S, H } = shape;
    if (B * S * shape.D === 0) return;
    const rope = this.rope(S, shape.hd);
    this.scratchDelta = this.internal(this.scratchDelta, B * H * S);
    const delta = this.scratchDelta;
    const params = this.attentionParams(shape, dropout);
    const consts = attentionConsts(shape.hd);
    this.run(ATTENTION.delta, { dout, out, delta }, params, this.elems(B * H * S, 64), consts);
    const grid: Grid = [Math.ceil(S / ATTENTION_ROWS), B * H, 1];
    this.run(ATTENTION.dq, { q, k, v, rope, dout, lse, delta, dq }, params, grid, consts);
    this.run(ATTENTION.dkdv, { q, k, v, rope, dout, lse, delta, dk, dv }, params, grid, consts);
  }

  add(a: Tensor, b: Tensor, y: Tensor): void {
    requireSameShape('add', this.name, [['a', a], ['b', b], ['y', y]]);
    this.run(K.add, { a, b, y }, { n: y.size }, this.elems(y.size));
  }

  accumulate(src: Tensor, dst: Tensor, alpha = 1): void {
    requireSameShape('accumulate', this.name, [['src', src], ['dst', dst]]);
    checkNumber('accumulate', 'alpha', alpha);
    this.run(K.axpy, { src, dst }, { n: dst.size, alpha }, this.elems(dst.size));
  }

  scale(x: Tensor, s: number): void {
    checkTensor('scale', 'x', x, this.name);
    checkNumber('scale', 's', s);
    this.run(K.scale, { x }, { n: x.size, s }, this.elems(x.size));
  }

  meanPool(h: Tensor, z: Tensor): void {
    const op = 'meanPool';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('h', h, ['B', 'S', 'D']);
    sb.tensor('z', z, ['B', 'D']);
    requirePositive(op, 'h sequence length S', sb.get('S'), h.shape);
    checkDistinct(op, [['z', z, 'h', h]]);
    const B = sb.get('B'), S = sb.get('S'), D = sb.get('D');
    this.run(K.meanPool, { h, z }, { B, S, D }, this.elems(B * D));
  }

  meanPoolBackward(dz: Tensor, dh: Tensor): void {
    const op = 'meanPoolBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dh', dh, ['B', 'S', 'D']);
    sb.tensor('dz', dz, ['B', 'D']);
    requirePositive(op, 'dh sequence length S', sb.get('S'), dh.shape);
    checkDistinct(op, [['dh', dh, 'dz', dz]]);
    const B = sb.get('B'), S = sb.get('S'), D = sb.get('D');
    this.run(K.meanPoolBackward, { dz, dh }, { B, S, D }, this.elems(B * S * D));
  }

  gradReverse(dy: Tensor, dx: Tensor, lambda: number): void {
    requireSameShape('gradReverse', this.name, [['dy', dy], ['dx', dx]]);
    checkNumber('gradReverse', 'lambda', lambda, { min: 0 });
    this.run(K.axpy, { src: dy, dst: dx }, { n: dx.size, alpha: -lambda }, this.elems(dx.size));
  }

  // ---- losses ----

  private checkHrOptions(op: string, opts: HrLossOptions): void {
    checkOptions(op, 'opts', opts);
    checkNumber(op, 'opts.lambda', opts.lambda, { min: 0 });
    checkLaplaceEps(op, 'opts.eps', opts.eps);
  }

  /** Weights are finite, non-negative and not all zero (Σ w is the loss's denominator). */
  private checkWeights(op: string, w: Tensor): void {
    const values = this.hostValues(w);
    checkValues(op, 'w', values, 0);
    let sum = 0;
    for (const x of values) sum += x;
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
    checkValues(op, 'hr', this.hostValues(hr));
    this.checkWeights(op, w);
    checkGroupIds(op, 'group', this.hostValues(group), G);
    this.run(K.hrLoss, { out, hr, w, group, pred, sample: sampleLoss, loss, gsum: groupLossSum, gcount: groupCount },
      { B, G, lambda: opts.lambda, eps: opts.eps }, [1, 1, 1]);
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
    checkValues(op, 'hr', this.hostValues(hr));
    this.checkWeights(op, w);
    this.run(K.hrLossBackward, { out, hr, w, dout }, { B: sb.get('B'), lambda: opts.lambda, eps: opts.eps, scale }, [1, 1, 1]);
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
    checkValues(op, 'x', this.hostValues(x));
    return { B, S, T, P };
  }

  nextPatchNll(params: Tensor, x: Tensor, eps: number, loss: Tensor): void {
    const op = 'nextPatchNll';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('loss', loss, [1]);
    const shape = this.nextPatchShape(op, sb, params, x, eps);
    checkDistinct(op, [['loss', loss, 'params', params], ['loss', loss, 'x', x]]);
    this.run(K.nextPatchNll, { params, x, loss }, { ...shape, eps }, [1, 1, 1]);
  }

  nextPatchNllBackward(params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void {
    const op = 'nextPatchNllBackward';
    const sb = new ShapeBinder(op, this.name);
    sb.tensor('dparams', dparams, ['B', 'S', 'C']);
    const shape = this.nextPatchShape(op, sb, params, x, eps);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dparams', dparams, 'params', params], ['dparams', dparams, 'x', x]]);
    const n = shape.B * shape.T * shape.P;
    this.run(K.nextPatchBackward, { params, x, dparams }, { ...shape, eps, f: scale / n }, this.elems(n, 256));
  }

  private bceShape(op: string, sb: ShapeBinder, logits: Tensor, targets: Tensor): void {
    sb.tensor('logits', logits, ['N', 'C']);
    sb.tensor('targets', targets, ['N', 'C']);
    requirePositive(op, 'element count N·C', logits.size, logits.shape);
    checkValues(op, 'targets', this.hostValues(targets), 0, 1);
  }

  bceWithLogits(logits: Tensor, targets: Tensor, loss: Tensor): void {
    const op = 'bceWithLogits';
    const sb = new ShapeBinder(op, this.name);
    this.bceShape(op, sb, logits, targets);
    sb.tensor('loss', loss, [1]);
    checkDistinct(op, [['loss', loss, 'logits', logits], ['loss', loss, 'targets', targets]]);
    this.run(K.bce, { logits, targets, loss }, { n: logits.size }, [1, 1, 1]);
  }

  bceWithLogitsBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void {
    const op = 'bceWithLogitsBackward';
    const sb = new ShapeBinder(op, this.name);
    this.bceShape(op, sb, logits, targets);
    sb.tensor('dlogits', dlogits, ['N', 'C']);
    checkNumber(op, 'scale', scale);
    checkDistinct(op, [['dlogits', dlogits, 'logits', logits], ['dlogits', dlogits, 'targets', targets]]);
    const n = logits.size;
    this.run(K.bceBackward, { logits, targets, dlogits }, { n, f: scale / n }, this.elems(n, 256));
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
    // One round trip for the device-computed inputs rather than one per tensor.
    const [qv, lossSums, counts] = this.hostValuesOf([q, groupLossSum, groupCount]);
    checkValues(op, 'q', qv, 0);
    let qsum = 0;
    for (const x of qv) qsum += x;
    if (!(qsum > 0)) throw new OpError(op, `q [${q.shape.join(', ')}] sums to ${qsum}; it must hold a distribution`);
    checkValues(op, 'groupLossSum', lossSums);
    for (let g = 0; g < G; g++) {
      if (!Number.isInteger(counts[g]) || counts[g] < 0) throw new OpError(op, `groupCount[${g}] = ${counts[g]} is not a non-negative integer`);
    }
    const ids = this.hostValues(group);
    checkGroupIds(op, 'group', ids, G);
    for (let i = 0; i < ids.length; i++) {
      if (counts[ids[i]] === 0) throw new OpError(op, `group[${i}] = ${ids[i]} but groupCount[${ids[i]}] is 0`);
    }
    this.run(K.groupDro, { q, gsum: groupLossSum, gcount: groupCount, group, w }, { G, B: sb.get('B'), eta }, [1, 1, 1]);
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
    this.run(K.adamw, { param, grad, m, v }, {
      n: param.size, lr: opts.lr, beta1: opts.beta1, beta2: opts.beta2,
      one_minus_beta1: 1 - opts.beta1, one_minus_beta2: 1 - opts.beta2, eps: opts.eps,
      decay: 1 - opts.lr * opts.weightDecay,
      bc1: 1 - Math.pow(opts.beta1, opts.step), bc2: 1 - Math.pow(opts.beta2, opts.step),
    }, this.elems(param.size));
  }

  sumSquares(tensors: readonly Tensor[]): number {
    if (!Array.isArray(tensors)) throw new OpError('sumSquares', 'tensors must be an array of Tensors');
    tensors.forEach((t, i) => checkTensor('sumSquares', `tensors[${i}]`, t, this.name));
    // Each tensor reduces to at most 64 workgroup partials; the host adds the partials in float64.
    const groups = tensors.map((t) => Math.min(64, Math.ceil(t.size / (256 * 4))));
    const total = groups.reduce((a, b) => a + b, 0);
    if (total === 0) return 0;
    this.scratchPartials = this.internal(this.scratchPartials, total);
    const partial = this.scratchPartials;
    let slot = 0;
    tensors.forEach((x, i) => {
      if (groups[i] === 0) return;
      this.run(K.sumSquares, { x, partial }, { n: x.size, slot }, [groups[i], 1, 1]);
      slot += groups[i];
    });
    const p = this.download(this.slice0(partial, 0, total));
    let s = 0;
    for (const v of p) s += v;
    return s;
  }

  /** Host values of several tensors with at most one device round trip. */
  private hostValuesOf(ts: readonly Tensor[]): Float32Array[] {
    const missing = ts.filter((t) => handleOf(t).buf.shadow === null);
    if (missing.length > 1) {
      const got = this.client.read(missing.map((t) => ({ id: handleOf(t).buf.id, byteOffset: handleOf(t).offset * 4, bytes: t.size * 4 })));
      return ts.map((t) => {
        const i = missing.indexOf(t);
        return i >= 0 ? got[i] : this.hostValues(t);
      });
    }
    return ts.map((t) => this.hostValues(t));
  }
}
