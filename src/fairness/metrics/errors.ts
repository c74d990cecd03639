// Point metrics of HR error: overall MAE and RMSE, MAE per group, the gap between groups and the worst
// group. Sums run in float64 whatever the input precision.
import { checkGroups, checkPredictions, checkSameLength } from '../../util/array-checks';

// MAE is the training loop's validation metric too, so it lives there (train/ is the lower floor).
export { mae } from '../../train/mae';


export function rmse(pred: ArrayLike<number>, hr: ArrayLike<number>): number {
  const n = checkPredictions('rmse', pred, hr);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = pred[i] - hr[i];
    s += d * d;
  }
  return Math.sqrt(s / n);
}

/** MAE of each group, [G]; every group must have windows. */
export function perGroupMae(pred: ArrayLike<number>, hr: ArrayLike<number>, groupOf: ArrayLike<number>, groupNames: readonly string[]): Float64Array {
  const n = checkPredictions('perGroupMae', pred, hr);
  checkSameLength('perGroupMae', { pred, groupOf });
  const counts = checkGroups('perGroupMae', groupOf, groupNames);
  const sums = new Float64Array(groupNames.length);
  for (let i = 0; i < n; i++) sums[groupOf[i]] += Math.abs(pred[i] - hr[i]);
  for (let g = 0; g < sums.length; g++) sums[g] /= counts[g];
  return sums;
}

/**
 * The fairness gap: |a − b| for two groups, max − min for more (the same formula: for two values
 * max − min = |a − b|).
 */
export function gap(values: ArrayLike<number>): number {
  if (values.length < 2) throw new Error(`gap: needs at least 2 groups, got ${values.length}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let g = 0; g < values.length; g++) {
    const v = values[g];
    if (!Number.isFinite(v)) throw new Error(`gap: value ${g} is ${v}`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
}

export interface WorstGroup {
  index: number;
  name: string;
  mae: number;
}

/** The group with the largest MAE (the first one on ties). */
export function worstGroup(values: ArrayLike<number>, groupNames: readonly string[]): WorstGroup {
  if (values.length !== groupNames.length) throw new Error(`worstGroup: ${values.length} values but ${groupNames.length} group names`);
  if (values.length === 0) throw new Error('worstGroup: no groups');
  let best = 0;
  for (let g = 0; g < values.length; g++) {
    if (!Number.isFinite(values[g])) throw new Error(`worstGroup: value of group "${groupNames[g]}" is ${values[g]}`);
    if (values[g] > values[best]) best = g;
  }
  return { index: best, name: groupNames[best], mae: values[best] };
}
