// The webgpu backend: every op is a WGSL kernel (kernels/wgsl) run by Dawn through the `webgpu` package.
// Ops validate their arguments with the op table's checks (../table-backend.ts, as every backend), then
// queue dispatches: nothing waits on the device except download() and sumSquares() (and a value check of
// a tensor whose contents the host does not know; see storage.ts). The device lives in a worker thread
// (device-worker.ts) behind a synchronous facade (device-client.ts), so this class is synchronous like
// every other backend and the registry can construct it directly.
import type { AdamWOptions, AttentionDropout, DropoutKey, HrLossOptions } from '../backend';
import { dropoutKeyWords, dropoutThreshold } from '../philox';
import { ropeTable } from '../rope';
import { TableBackend, type Kernels } from '../table-backend';
import { Tensor } from '../tensor';
import { DeviceClient, DeviceOptions } from './device-client';
import { Grid, KernelRunner } from './kernel-runner';
import { ATTENTION, ATTENTION_ROWS, ELEMENTWISE_WG, GEMM_TILE, K, REDUCE_WG, ROW_WG, attentionConsts } from './kernels';
import {
  LOOP_BUDGET, attentionDkdvSlice, attentionDqSlice, attentionForwardSlice, checkLoopBudget, gemmKSlice, rowSlice,
  slices,
} from './loop-budget';
import { GpuStorage } from './storage';
import type { KernelDef } from './wgsl';

/** The webgpu backend's options: the device's, and the loop budget of one dispatch (loop-budget.ts). */
export interface WebGpuOptions extends DeviceOptions {
  /**
   * Loop iterations one invocation may run per dispatch by loop-budget.ts's counts: LOOP_BUDGET (the default)
   * at most, since the rest of llvmpipe's limit is the margin for what the counts leave out. A smaller budget
   * cuts the sliced kernels into more slices: the tests use it to put many slice boundaries into small shapes.
   */
  loopBudget?: number;
}

/**
 * The kernels that reduce in one workgroup cannot be sliced: they check their loop count instead (loop-budget.ts).
 * perInvocation: a stride loop's iterations over n items; REDUCE_STEPS: the workgroup tree reduction.
 */
const perInvocation = (n: number): number => Math.ceil(n / REDUCE_WG);
const REDUCE_STEPS = Math.ceil(Math.log2(REDUCE_WG));
/** A norm row kernel's iterations: at most three strides over the row (LayerNorm's dx) and two tree reductions. */
const normRow = (D: number): number => 3 * Math.ceil(D / ROW_WG) + 2 * Math.ceil(Math.log2(ROW_WG));

/** The attention constants the loop count needs. */
function attentionTile(c: Record<string, number>): { HD: number; KT: number; QT: number } {
  return { HD: c.HD, KT: c.KT, QT: c.QT };
}

/** Philox parameters of a dropout key as kernel uniforms. */
function dropParams(p: number, key: DropoutKey): Record<string, number> {
  const [k0, k1] = dropoutKeyWords(key);
  return { k0, k1, step: key.step >>> 0, site: key.site >>> 0, threshold: dropoutThreshold(p), scale: 1 / (1 - p) };
}

export class WebGpuBackend extends TableBackend {
  readonly name = 'webgpu';
  readonly description: string;
  protected readonly memory: GpuStorage;
  private readonly client: DeviceClient;
  private readonly runner: KernelRunner;
  /** RoPE cos/sin tables on the device, by "S×hd". */
  private readonly ropeTables = new Map<string, Tensor>();
  /** Internal scratch (attention Δ, sumSquares partials), grown on demand; not counted in stats(). */
  private scratchDelta: Tensor | null = null;
  private scratchPartials: Tensor | null = null;
  /** The attention forward's per-row softmax state (m, l) between key slices. */
  private scratchState: Tensor | null = null;
  /** Loop iterations per invocation and dispatch, and the slice lengths it gives (loop-budget.ts). */
  readonly loopBudget: number;
  private readonly gemmKSlice: number;
  private readonly rowSlice: number;

