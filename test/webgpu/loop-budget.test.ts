// The loop budget of the webgpu kernels (src/engine/webgpu/loop-budget.ts): how ranges are sliced, that every
// kernel's slice fits at every head dim, and that the kernels which cannot be sliced refuse, by name, a size
// that would outrun llvmpipe's loop limit instead of returning partial results. That the sliced kernels give
// the reference's values past the limit is the conformance suite's job (the cases at 70000 tokens, S = 330
// and S = 500 failed on webgpu before the slicing).
import { GEMM_TILE, attentionConsts } from '../../src/engine/webgpu/kernels';
import {
  LLVMPIPE_LOOP_LIMIT, LOOP_BUDGET, attentionDkdvSlice, attentionDqSlice, attentionForwardSlice, checkLoopBudget, gemmKSlice,
  sliceLength, slices,
} from '../../src/engine/webgpu/loop-budget';
import { useWebGpu } from './helpers';

const gpu = useWebGpu();

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
});
