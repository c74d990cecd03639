// A cell job carries configuration only: the experiment configuration and the cell's coordinates, as plain
// JSON. A worker validates every payload before touching it (zod, the same schema as the command line's
// configurations), so a malformed or foreign job fails with the path of the invalid field and never runs.
import { z } from 'zod';
import type { JobsOptions } from 'bullmq';
import { ExperimentConfig, ExperimentConfigSchema, finetuneModes } from '../../experiment/config';
import { cellId, CellSpec } from '../../experiment/cell';
import type { ModelSize } from '../../model/config';
import { queueTimings } from './settings';

export const CELL_JOB_NAME = 'cell';
export const CELL_JOB_VERSION = 1;

export interface CellJobData {
  version: typeof CELL_JOB_VERSION;
  config: ExperimentConfig;
  cell: CellSpec;
}

const CellJobSchema = z.object({
  version: z.literal(CELL_JOB_VERSION),
  config: ExperimentConfigSchema,
  cell: z.object({
    source: z.string(),
    strategy: z.string(),
    size: z.string(),
    seed: z.number().int().nonnegative(),
    mode: z.string().optional(),
  }).strict(),
}).strict().superRefine((j, ctx) => {
  // The cell must be a point of its own grid: anything else is not a job this experiment produced.
  const c = j.config;
  const within = (key: 'source' | 'strategy' | 'size' | 'seed', list: readonly (string | number)[]) => {
    if (!list.includes(j.cell[key])) ctx.addIssue({ code: 'custom', path: ['cell', key], message: `${JSON.stringify(j.cell[key])} is not in the experiment's ${key}s (${list.join(', ')})` });
  };
  within('source', c.sources);
  if (j.cell.mode !== undefined && !finetuneModes(c).includes(j.cell.mode)) {
    ctx.addIssue({ code: 'custom', path: ['cell', 'mode'], message: `${JSON.stringify(j.cell.mode)} is not in the experiment's fine-tuning modes (${finetuneModes(c).join(', ')})` });
  }
  within('strategy', c.strategies);
  within('size', c.sizes);
  within('seed', c.seeds);
});

/** Validates a job's data; the error lists every invalid field by its path. */
export function parseCellJob(data: unknown, where = 'job'): CellJobData {
  const r = CellJobSchema.safeParse(data);
  if (!r.success) {
    throw new Error(`${where}: invalid cell job payload:\n${r.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return { version: CELL_JOB_VERSION, config: r.data.config, cell: { ...r.data.cell, size: r.data.cell.size as ModelSize } };
}

export function cellJobData(config: ExperimentConfig, cell: CellSpec): CellJobData {
  return { version: CELL_JOB_VERSION, config, cell };
}

/**
 * Stable across enqueues: BullMQ ignores an add whose job id exists, so enqueuing a grid twice adds nothing.
 * The cell id already hashes the configuration; the experiment name keeps two experiments apart.
 */
export function cellJobId(config: ExperimentConfig, cell: CellSpec): string {
  return `${config.name}__${cellId(config, cell)}`;
}

/** Retry budget and record keeping of cell jobs. */
export function cellJobOptions(jobId: string): JobsOptions {
  return {
    jobId,
    attempts: 3,
    backoff: { type: 'fixed', delay: queueTimings().backoffMs },
    // Finished jobs stay, so their ids keep blocking duplicates and failures stay reportable.
    removeOnComplete: false,
    removeOnFail: false,
  };
}