  /** Starts the device worker and waits for the device; throws "webgpu unavailable: <reason>" without one. */
  constructor(opts: WebGpuOptions = {}) {
    // The budget and what it gives are settled before a device is started, so a bad one starts nothing.
    const budget = opts.loopBudget ?? LOOP_BUDGET;
    if (!Number.isInteger(budget) || budget < 1 || budget > LOOP_BUDGET) {
      throw new Error(`webgpu: loopBudget must be an integer from 1 to ${LOOP_BUDGET}, got ${String(opts.loopBudget)}`);
    }
    let kSlice: number, rSlice: number;
    try {
      kSlice = gemmKSlice(GEMM_TILE, budget);
      rSlice = rowSlice(budget);
    } catch (e) {
      throw new Error(`webgpu: loopBudget ${budget} is too small: ${e instanceof Error ? e.message : String(e)}`);
    }
    let client: DeviceClient;
    try {
      client = new DeviceClient(opts);
    } catch (e) {
      throw new Error(`webgpu unavailable: ${e instanceof Error ? e.message : String(e)}`);
    }
    super();
    this.client = client;
    this.memory = new GpuStorage(client);
    this.runner = new KernelRunner(client);
    this.loopBudget = budget;
    this.gemmKSlice = kSlice;
    this.rowSlice = rSlice;
    const opt = client.description.options.join(' ');
    // llvmpipe is Mesa's software rasteriser: WebGPU then runs on the CPU, at a few GFLOP/s.
    const soft = client.description.software ? ' (a CPU rasteriser, not a GPU)' : '';
    const fellBack = client.description.tried.length > 1 ? ` (tried ${client.description.tried.join('; ')})` : '';
    this.description = `WGSL kernels on Dawn (${opt}): ${client.description.adapter}${soft}; device in a worker thread${fellBack}`;
  }

