// The seam between "what an experiment grid is" and "where its cells run". A GridRunner receives the cells
// that have no stored result yet and makes each of them either a stored result (runs/<name>/cells/<id>.json)
// or a failure with its error. The local runner runs them here, one after another; the bullmq runner hands
// them to worker processes through Redis. Both leave the same files behind, so the report is built the same
// way whichever ran the cells.
import type { ExperimentConfig } from './config';
import type { CellSpec } from './cell';
import type { DomainData, Protocol } from './data-stage';
import type { CellResult } from './results';

/** Everything a cell needs, prepared once per grid (data, group vocabulary, foundation checkpoints). */
export interface GridContext {
  config: ExperimentConfig;
  /** runs/<name> */
  dir: string;
  domains: Map<string, DomainData>;
  /** Holdout split or k-fold cross-validation (every domain the same), and why. */
  protocol: { kind: Protocol; folds: number; reason: string };
  groups: string[];
  targets: string[];
  /** Foundation checkpoint per model size (null: fine-tune from random initialisation). */
  checkpoints: Map<string, string | null>;
  pretraining?: { epoch: number; loss: number }[];
}

export interface RunnerHooks {
  log: (s: string) => void;
  /** Show progress bars (default: when stderr is a terminal). */
  progress?: boolean;
}

export interface CellFailure {
  id: string;
  error: string;
}

export interface RunnerOutcome {
  /** Results produced by this run, by cell id (cells already stored before are not in here). */
  results: Map<string, CellResult>;
  failed: CellFailure[];
}

export interface GridRunner {
  readonly name: string;
  /** Runs the given cells (none of which has a stored result yet). */
  run(ctx: GridContext, pending: CellSpec[], hooks: RunnerHooks): Promise<RunnerOutcome>;
  /** Releases connections; the runner is unusable afterwards. */
  close(): Promise<void>;
}
