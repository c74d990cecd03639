// How many loop iterations one shader invocation may run, and how the kernels whose loops grow with the data
// are sliced to stay within it.
//
// llvmpipe, Mesa's software rasteriser and the WebGPU adapter of machines without a GPU, ends every loop of an
// invocation once it has run 65535 iterations in all: gallivm's LP_MAX_TGSI_LOOP_ITERATIONS, one counter shared
// by all the loops of a shader, there to stop runaway shaders. Nothing reports it; the results are partial or
// never written. (Measured here: attention at head dim 128 lost its query rows from 224 on, a dW GEMM over
// 40000 tokens was wrong by 40×, a bias gradient over 70000 rows by 6×.) So every kernel with a data-dependent
// loop (a GEMM's K, attention's keys or queries, the rows of a column sum) is dispatched over slices of that
// range, each within LOOP_BUDGET iterations per invocation, and accumulates across them. The counts below
// take every loop body as run, none unrolled (the compiler does unroll some: then they over-count). They leave
// out what llvmpipe's counter also takes, a loop's final exiting pass and one pass of a loop whose branch no
// lane took, a few per tile: the budget's other half covers those. (Measured: attention at head dim 128 first
// failed at 16 key tiles per dispatch, which these counts put at 69776 iterations; 15 tiles, 65439 by them,
// ran. They choose 7.)

/** The hard limit of llvmpipe, in loop iterations per invocation, all loops together. */
export const LLVMPIPE_LOOP_LIMIT = 65535;

/** What one invocation may spend per dispatch by the counts below: half the limit, the rest being the margin. */
export const LOOP_BUDGET = 32768;

/** A half-open range [lo, hi) of a kernel's sliced loop. */
export type Slice = readonly [number, number];

/**
 * [0, total) cut into slices of at most `step` (a positive integer); a single empty slice for total = 0 so
 * that an accumulating kernel still runs its once-per-call part (overwrite, bias).
 */
export function slices(total: number, step: number): Slice[] {
  if (!Number.isInteger(step) || step < 1) throw new Error(`loop budget: slice length ${step} is not a positive integer`);
  if (total <= 0) return [[0, 0]];
  const out: Slice[] = [];
  for (let lo = 0; lo < total; lo += step) out.push([lo, Math.min(total, lo + step)]);
  return out;
}

/**
 * The longest slice (a multiple of `unit`, at least one unit) whose cost fixed + perUnit·(units) fits the budget;
 * throws when not even one unit fits, naming the kernel, rather than dispatching work that would be cut short.
 */
export function sliceLength(what: string, fixed: number, perUnit: number, unit: number, budget = LOOP_BUDGET): number {
  const units = Math.floor((budget - fixed) / perUnit);
  if (units < 1) {
    throw new Error(`webgpu: ${what} needs ${fixed + perUnit} loop iterations per invocation for its smallest slice; ` +
      `this engine keeps each dispatch within ${budget} (llvmpipe stops loops at ${LLVMPIPE_LOOP_LIMIT})`);
  }
  return units * unit;
}

/** Throws when a kernel that cannot be sliced would run more than the budget's iterations in one invocation. */
export function checkLoopBudget(what: string, iterations: number, budget = LOOP_BUDGET): void {
  if (iterations > budget) {
    throw new Error(`webgpu: ${what} would run ${iterations} loop iterations in one invocation, over the ${budget} this ` +
      `engine allows per dispatch (llvmpipe silently stops loops at ${LLVMPIPE_LOOP_LIMIT}): it needs a smaller batch, sequence or width`);
  }
}

/** The GEMM tile constants the count needs (GEMM_TILE in kernels.ts). */
export interface GemmTile { TM: number; TN: number; TK: number; RM: number; RN: number }

/**
 * Longest K slice of gemm.wgsl: per K tile the two tile loads (TK·TM and TK·TN over the workgroup), the kk loop
 * with its four inner loops, and the tile loop itself; once per dispatch the accumulator clear and the epilogue.
 */
export function gemmKSlice(t: GemmTile, budget = LOOP_BUDGET): number {
  const threads = (t.TM / t.RM) * (t.TN / t.RN);
  const perTile = Math.ceil((t.TK * t.TM) / threads) + Math.ceil((t.TK * t.TN) / threads) + t.TK * (1 + t.RM + t.RN + t.RM * (1 + t.RN)) + 1;
  const fixed = t.RM * t.RN + t.RM * (1 + t.RN);
  return sliceLength('gemm', fixed, perTile, t.TK, budget);
}

/** Rows per dispatch of the one-loop-over-rows reductions (column_sum, rms_backward_dscale, ln_backward_params). */
export function rowSlice(budget = LOOP_BUDGET): number {
  return sliceLength('row reduction', 0, 1, 1, budget);
}

/** The attention kernels' constants the count needs (attentionConsts in kernels.ts). */
export interface AttentionTile { HD: number; KT: number; QT: number }

/** Iterations of the Philox loop (philox.wgsl, 10 rounds) per dropout decision, counted whether or not dropout is on. */
const PHILOX_ROUNDS = 10;

/**
 * Longest key slice of attn_forward: per key the score and accumulate loops over HD (plus the key loop and the
 * dropout decision); per tile of KT keys the K/V load loop and the tile loop; once the q load (with the
 * accumulator's clear), the accumulator's reload when resuming, and the store, over HD each.
 */
export function attentionForwardSlice(a: AttentionTile, budget = LOOP_BUDGET): number {
  const perTile = a.KT * (1 + 2 * a.HD + PHILOX_ROUNDS) + Math.ceil((a.KT * a.HD) / a.QT) + 1;
  return sliceLength(`attention forward (head dim ${a.HD})`, 3 * a.HD, perTile, a.KT, budget);
}

/** Longest key slice of attn_bwd_dq: per key the s/dp loop and the dq loop over HD; once the loads, the rotation and the store. */
export function attentionDqSlice(a: AttentionTile, budget = LOOP_BUDGET): number {
  const perTile = a.KT * (1 + 2 * a.HD + PHILOX_ROUNDS) + Math.ceil((a.KT * a.HD) / a.QT) + 1;
  return sliceLength(`attention backward dq (head dim ${a.HD})`, 2 * a.HD + a.HD / 4, perTile, a.KT, budget);
}

/**
 * Longest query slice of attn_bwd_dkdv: per query the s/dp loop and the dk/dv loop over HD; per tile the Q/dO,
 * lse/Δ loads and the tile loop; once the k/v load, the rotation and the store.
 */
export function attentionDkdvSlice(a: AttentionTile, budget = LOOP_BUDGET): number {
  const perTile = a.KT * (1 + 2 * a.HD + PHILOX_ROUNDS) + Math.ceil((a.KT * a.HD) / a.QT) + Math.ceil(a.KT / a.QT) + 1;
  return sliceLength(`attention backward dk/dv (head dim ${a.HD})`, 2 * a.HD + a.HD / 4, perTile, a.KT, budget);
}
