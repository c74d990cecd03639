// Mean absolute error of HR predictions, in float64: the fine-tuning loop's validation metric, and the
// overall MAE of the fairness evaluation (fairness/metrics re-exports it).
import { checkPredictions } from '../util/array-checks';

export function mae(pred: ArrayLike<number>, hr: ArrayLike<number>): number {
  const n = checkPredictions('mae', pred, hr);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(pred[i] - hr[i]);
  return s / n;
}
