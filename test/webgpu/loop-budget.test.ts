// The loop budget of the webgpu kernels (src/engine/webgpu/loop-budget.ts): how ranges are sliced, that every
// kernel's slice fits at every head dim, that the sliced kernels match the reference across many slice
// boundaries (a small budget puts them into small shapes), and that the kernels which cannot be sliced refuse,
// by name, a size that would outrun llvmpipe's loop limit instead of returning partial results. The
// conformance suite checks the default budget past the limit (its cases at 70000 tokens, S = 330 and S = 500
// failed on webgpu before the slicing).
import { GEMM_TILE, attentionConsts } from '../../src/engine/webgpu/kernels';
import {
  LLVMPIPE_LOOP_LIMIT, LOOP_BUDGET, attentionDkdvSlice, attentionDqSlice, attentionForwardSlice, checkLoopBudget, gemmKSlice,
  sliceLength, slices,
} from '../../src/engine/webgpu/loop-budget';
import { WebGpuBackend } from '../../src/engine/webgpu/backend';
import { expectClose, pair, rand2, ref, rng, useWebGpu } from './helpers';

const gpu = useWebGpu();
// 600 iterations: GEMM K slices of one 16-deep tile, row slices of 600. 5000: attention slices of one key tile
// at head dim 68 (30 keys, so slices start inside a 32-row query block) and of three tiles (96 keys) at 16.
const tinyGemm = useWebGpu({ loopBudget: 600 });
const tinyAttention = useWebGpu({ loopBudget: 5000 });

