// Online GroupDRO (Sagawa et al. 2020): q_g ← q_g·exp(η·L_g) for the groups present in the batch
// (L_g = groupLossSum_g / groupCount_g), renormalised; then per-sample weights w_i = q_{g_i}/count_{g_i}
// so that Σ w·ℓ / Σ w is the q-weighted mean of the group losses. The update is done in log space
// (subtracting the largest exponent) so that a large η·L cannot overflow exp.
import type { Vec } from './types';

export function groupDroUpdate(
  q: Vec, groupLossSum: Vec, groupCount: Vec, eta: number, group: Vec, w: Vec, G: number, B: number,
): void {
  const logq = new Float64Array(G);
  let max = -Infinity;
  for (let g = 0; g < G; g++) {
    const boost = groupCount[g] > 0 ? (eta * groupLossSum[g]) / groupCount[g] : 0;
    logq[g] = Math.log(q[g]) + boost;
    if (logq[g] > max) max = logq[g];
  }
  let total = 0;
  for (let g = 0; g < G; g++) {
    logq[g] = Math.exp(logq[g] - max);
    total += logq[g];
  }
  for (let g = 0; g < G; g++) q[g] = logq[g] / total;
  for (let i = 0; i < B; i++) {
    const g = group[i];
    w[i] = q[g] / groupCount[g];
  }
}
