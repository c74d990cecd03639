// Dropout site numbers: together with (seed, step) they key the Philox mask of each dropout in the
// network, so every backend drops the same elements. Eight slots per block leave room for more sites.
export const SITES_PER_LAYER = 8;

export const enum Site {
  AttnProbs = 0,
  AttnOut = 1,
  Relu = 2,
  MlpOut = 3,
}

export function dropoutSite(layer: number, site: Site): number {
  return layer * SITES_PER_LAYER + site;
}
