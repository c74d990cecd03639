// Putting a grid's unfinished cells on the queue, idempotently: each cell's job id is derived from its
// configuration, and BullMQ does not add a job whose id exists. A job that failed in an earlier run (or
// completed, but its result is not in this runs directory) is retried instead, because the caller asks for
// exactly the cells that have no stored result.
import type { Queue } from 'bullmq';
import type { ExperimentConfig } from '../../experiment/config';
import type { CellSpec } from '../../experiment/cell';
import { CELL_JOB_NAME, cellJobData, cellJobId, cellJobOptions } from './job';

export interface EnqueueOutcome {
  /** Job ids, in the order of the cells given. */
  ids: string[];
  added: number;
  /** Jobs already waiting, delayed or running (left as they are). */
  existing: number;
  /** Finished jobs put back to work. */
  retried: number;
}

export async function enqueueCells(queue: Queue, c: ExperimentConfig, cells: readonly CellSpec[]): Promise<EnqueueOutcome> {
  const out: EnqueueOutcome = { ids: [], added: 0, existing: 0, retried: 0 };
  for (const cell of cells) {
    const id = cellJobId(c, cell);
    out.ids.push(id);
    const job = await queue.getJob(id);
    if (!job) {
      await queue.add(CELL_JOB_NAME, cellJobData(c, cell), cellJobOptions(id));
      out.added++;
      continue;
    }
    const state = await job.getState();
    if (state === 'failed' || state === 'completed') {
      await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
      out.retried++;
    } else {
      out.existing++;
    }
  }
  return out;
}
