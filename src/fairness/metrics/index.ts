// The host-side fairness metrics: point metrics, subject bootstrap, MMD, silhouette, and the report.
export { checkFinite, checkPredictions, type Embedding } from '../../util/array-checks';
export { mae, rmse, perGroupMae, gap, worstGroup, type WorstGroup } from './errors';
export {
  bootstrapErrorMetrics,
  percentileInterval,
  quantileSorted,
  type BootstrapInput,
  type BootstrapOptions,
  type BootstrapResult,
  type Interval,
} from './bootstrap';
export { pairwiseSquaredDistances, sampleWithoutReplacement, medianUpperTriangle } from './distance';
export {
  gaussianKernel,
  medianHeuristicSigma2,
  mmd2FromKernel,
  mmdPermutationTest,
  mmdTwoSample,
  mmdBetweenGroups,
  type MmdOptions,
  type MmdPair,
  type MmdResult,
  type PermuteBy,
} from './mmd';
export { silhouetteScore, type SilhouetteOptions, type SilhouetteResult } from './silhouette';
export { evaluateFairness, type EvaluateInput, type EmbeddingReport, type FairnessReport, type GroupReport } from './evaluate';
