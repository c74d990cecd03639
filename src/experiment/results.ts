// The records an experiment writes: one CellResult per fine-tuning run (JSON file each), gathered into an
// ExperimentResults for the CSV and the HTML report. Plain JSON types only, so records survive a round trip
// through files and queues unchanged.
import type { FairnessReport } from '../fairness/metrics/evaluate';
import type { AlarmReport } from '../fairness/alarms/evaluate';
import type { SubjectErrors } from '../fairness/metrics/subject-errors';

export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  valMae: number | null;
  /** Mean training loss per group (index = group id in groupNames); null when the group was never drawn. */
  trainGroupLoss: (number | null)[];
}

/** A 2-D projection (UMAP) of a subsample of one target's embeddings, for the scatter plots. */
export interface Projection {
  /** Which embedding: 'z' (HR head penultimate) or 'pooled' (mean-pooled hidden states). */
  embedding: string;
  x: number[];
  y: number[];
  /** Group id of each point. */
  group: number[];
}

export interface TargetResult {
  /** Domain name of the target, e.g. 'butppg-like'. */
  target: string;
  metrics: FairnessReport;
  projection?: Projection;
  /** Per evaluated subject: group, windows and Σ|error| (the report's paired comparisons of strategies). */
  subjectErrors?: SubjectErrors[];
  /**
   * How the target was evaluated: over how many folds (1: a holdout split), and the groups with fewer
   * evaluated subjects than the experiment's minimum, whose metrics the report marks instead of trusting.
   */
  evaluation?: { folds: number; minSubjectsPerGroup: number; fewSubjects: string[] };
  /** Alarm fairness under the target's device profile (absent when disabled or without window times). */
  alarms?: AlarmReport & { profile: string };
}

export interface CellResult {
  /** Stable id derived from the cell's configuration. */
  id: string;
  source: string;
  strategy: string;
  size: string;
  seed: number;
  /** Fine-tuning mode (full, head, lora, lastN); absent in results from before modes were an axis. */
  mode?: string;
  /** Strategy hyper-parameters (η, λ, width …). */
  params: Record<string, number | string>;
  groupNames: string[];
  training: {
    epochs: EpochPoint[];
    bestEpoch: number;
    bestValMae: number | null;
    windowsPerSecond: number;
    seconds: number;
    /** Seconds of the strategy's own work (its step hooks and sampler), summed over the folds. */
    strategySeconds?: number;
    /** The largest resident set the cell's process reached while training, MiB. */
    peakRssMiB?: number;
    /** k-fold: each fold's best epoch and validation MAE (the curves above are fold 0's). */
    folds?: { fold: number; bestEpoch: number; bestValMae: number | null }[];
  };
  targets: TargetResult[];
  /** ISO time the cell finished. */
  finished: string;
}

export interface ExperimentResults {
  name: string;
  /** The validated experiment configuration (as JSON). */
  config: Record<string, unknown>;
  /** Per domain: the data manifest (source, parameters, seed, counts per group). */
  manifests: Record<string, Record<string, unknown>>;
  /** Pretraining curve when the experiment pretrained its own foundation model. */
  pretraining?: { epoch: number; loss: number }[];
  cells: CellResult[];
  /** Cells that failed, with their error (the report lists them). */
  failed: { id: string; error: string }[];
  created: string;
}
