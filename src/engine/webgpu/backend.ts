// The webgpu backend: every op is a WGSL kernel (kernels/wgsl) run by Dawn through the `webgpu` package.
// Ops validate their arguments with the engine's shared checks (../op-checks.ts, as every backend), then
// queue dispatches: nothing waits on the device except download() and sumSquares() (and a value check of
// a tensor whose contents the host does not know; see storage.ts). The device lives in a worker thread
// (device-worker.ts) behind a synchronous facade (device-client.ts), so this class is synchronous like
// every other backend and the registry can construct it directly.
import type { AdamWOptions, AttentionDropout, Backend, DropoutKey, HrLossOptions } from '../backend';
import { OpError, checkNumber, checkTensor } from '../check';
import * as check from '../op-checks';
import { dropoutKeyWords, dropoutThreshold } from '../philox';
import { ropeTable } from '../rope';
import { checkGroupIds, checkValues } from '../op-checks';
import { Tensor } from '../tensor';
import { DeviceClient, DeviceOptions } from './device-client';
import { Grid, KernelRunner } from './kernel-runner';
import { ATTENTION, ATTENTION_ROWS, ELEMENTWISE_WG, GEMM_TILE, K, attentionConsts } from './kernels';
import { GpuStorage, handleOf } from './storage';
import type { KernelDef } from './wgsl';

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
    // llvmpipe is Mesa's software rasteriser: WebGPU then runs on the CPU, at a few GFLOP/s.
    const soft = /llvmpipe|lavapipe|swiftshader/i.test(client.description.adapter) ? ' (a CPU rasteriser, not a GPU)' : '';
    this.description = `WGSL kernels on Dawn (${opt}): ${client.description.adapter}${soft}; device in a worker thread`;
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
    const { N, K, M } = check.linear(this.name, x, w, b, y);
    this.linearForwardRaw(x, w, b, y, N, K, M);
  }

  linearBackward(dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null): void {
    const { N, K, M } = check.linearBackward(this.name, dy, x, w, dx, dw, db);
    this.linearBackwardRaw(dy, x, w, dx, dw, db, N, K, M);
  }

  patchEmbed(x: Tensor, w: Tensor, b: Tensor, e: Tensor): void {
    const { N, K, M } = check.patchEmbed(this.name, x, w, b, e);
    this.linearForwardRaw(x, w, b, e, N, K, M);
  }

  patchEmbedBackward(de: Tensor, x: Tensor, w: Tensor, dw: Tensor, db: Tensor, dx: Tensor | null): void {
    const { N, K, M } = check.patchEmbedBackward(this.name, de, x, w, dw, db, dx);
    this.linearBackwardRaw(de, x, w, dx, dw, db, N, K, M);
  }

  startToken(e: Tensor, token: Tensor, h: Tensor): void {
    const { B, T, D } = check.startToken(this.name, e, token, h);
    this.run(K.startToken, { e, token, h }, { B, T, D }, this.elems(B * (T + 1) * D));
  }

  startTokenBackward(dh: Tensor, de: Tensor | null, dtoken: Tensor | null): void {
    const { B, T, D } = check.startTokenBackward(this.name, dh, de, dtoken);
    const S = T + 1;
    if (dtoken !== null) this.run(K.columnSum, { a: dh, out: dtoken }, { rows: B, cols: D, lda: S * D }, [Math.ceil(D / 64), 1, 1]);
    if (de !== null) this.run(K.startTokenBackwardDe, { dh, de }, { B, T, D }, this.elems(B * T * D));
  }

  /** Norm kernels run one workgroup per row, rows folded into a 2-D grid. */
  private rows(n: number): Grid {
    return this.runner.grid1d(n);
  }

  rmsNorm(x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor): void {
    const { N, D } = check.rmsNorm(this.name, x, scale, eps, y, rstd);
    this.run(K.rmsForward, { x, scale, y, rstd }, { N, D, eps }, this.rows(N));
  }

  rmsNormBackward(dy: Tensor, x: Tensor, scale: Tensor, rstd: Tensor, dx: Tensor, dscale: Tensor | null): void {
    const { N, D } = check.rmsNormBackward(this.name, dy, x, scale, rstd, dx, dscale);
    // dscale first: it reads dy and x, which the dx pass never writes (they are distinct from dx).
    if (dscale !== null) this.run(K.rmsBackwardDscale, { dy, x, rstd, dscale }, { N, D }, [Math.ceil(D / 64), 1, 1]);
    this.run(K.rmsBackwardDx, { dy, x, scale, rstd, dx }, { N, D }, this.rows(N));
  }

  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number, y: Tensor, mean: Tensor, rstd: Tensor): void {
    const { N, C } = check.layerNorm(this.name, x, gamma, beta, eps, y, mean, rstd);
    this.run(K.lnForward, { x, gamma, beta, y, mean, rstd }, { N, C, eps }, this.rows(N));
  }

  layerNormBackward(
    dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor,
    dx: Tensor, dgamma: Tensor | null, dbeta: Tensor | null,
  ): void {
    const { N, C } = check.layerNormBackward(this.name, dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
    if (dgamma !== null || dbeta !== null) {
      this.run(K.lnBackwardParams, { dy, x, mean, rstd, dgamma, dbeta }, { N, C }, [Math.ceil(C / 64), 1, 1]);
    }
    this.run(K.lnBackwardDx, { dy, x, gamma, mean, rstd, dx }, { N, C }, this.rows(N));
  }

  relu(x: Tensor, y: Tensor): void {
    check.requireSameShape('relu', this.name, [['x', x], ['y', y]]);
    this.run(K.relu, { x, y }, { n: x.size }, this.elems(x.size));
  }

  reluBackward(dy: Tensor, y: Tensor, dx: Tensor): void {
    check.requireSameShape('reluBackward', this.name, [['dy', dy], ['y', y], ['dx', dx]]);
    this.run(K.reluBackward, { dy, y, dx }, { n: dy.size }, this.elems(dy.size));
  }

  gelu(x: Tensor, y: Tensor): void {
    check.requireSameShape('gelu', this.name, [['x', x], ['y', y]]);
    this.run(K.gelu, { x, y }, { n: x.size }, this.elems(x.size));
  }

  geluBackward(dy: Tensor, x: Tensor, dx: Tensor): void {
    check.requireSameShape('geluBackward', this.name, [['dy', dy], ['x', x], ['dx', dx]]);
    this.run(K.geluBackward, { dy, x, dx }, { n: dy.size }, this.elems(dy.size));
  }

  dropout(x: Tensor, y: Tensor, p: number, key: DropoutKey): void {
    check.dropout(this.name, 'dropout', ['x', x], ['y', y], p, key);
    if (p === 0) {
      this.copy(x, y);
      return;
    }
    this.run(K.dropoutForward, { x, y }, { n: x.size, ...dropParams(p, key) }, this.elems(x.size, ELEMENTWISE_WG, 4));
  }

  dropoutBackward(dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void {
    check.dropout(this.name, 'dropoutBackward', ['dy', dy], ['dx', dx], p, key);
    if (p === 0) {
      this.run(K.axpy, { src: dy, dst: dx }, { n: dy.size, alpha: 1 }, this.elems(dy.size));
      return;
    }
    this.run(K.dropoutBackward, { dy, dx }, { n: dy.size, ...dropParams(p, key) }, this.elems(dy.size, ELEMENTWISE_WG, 4));
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
    const s = check.ropeAttention(this.name, q, k, v, heads, out, lse, dropout);
    const shape = { ...s, hd: s.D / s.H };
    if (shape.B * shape.S * shape.D === 0) return;
    const rope = this.rope(shape.S, shape.hd);
    this.run(ATTENTION.forward, { q, k, v, rope, out, lse }, this.attentionParams(shape, dropout),
      [Math.ceil(shape.S / ATTENTION_ROWS), shape.B * shape.H, 1], attentionConsts(shape.hd));
  }

  ropeAttentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, heads: number,
    dq: Tensor, dk: Tensor, dv: Tensor, dropout?: AttentionDropout,
  ): void {
    const s = check.ropeAttentionBackward(this.name, dout, q, k, v, out, lse, heads, dq, dk, dv, dropout);
    const shape = { ...s, hd: s.D / s.H };
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
    check.requireSameShape('add', this.name, [['a', a], ['b', b], ['y', y]]);
    this.run(K.add, { a, b, y }, { n: y.size }, this.elems(y.size));
  }

  accumulate(src: Tensor, dst: Tensor, alpha = 1): void {
    check.requireSameShape('accumulate', this.name, [['src', src], ['dst', dst]]);
    checkNumber('accumulate', 'alpha', alpha);
    this.run(K.axpy, { src, dst }, { n: dst.size, alpha }, this.elems(dst.size));
  }

  scale(x: Tensor, s: number): void {
    checkTensor('scale', 'x', x, this.name);
    checkNumber('scale', 's', s);
    this.run(K.scale, { x }, { n: x.size, s }, this.elems(x.size));
  }

  meanPool(h: Tensor, z: Tensor): void {
    const { B, S, D } = check.meanPool(this.name, h, z);
    this.run(K.meanPool, { h, z }, { B, S, D }, this.elems(B * D));
  }

  meanPoolBackward(dz: Tensor, dh: Tensor): void {
    const { B, S, D } = check.meanPoolBackward(this.name, dz, dh);
    this.run(K.meanPoolBackward, { dz, dh }, { B, S, D }, this.elems(B * S * D));
  }

  gradReverse(dy: Tensor, dx: Tensor, lambda: number): void {
    check.requireSameShape('gradReverse', this.name, [['dy', dy], ['dx', dx]]);
    checkNumber('gradReverse', 'lambda', lambda, { min: 0 });
    this.run(K.axpy, { src: dy, dst: dx }, { n: dx.size, alpha: -lambda }, this.elems(dx.size));
  }

  // ---- losses ----

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
    const { B, G } = check.hrLoss(this.name, out, hr, w, group, opts, pred, sampleLoss, loss, groupLossSum, groupCount);
    checkValues(op, 'hr', this.hostValues(hr));
    this.checkWeights(op, w);
    checkGroupIds(op, 'group', this.hostValues(group), G);
    this.run(K.hrLoss, { out, hr, w, group, pred, sample: sampleLoss, loss, gsum: groupLossSum, gcount: groupCount },
      { B, G, lambda: opts.lambda, eps: opts.eps }, [1, 1, 1]);
  }

  hrLossBackward(out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number): void {
    const op = 'hrLossBackward';
    const { B } = check.hrLossBackward(this.name, out, hr, w, opts, dout, scale);
    checkValues(op, 'hr', this.hostValues(hr));
    this.checkWeights(op, w);
    this.run(K.hrLossBackward, { out, hr, w, dout }, { B, lambda: opts.lambda, eps: opts.eps, scale }, [1, 1, 1]);
  }

  nextPatchNll(params: Tensor, x: Tensor, eps: number, loss: Tensor): void {
    const shape = check.nextPatchNll(this.name, params, x, eps, loss);
    checkValues('nextPatchNll', 'x', this.hostValues(x));
    this.run(K.nextPatchNll, { params, x, loss }, { ...shape, eps }, [1, 1, 1]);
  }

  nextPatchNllBackward(params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void {
    const shape = check.nextPatchNllBackward(this.name, params, x, eps, dparams, scale);
    checkValues('nextPatchNllBackward', 'x', this.hostValues(x));
    const n = shape.B * shape.T * shape.P;
    this.run(K.nextPatchBackward, { params, x, dparams }, { ...shape, eps, f: scale / n }, this.elems(n, 256));
  }

  bceWithLogits(logits: Tensor, targets: Tensor, loss: Tensor): void {
    check.bceWithLogits(this.name, logits, targets, loss);
    checkValues('bceWithLogits', 'targets', this.hostValues(targets), 0, 1);
    this.run(K.bce, { logits, targets, loss }, { n: logits.size }, [1, 1, 1]);
  }

  bceWithLogitsBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void {
    check.bceWithLogitsBackward(this.name, logits, targets, dlogits, scale);
    checkValues('bceWithLogitsBackward', 'targets', this.hostValues(targets), 0, 1);
    const n = logits.size;
    this.run(K.bceBackward, { logits, targets, dlogits }, { n, f: scale / n }, this.elems(n, 256));
  }

  // ---- fairness and optimisation ----

  groupDroUpdate(q: Tensor, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, w: Tensor): void {
    const op = 'groupDroUpdate';
    const { G, B } = check.groupDroUpdate(this.name, q, groupLossSum, groupCount, eta, group, w);
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
    this.run(K.groupDro, { q, gsum: groupLossSum, gcount: groupCount, group, w }, { G, B, eta }, [1, 1, 1]);
  }

  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions): void {
    check.adamw(this.name, param, grad, m, v, opts);
    this.run(K.adamw, { param, grad, m, v }, {
      n: param.size, lr: opts.lr, beta1: opts.beta1, beta2: opts.beta2,
      one_minus_beta1: 1 - opts.beta1, one_minus_beta2: 1 - opts.beta2, eps: opts.eps,
      decay: 1 - opts.lr * opts.weightDecay,
      bc1: 1 - Math.pow(opts.beta1, opts.step), bc2: 1 - Math.pow(opts.beta2, opts.step),
    }, this.elems(param.size));
  }

  sumSquares(tensors: readonly Tensor[]): number {
    check.sumSquares(this.name, tensors);
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