  /** The asynchronous probe the brief of issue 8 asks for; construction itself is synchronous (worker facade). */
  static async create(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
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

  /** Destroys the device (and ends its worker thread where that is safe: DeviceClient.shutdown); the backend is unusable afterwards. */
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

  /** Refuses, naming the work, a single-workgroup kernel whose loops would outrun this backend's budget. */
  private checkLoops(what: string, iterations: number): void {
    checkLoopBudget(what, iterations, this.loopBudget);
  }

  private internal(current: Tensor | null, n: number): Tensor {
    if (current !== null && current.size >= n) return current;
    if (current !== null) this.dispose(current);
    return this.memory.internalTensor([Math.max(n, 1024)]);
  }

  /** Each tensor's Σ x² as at most 64 workgroup partials in scratch; the view of them, or null when all are empty. */
  private squarePartials(tensors: readonly Tensor[]): Tensor | null {
    const groups = tensors.map((t) => Math.min(64, Math.ceil(t.size / (256 * 4))));
    const total = groups.reduce((a, b) => a + b, 0);
    if (total === 0) return null;
    tensors.forEach((x, i) => {
      if (groups[i] > 0) this.checkLoops(`sumSquares over ${x.size} elements`, Math.ceil(x.size / (groups[i] * 256)) + REDUCE_STEPS);
    });
    this.scratchPartials = this.internal(this.scratchPartials, total);
    const partial = this.scratchPartials;
    let slot = 0;
    tensors.forEach((x, i) => {
      if (groups[i] === 0) return;
      this.run(K.sumSquares, { x, partial }, { n: x.size, slot }, [groups[i], 1, 1]);
      slot += groups[i];
    });
    return this.slice0(partial, 0, total);
  }

  // ---- layers ----

  /**
   * c[M,N] (+)= a·b (+ bias) with strides; see gemm.wgsl. A long K runs as slices (loop-budget.ts): the first
   * adds the bias and honours `accumulate`, the later ones add to c, and only the last applies the relu.
   */
  private gemm(
    a: Tensor, b: Tensor, c: Tensor, bias: Tensor | null,
    M: number, N: number, Kd: number, sa: [number, number], sb: [number, number], accumulate: boolean, relu = false,
  ): void {
    const parts = slices(Kd, this.gemmKSlice);
    parts.forEach(([kb, ke], s) => {
      this.run(K.gemm, { a, b, c, bias: s === 0 ? bias : null }, {
        M, N, kb, ke, sa_i: sa[0], sa_k: sa[1], sb_k: sb[0], sb_j: sb[1],
        accumulate: accumulate || s > 0 ? 1 : 0, relu: relu && s === parts.length - 1 ? 1 : 0,
      }, [Math.ceil(N / GEMM_TILE.TN), Math.ceil(M / GEMM_TILE.TM), 1]);
    });
  }

  /** out[j] += Σ_i a[i·lda + j] over `rows` rows, in row slices (loop-budget.ts). */
  private columnSum(a: Tensor, out: Tensor, rows: number, cols: number, lda: number): void {
    for (const [r0, r1] of slices(rows, this.rowSlice)) {
      this.run(K.columnSum, { a, out }, { r0, r1, cols, lda }, [Math.ceil(cols / 64), 1, 1]);
    }
  }

  private linearForwardRaw(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, N: number, Kd: number, M: number, relu = false): void {
    // y[n, m] = Σ_k x[n, k]·w[m, k] + b[m]: A = x (row-major), B(k, m) = w[m, k].
    this.gemm(x, w, y, b, N, M, Kd, [Kd, 1], [1, Kd], false, relu);
  }

  private linearBackwardRaw(
    dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null, N: number, Kd: number, M: number,
    overwriteDx = false, reluOf: Tensor | null = null, overwriteDw = false, reluScale = 1,
  ): void {
    // dx[n, k] (+)= Σ_m dy[n, m]·w[m, k]
    if (dx !== null) this.gemm(dy, w, dx, null, N, Kd, M, [M, 1], [Kd, 1], !overwriteDx);
    // The relu gate (reluOf needs overwriteDx): the relu backward kernel in place over the fresh dx, then its
    // factor (reluScale needs reluOf; the gated zeros stay zeros).
    if (dx !== null && reluOf !== null) {
      this.run(K.reluBackward, { dy: dx, y: reluOf, dx }, { n: N * Kd }, this.elems(N * Kd));
      if (reluScale !== 1) this.run(K.scale, { x: dx }, { n: N * Kd, s: reluScale }, this.elems(N * Kd));
    }
    // dw[m, k] (+)= Σ_n dy[n, m]·x[n, k]: A(m, n) = dy[n, m]
    if (dw !== null) this.gemm(dy, x, dw, null, M, Kd, N, [1, M], [Kd, 1], !overwriteDw);
    // db (+)= Σ_n dy: the column sum adds (it runs in row slices), so an overwritten db starts from zero.
    if (db !== null) {
      if (overwriteDw) this.zero(db);
      this.columnSum(dy, db, N, M, M);
    }
  }

  /** Norm kernels run one workgroup per row, rows folded into a 2-D grid. */
  private rows(n: number): Grid {
    return this.runner.grid1d(n);
  }

  /** The uniforms shared by the attention kernels. */
  private attentionParams(s: { B: number; S: number; H: number; D: number; hd: number }, dropout: AttentionDropout | undefined, overwrite = false) {
    const on = dropout !== undefined && dropout.p > 0;
    const dp = on ? dropParams(dropout.p, dropout.key) : { k0: 0, k1: 0, step: 0, site: 0, threshold: 0, scale: 1 };
    return {
      B: s.B, S: s.S, H: s.H, D: s.D, scale: 1 / Math.sqrt(s.hd), drop: on ? 1 : 0,
      k0: dp.k0, k1: dp.k1, step: dp.step, site: dp.site, threshold: dp.threshold, dscale: dp.scale, accum: overwrite ? 0 : 1,
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
      t = this.memory.internalTensor([Math.max(data.length, 1)], data.length > 0 ? data : new Float32Array(1));
      this.ropeTables.set(key, t);
    }
    return t;
  }

  // ---- losses ----

  protected hostValues(t: Tensor): Float32Array {
    return this.memory.hostValues(t);
  }

  protected override hostValuesOf(ts: readonly Tensor[]): Float32Array[] {
    return this.memory.hostValuesOf(ts);
  }

  // ---- the kernel of each op (the checks are the op table's: ../table-backend.ts) ----
  protected readonly kernels: Kernels = {
    linear: (
      { N, K: Kd, M }, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, relu?: boolean, dropout?: AttentionDropout,
      residual?: Tensor | null,
    ): void => {
      this.linearForwardRaw(x, w, b, y, N, Kd, M, relu ?? false);
      // The dropout kernel in place over the product (as the CPU and CUDA backends apply it); with a residual,
      // add's kernels in place over the product (residual + dropout(product)), a second pass as on CUDA.
      const drop = dropout !== undefined && dropout.p > 0;
      if (residual !== undefined && residual !== null) {
        if (drop) {
          this.run(K.addDropout, { a: residual, b: y, y }, { n: y.size, ...dropParams(dropout.p, dropout.key) }, this.elems(y.size, ELEMENTWISE_WG, 4));
        } else {
          this.run(K.add, { a: residual, b: y, y }, { n: y.size }, this.elems(y.size));
        }
      } else if (drop) {
        this.run(K.dropoutForward, { x: y, y }, { n: y.size, ...dropParams(dropout.p, dropout.key) }, this.elems(y.size, ELEMENTWISE_WG, 4));
      }
    },
    linearBackward: (
      { N, K, M }, dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null, overwriteDx?: boolean,
      reluOf?: Tensor | null, overwriteDw?: boolean, reluScale?: number,
    ): void => {
      this.linearBackwardRaw(dy, x, w, dx, dw, db, N, K, M, overwriteDx, reluOf ?? null, overwriteDw, reluScale ?? 1);
    },
    // G products over row slices of the stacked tensors (the fused GEMM is the CPU's; here each slice is the
    // linear's own kernel, and only the first product may overwrite dx).
    linearFanout: ({ G, N, K, M }, x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): void => {
      for (let g = 0; g < G; g++) {
        this.linearForwardRaw(x, this.slice0(w, g, 1), b === null ? null : this.slice0(b, g, 1), this.slice0(y, g, 1), N, K, M);
      }
    },
    linearFanoutBackward: (
      { G, N, K, M }, dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null, overwriteDx?: boolean,
      overwriteDw?: boolean,
    ): void => {
      const part = (t: Tensor | null, g: number) => (t === null ? null : this.slice0(t, g, 1));
      for (let g = 0; g < G; g++) {
        this.linearBackwardRaw(part(dy, g)!, x, part(w, g)!, dx, part(dw, g), part(db, g), N, K, M, (overwriteDx ?? false) && g === 0, null, overwriteDw ?? false);
      }
    },
    patchEmbed: ({ B, T, P, D }, x: Tensor, w: Tensor, b: Tensor, e: Tensor): void => {
      this.linearForwardRaw(x, w, b, e, B * T, P, D);
    },
    patchEmbedBackward: ({ B, T, P, D }, de: Tensor, x: Tensor, w: Tensor, dw: Tensor, db: Tensor, dx: Tensor | null): void => {
      this.linearBackwardRaw(de, x, w, dx, dw, db, B * T, P, D);
    },
    startToken: ({ B, T, D }, e: Tensor, token: Tensor, h: Tensor): void => {
      this.run(K.startToken, { e, token, h }, { B, T, D }, this.elems(B * (T + 1) * D));
    },
    startTokenBackward: ({ B, T, D }, dh: Tensor, de: Tensor | null, dtoken: Tensor | null): void => {
      const S = T + 1;
      if (dtoken !== null) this.columnSum(dh, dtoken, B, D, S * D);
      if (de !== null) this.run(K.startTokenBackwardDe, { dh, de }, { B, T, D }, this.elems(B * T * D));
    },
    rmsNorm: ({ N, D }, x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor): void => {
      this.checkLoops(`rmsNorm over rows of ${D}`, normRow(D));
      this.run(K.rmsForward, { x, scale, y, rstd }, { N, D, eps }, this.rows(N));
    },
    rmsNormBackward: ({ N, D }, dy: Tensor, x: Tensor, scale: Tensor, rstd: Tensor, dx: Tensor, dscale: Tensor | null): void => {
      this.checkLoops(`rmsNormBackward over rows of ${D}`, normRow(D));
      // dscale first: it reads dy and x, which the dx pass never writes (they are distinct from dx).
      if (dscale !== null) {
        for (const [n0, n1] of slices(N, this.rowSlice)) this.run(K.rmsBackwardDscale, { dy, x, rstd, dscale }, { n0, n1, D }, [Math.ceil(D / 64), 1, 1]);
      }
      this.run(K.rmsBackwardDx, { dy, x, scale, rstd, dx }, { N, D }, this.rows(N));
    },
    layerNorm: ({ N, C }, x: Tensor, gamma: Tensor, beta: Tensor, eps: number, y: Tensor, mean: Tensor, rstd: Tensor): void => {
      this.checkLoops(`layerNorm over rows of ${C}`, normRow(C));
      this.run(K.lnForward, { x, gamma, beta, y, mean, rstd }, { N, C, eps }, this.rows(N));
    },
    layerNormBackward: (
      { N, C }, dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor, dx: Tensor, dgamma: Tensor | null, dbeta: Tensor | null,
    ): void => {
      this.checkLoops(`layerNormBackward over rows of ${C}`, normRow(C));
      if (dgamma !== null || dbeta !== null) {
        for (const [n0, n1] of slices(N, this.rowSlice)) {
          this.run(K.lnBackwardParams, { dy, x, mean, rstd, dgamma, dbeta }, { n0, n1, C }, [Math.ceil(C / 64), 1, 1]);
        }
      }
      this.run(K.lnBackwardDx, { dy, x, gamma, mean, rstd, dx }, { N, C }, this.rows(N));
    },
    oneHot: ({ B, G }, ids: Tensor, out: Tensor): void => {
      this.run(K.oneHot, { ids, out }, { n: B * G, G }, this.elems(B * G));
    },
    relu: (_, x: Tensor, y: Tensor): void => {
      this.run(K.relu, { x, y }, { n: x.size }, this.elems(x.size));
    },
    reluBackward: (_, dy: Tensor, y: Tensor, dx: Tensor): void => {
      this.run(K.reluBackward, { dy, y, dx }, { n: dy.size }, this.elems(dy.size));
    },
    gelu: (_, x: Tensor, y: Tensor): void => {
      this.run(K.gelu, { x, y }, { n: x.size }, this.elems(x.size));
    },
    geluBackward: (_, dy: Tensor, x: Tensor, dx: Tensor): void => {
      this.run(K.geluBackward, { dy, x, dx }, { n: dy.size }, this.elems(dy.size));
    },
    dropout: (_, x: Tensor, y: Tensor, p: number, key: DropoutKey): void => {
      if (p === 0) {
        this.copy(x, y);
        return;
      }
      this.run(K.dropoutForward, { x, y }, { n: x.size, ...dropParams(p, key) }, this.elems(x.size, ELEMENTWISE_WG, 4));
    },
    dropoutBackward: (_, dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void => {
      if (p === 0) {
        this.copy(dy, dx);
        return;
      }
      this.run(K.dropoutBackward, { dy, dx }, { n: dy.size, ...dropParams(p, key) }, this.elems(dy.size, ELEMENTWISE_WG, 4));
    },
    ropeAttention: ({ B, S, D, H }, q: Tensor, k: Tensor, v: Tensor, _heads: number, out: Tensor, lse: Tensor, dropout?: AttentionDropout): void => {
      const shape = { B, S, D, H, hd: D / H };
      const rope = this.rope(shape.S, shape.hd);
      const consts = attentionConsts(shape.hd);
      const params = this.attentionParams(shape, dropout);
      // Key slices (loop-budget.ts); between them each row's softmax state waits in out and the m/l scratch.
      const parts = slices(S, attentionForwardSlice(attentionTile(consts), this.loopBudget));
      let state: Tensor | null = null;
      if (parts.length > 1) {
        this.scratchState = this.internal(this.scratchState, 2 * B * H * S);
        state = this.scratchState;
      }
      for (const [lo, hi] of parts) {
        const wg0 = Math.floor(lo / ATTENTION_ROWS);
        this.run(ATTENTION.forward, { q, k, v, rope, out, lse, state }, { ...params, lo, hi, wg0 },
          [Math.ceil(S / ATTENTION_ROWS) - wg0, B * H, 1], consts);
      }
    },
    ropeAttentionBackward: (
      { B, S, D, H }, dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, _heads: number,
      dq: Tensor, dk: Tensor, dv: Tensor, dropout?: AttentionDropout, overwrite?: boolean,
    ): void => {
      const shape = { B, S, D, H, hd: D / H };
      const rope = this.rope(S, shape.hd);
      this.scratchDelta = this.internal(this.scratchDelta, B * H * S);
      const delta = this.scratchDelta;
      const params = this.attentionParams(shape, dropout, overwrite ?? false);
      const consts = attentionConsts(shape.hd);
      this.run(ATTENTION.delta, { dout, out, delta }, { ...params, lo: 0, hi: S, wg0: 0 }, this.elems(B * H * S, 64), consts);
      const tile = attentionTile(consts);
      // dq over key slices (query blocks from the slice's first on), dk/dv over query slices (key blocks up to
      // the slice's last); both accumulate after their first slice (loop-budget.ts).
      for (const [lo, hi] of slices(S, attentionDqSlice(tile, this.loopBudget))) {
        const wg0 = Math.floor(lo / ATTENTION_ROWS);
        this.run(ATTENTION.dq, { q, k, v, rope, dout, lse, delta, dq }, { ...params, lo, hi, wg0 }, [Math.ceil(S / ATTENTION_ROWS) - wg0, B * H, 1], consts);
      }
      for (const [lo, hi] of slices(S, attentionDkdvSlice(tile, this.loopBudget))) {
        this.run(ATTENTION.dkdv, { q, k, v, rope, dout, lse, delta, dk, dv }, { ...params, lo, hi, wg0: 0 }, [Math.ceil(hi / ATTENTION_ROWS), B * H, 1], consts);
      }
    },
    add: (_, a: Tensor, b: Tensor, y: Tensor, dropout?: AttentionDropout): void => {
      if (dropout !== undefined && dropout.p > 0) {
        this.run(K.addDropout, { a, b, y }, { n: y.size, ...dropParams(dropout.p, dropout.key) }, this.elems(y.size, ELEMENTWISE_WG, 4));
        return;
      }
      this.run(K.add, { a, b, y }, { n: y.size }, this.elems(y.size));
    },
    accumulate: (_, src: Tensor, dst: Tensor, alpha = 1): void => {
      this.run(K.axpy, { src, dst }, { n: dst.size, alpha }, this.elems(dst.size));
    },
    scale: (_, x: Tensor, s: number): void => {
      this.run(K.scale, { x }, { n: x.size, s }, this.elems(x.size));
    },
    meanPool: ({ B, S, D }, h: Tensor, z: Tensor): void => {
      this.checkLoops(`meanPool over S = ${S}`, S);
      this.run(K.meanPool, { h, z }, { B, S, D }, this.elems(B * D));
    },
    meanPoolBackward: ({ B, S, D }, dz: Tensor, dh: Tensor): void => {
      this.run(K.meanPoolBackward, { dz, dh }, { B, S, D }, this.elems(B * S * D));
    },
    gradReverse: (_, dy: Tensor, dx: Tensor, lambda: number): void => {
      this.run(K.axpy, { src: dy, dst: dx }, { n: dx.size, alpha: -lambda }, this.elems(dx.size));
    },
    hrLoss: (
      { B, G }, out: Tensor, hr: Tensor, w: Tensor, group: Tensor, opts: HrLossOptions,
      pred: Tensor, sampleLoss: Tensor, loss: Tensor, groupLossSum: Tensor, groupCount: Tensor,
    ): void => {
      // One workgroup: a stride over the batch, then each group's invocation walks the whole batch.
      this.checkLoops(`hrLoss over a batch of ${B}`, perInvocation(B) + perInvocation(G) * B + REDUCE_STEPS);
      this.run(K.hrLoss, { out, hr, w, group, pred, sample: sampleLoss, loss, gsum: groupLossSum, gcount: groupCount },
        { B, G, lambda: opts.lambda, eps: opts.eps }, [1, 1, 1]);
    },
    hrLossBackward: ({ B }, out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number): void => {
      this.checkLoops(`hrLossBackward over a batch of ${B}`, perInvocation(B));
      this.run(K.hrLossBackward, { out, hr, w, dout }, { B, lambda: opts.lambda, eps: opts.eps, scale }, [1, 1, 1]);
    },
    nextPatchNll: (shape, params: Tensor, x: Tensor, eps: number, loss: Tensor): void => {
      this.checkLoops(`nextPatchNll over ${shape.B * shape.T * shape.P} samples`, perInvocation(shape.B * shape.T * shape.P) + REDUCE_STEPS);
      this.run(K.nextPatchNll, { params, x, loss }, { ...shape, eps }, [1, 1, 1]);
    },
    nextPatchNllBackward: (shape, params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void => {
      const n = shape.B * shape.T * shape.P;
      this.run(K.nextPatchBackward, { params, x, dparams }, { ...shape, eps, f: scale / n }, this.elems(n, 256));
    },
    bceWithLogits: (_, logits: Tensor, targets: Tensor, loss: Tensor): void => {
      this.checkLoops(`bceWithLogits over ${logits.size} logits`, perInvocation(logits.size) + REDUCE_STEPS);
      this.run(K.bce, { logits, targets, loss }, { n: logits.size }, [1, 1, 1]);
    },
    bceWithLogitsBackward: (_, logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void => {
      const n = logits.size;
      this.run(K.bceBackward, { logits, targets, dlogits }, { n, f: scale / n }, this.elems(n, 256));
    },
    softmaxCrossEntropy: ({ N, C }, logits: Tensor, targets: Tensor, loss: Tensor): void => {
      this.checkLoops(`softmaxCrossEntropy over ${N} rows of ${C}`, perInvocation(N) * (1 + 3 * C) + REDUCE_STEPS);
      this.run(K.softmaxCe, { logits, targets, loss }, { N, C }, [1, 1, 1]);
    },
    softmaxCrossEntropyBackward: ({ N, C }, logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void => {
      this.checkLoops(`softmaxCrossEntropyBackward over rows of ${C}`, 3 * C);
      this.run(K.softmaxCeBackward, { logits, targets, dlogits }, { N, C, f: scale / N }, this.elems(N, 256));
    },
    // ---- fairness and optimisation ----
    groupDroUpdate: ({ G, B }, q: Tensor, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, w: Tensor): void => {
      this.checkLoops(`groupDroUpdate over ${G} groups and a batch of ${B}`, 3 * G + perInvocation(B));
      this.run(K.groupDro, { q, gsum: groupLossSum, gcount: groupCount, group, w }, { G, B, eta }, [1, 1, 1]);
    },
    groupLossReweight: ({ G, B }, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, gw: Tensor, w: Tensor): void => {
      this.checkLoops(`groupLossReweight over ${G} groups and a batch of ${B}`, 2 * G + perInvocation(B));
      this.run(K.groupReweight, { gsum: groupLossSum, gcount: groupCount, group, gw, w }, { G, B, eta }, [1, 1, 1]);
    },
    adamw: (_, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions, norm?: Tensor | null): void => {
      this.run(K.adamw, { param, grad, m, v, norm: norm ?? null }, {
        n: param.size, has_norm: norm ? 1 : 0, lr: opts.lr, beta1: opts.beta1, beta2: opts.beta2,
        one_minus_beta1: 1 - opts.beta1, one_minus_beta2: 1 - opts.beta2, eps: opts.eps,
        decay: 1 - opts.lr * opts.weightDecay,
        bc1: 1 - Math.pow(opts.beta1, opts.step), bc2: 1 - Math.pow(opts.beta2, opts.step), grad_scale: opts.gradScale ?? 1,
        max_norm: opts.maxNorm ?? 0,
      }, this.elems(param.size));
    },
    sumSquares: (_, tensors: readonly Tensor[]): number => {
      const partial = this.squarePartials(tensors);
      if (partial === null) return 0;
      const p = this.download(partial);
      let s = 0;
      for (const v of p) s += v;
      return s;
    },
    globalNorm: (_, tensors: readonly Tensor[], norm: Tensor): void => {
      const partial = this.squarePartials(tensors);
      if (partial === null) {
        this.zero(norm);
        return;
      }
      this.run(K.normFromPartials, { partial, norm }, { count: partial.size }, [1, 1, 1]);
    },
  };
}