describe('loop budget', () => {
  test('slices cover the range in order, none longer than the step; an empty range is one empty slice', () => {
    expect(slices(10, 4)).toEqual([[0, 4], [4, 8], [8, 10]]);
    expect(slices(8, 4)).toEqual([[0, 4], [4, 8]]);
    expect(slices(3, 100)).toEqual([[0, 3]]);
    expect(slices(0, 4)).toEqual([[0, 0]]);
    expect(() => slices(10, 0)).toThrow(/slice length 0/);
    expect(() => slices(10, 2.5)).toThrow(/slice length 2.5/);
  });

  test('a slice length is whole units within the budget, and a kernel whose one unit does not fit is named', () => {
    expect(sliceLength('k', 100, 1000, 16, 10_000)).toBe(9 * 16);
    expect(() => sliceLength('attention forward (head dim 8192)', 500, 20_000, 4, 10_000)).toThrow(/attention forward \(head dim 8192\) needs 20500/);
    expect(LOOP_BUDGET).toBeLessThan(LLVMPIPE_LOOP_LIMIT);
  });

  test('every attention kernel has a slice of at least one tile at every head dim from 4 to 512', () => {
    for (let hd = 4; hd <= 512; hd += 4) {
      const c = attentionConsts(hd);
      const tile = { HD: c.HD, KT: c.KT, QT: c.QT };
      for (const len of [attentionForwardSlice(tile), attentionDqSlice(tile), attentionDkdvSlice(tile)]) {
        expect(len).toBeGreaterThanOrEqual(c.KT);
        expect(len % c.KT).toBe(0);
      }
    }
    // The models' head dims slice where the unsliced kernels broke (keys 224 at d = 128, 480 at d = 64).
    const d128 = attentionConsts(128);
    expect(attentionForwardSlice({ HD: 128, KT: d128.KT, QT: d128.QT })).toBeLessThan(224);
    const d64 = attentionConsts(64);
    expect(attentionForwardSlice({ HD: 64, KT: d64.KT, QT: d64.QT })).toBeLessThan(480);
  });

  test('the GEMM K slice is whole tiles, below the 16384 that ran correctly unsliced', () => {
    const k = gemmKSlice(GEMM_TILE);
    expect(k % GEMM_TILE.TK).toBe(0);
    expect(k).toBeGreaterThanOrEqual(GEMM_TILE.TK);
    expect(k).toBeLessThan(16384);
  });

  test('checkLoopBudget passes the budget itself and refuses one more, naming the work', () => {
    expect(() => checkLoopBudget('x', LOOP_BUDGET)).not.toThrow();
    expect(() => checkLoopBudget('meanPool over S = 9', LOOP_BUDGET + 1)).toThrow(/meanPool over S = 9 would run 32769 loop iterations/);
  });

  test('webgpu kernels that reduce in one invocation refuse sizes past the budget, before dispatching', () => {
    const g = gpu();
    const S = LOOP_BUDGET + 1;
    const h = g.tensor([1, S, 1]), z = g.tensor([1, 1]);
    expect(() => g.meanPool(h, z)).toThrow(/webgpu: meanPool over S = 32769 would run 32769 loop iterations/);
    // The HR loss walks the whole batch once per group.
    const B = LOOP_BUDGET;
    const out = g.tensor([B, 2]), hr = g.tensor([B], new Float32Array(B).fill(70)), w = g.tensor([B], new Float32Array(B).fill(1 / B));
    const group = g.tensor([B]), pred = g.tensor([B]), sample = g.tensor([B]), loss = g.tensor([1]), gsum = g.tensor([2]), gcount = g.tensor([2]);
    expect(() => g.hrLoss(out, hr, w, group, { lambda: 0.1, eps: 1e-3 }, pred, sample, loss, gsum, gcount)).toThrow(/hrLoss over a batch of 32768/);
    // A batch within the budget still runs.
    const b = 1000;
    const out2 = g.tensor([b, 2]), hr2 = g.tensor([b], new Float32Array(b).fill(70)), w2 = g.tensor([b], new Float32Array(b).fill(1 / b));
    const group2 = g.tensor([b]), pred2 = g.tensor([b]), sample2 = g.tensor([b]);
    g.hrLoss(out2, hr2, w2, group2, { lambda: 0.1, eps: 1e-3 }, pred2, sample2, loss, gsum, gcount);
    expect(g.download(gcount)[0]).toBe(b);
  });

  test('a budget outside 1..LOOP_BUDGET, or too small for one GEMM tile, is refused by name before a device starts', () => {
    expect(() => new WebGpuBackend({ loopBudget: LOOP_BUDGET + 1 })).toThrow(/loopBudget must be an integer from 1 to 32768, got 32769/);
    expect(() => new WebGpuBackend({ loopBudget: 0 })).toThrow(/loopBudget must be an integer from 1 to 32768, got 0/);
    expect(() => new WebGpuBackend({ loopBudget: 0.5 })).toThrow(/got 0.5/);
    // One 16-deep GEMM tile counts 473 iterations, plus 36 once.
    expect(() => new WebGpuBackend({ loopBudget: 508 })).toThrow(/loopBudget 508 is too small: webgpu: gemm needs 509/);
  });

  test('a refused norm backward leaves its parameter gradient as it was (the checks come before any dispatch)', () => {
    const g = tinyGemm(), r = rng(13);
    // 3 strides of 64 over 13000 columns and two 6-step tree reductions: 624 iterations, over the budget of 600.
    const N = 2, D = 13000;
    const x = rand2(g, [N, D], r), dy = rand2(g, [N, D], r), scale = rand2(g, [D], r), rstd = pair(g, [N], new Float32Array(N).fill(1));
    const dx = rand2(g, [N, D], r), mean = pair(g, [N], new Float32Array(N)), before = Float32Array.from({ length: D }, (_, i) => i);
    const ds = pair(g, [D], before), dbeta = pair(g, [D], before);
    expect(() => g.rmsNormBackward(dy.g, x.g, scale.g, rstd.g, dx.g, ds.g)).toThrow(/rmsNormBackward over rows of 13000 would run 624/);
    expect(() => g.layerNormBackward(dy.g, x.g, scale.g, mean.g, rstd.g, dx.g, ds.g, dbeta.g)).toThrow(/layerNormBackward over rows of 13000/);
    expect(Array.from(g.download(ds.g))).toEqual(Array.from(before));
    expect(Array.from(g.download(dbeta.g))).toEqual(Array.from(before));
  });

  test('linear (bias once, relu last, overwrite first), its gradients and the norms match the reference in many slices', () => {
    const g = tinyGemm(), r = rng(11);
    expect(g.loopBudget).toBe(600);
    const N = 1500, K = 100, M = 20;
    const x = rand2(g, [N, K], r), w = rand2(g, [M, K], r), b = rand2(g, [M], r), dy = rand2(g, [N, M], r);
    for (const relu of [false, true]) {
      // y starts as NaN: the first K slice must overwrite it.
      const y = pair(g, [N, M], new Float32Array(N * M).fill(NaN));
      g.linear(x.g, w.g, b.g, y.g, relu);
      ref.linear(x.r, w.r, b.r, y.r, relu);
      expectClose(g, y, `linear (relu ${relu}) over 7 K slices`);
    }
    // dx contracts over M = 20 (2 slices), dW over N = 1500 (94 slices), db over 1500 rows (3 slices).
    const dx = rand2(g, [N, K], r), dw = rand2(g, [M, K], r), db = rand2(g, [M], r);
    g.linearBackward(dy.g, x.g, w.g, dx.g, dw.g, db.g);
    ref.linearBackward(dy.r, x.r, w.r, dx.r, dw.r, db.r);
    expectClose(g, dx, 'dx');
    expectClose(g, dw, 'dW over 94 K slices');
    expectClose(g, db, 'db over 3 row slices');
    const C = 5, gamma = rand2(g, [C], r, 0.5, 1.5), beta = rand2(g, [C], r), xn = rand2(g, [N, C], r, -3, 3), dyn = rand2(g, [N, C], r);
    const y = pair(g, [N, C], new Float32Array(N * C)), mean = pair(g, [N], new Float32Array(N)), rstd = pair(g, [N], new Float32Array(N));
    const dxn = rand2(g, [N, C], r), dg = rand2(g, [C], r), dbt = rand2(g, [C], r), ds = rand2(g, [C], r);
    g.layerNorm(xn.g, gamma.g, beta.g, 1e-5, y.g, mean.g, rstd.g);
    ref.layerNorm(xn.r, gamma.r, beta.r, 1e-5, y.r, mean.r, rstd.r);
    g.layerNormBackward(dyn.g, xn.g, gamma.g, mean.g, rstd.g, dxn.g, dg.g, dbt.g);
    ref.layerNormBackward(dyn.r, xn.r, gamma.r, mean.r, rstd.r, dxn.r, dg.r, dbt.r);
    expectClose(g, dg, 'layerNorm dγ over 3 row slices');
    expectClose(g, dbt, 'layerNorm dβ over 3 row slices');
    g.rmsNorm(xn.g, gamma.g, 1e-6, y.g, rstd.g);
    ref.rmsNorm(xn.r, gamma.r, 1e-6, y.r, rstd.r);
    g.rmsNormBackward(dyn.g, xn.g, gamma.g, rstd.g, dxn.g, ds.g);
    ref.rmsNormBackward(dyn.r, xn.r, gamma.r, rstd.r, dxn.r, ds.r);
    expectClose(g, ds, 'rmsNorm dscale over 3 row slices');
  });

  test('attention forward and backward match the reference in slices of one key tile, with dropout and overwrite', () => {
    const g = tinyAttention(), r = rng(12);
    for (const [B, S, D, H, slice] of [[2, 100, 136, 2, 30], [1, 200, 16, 1, 96]] as [number, number, number, number, number][]) {
      const hd = D / H, c = attentionConsts(hd);
      const tile = { HD: hd, KT: c.KT, QT: c.QT };
      expect([attentionForwardSlice(tile, g.loopBudget), attentionDqSlice(tile, g.loopBudget), attentionDkdvSlice(tile, g.loopBudget)]).toEqual([slice, slice, slice]);
      for (const drop of [undefined, { p: 0.2, key: { seed: 3, step: 4, site: 5 } }]) {
        for (const overwrite of [false, true]) {
          const q = rand2(g, [B, S, D], r, -2, 2), k = rand2(g, [B, S, D], r, -2, 2), v = rand2(g, [B, S, D], r), dout = rand2(g, [B, S, D], r);
          const out = pair(g, [B, S, D], new Float32Array(B * S * D).fill(NaN)), lse = pair(g, [B, H, S], new Float32Array(B * H * S));
          const init = overwrite ? () => new Float32Array(B * S * D).fill(NaN) : () => Float32Array.from({ length: B * S * D }, () => r() - 0.5);
          const dq = pair(g, [B, S, D], init()), dk = pair(g, [B, S, D], init()), dv = pair(g, [B, S, D], init());
          g.ropeAttention(q.g, k.g, v.g, H, out.g, lse.g, drop);
          ref.ropeAttention(q.r, k.r, v.r, H, out.r, lse.r, drop);
          g.ropeAttentionBackward(dout.g, q.g, k.g, v.g, out.g, lse.g, H, dq.g, dk.g, dv.g, drop, overwrite);
          ref.ropeAttentionBackward(dout.r, q.r, k.r, v.r, out.r, lse.r, H, dq.r, dk.r, dv.r, drop, overwrite);
          const what = `S=${S} hd=${hd}${drop ? ' dropout' : ''}${overwrite ? ' overwrite' : ''}`;
          for (const [t, name] of [[out, 'out'], [lse, 'lse'], [dq, 'dq'], [dk, 'dk'], [dv, 'dv']] as const) expectClose(g, t, `${name} ${what}`, 2e-4);
        }
      }
    }
  });
});
