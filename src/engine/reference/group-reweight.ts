// The FairTune paper's group reweighting (its GroupDRO variant): normalised group losses raise a group's
// weight, gw_g = 1 + η·L_g/Σ_present L, and each sample is weighted by its group's gw, normalised over the
// batch. Unlike Sagawa's GroupDRO there is no multiplicative memory: gw follows the latest batch.
import type { Vec } from './types';

export function groupLossReweight(
  groupLossSum: Vec, groupCount: Vec, eta: number, group: Vec, gw: Vec, w: Vec, G: number, B: number,
): void {
  let total = 0;
  for (let g = 0; g < G; g++) if (groupCount[g] > 0) total += groupLossSum[g] / groupCount[g];
  let present = 0;
  for (let g = 0; g < G; g++) if (groupCount[g] > 0) present++;
  let mass = 0;
  for (let g = 0; g < G; g++) {
    if (groupCount[g] === 0) continue;
    // All-zero losses (a perfect batch) leave every present group at the same weight.
    const share = total > 0 ? groupLossSum[g] / groupCount[g] / total : 1 / present;
    gw[g] = 1 + eta * share;
    mass += groupCount[g] * gw[g];
  }
  for (let i = 0; i < B; i++) w[i] = gw[group[i]] / mass;
}
