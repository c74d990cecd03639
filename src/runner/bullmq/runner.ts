// The coordinator's side of a queued grid: enqueue the pending cells, then follow them until each one is
// completed (its result is in the shared runs directory) or failed (its error is kept). Queue events drive
// the progress bar; a periodic look at every job's state backs them up, because events sent while the
// coordinator was disconnected from Redis are not replayed.
import { Queue, QueueEvents } from 'bullmq';
import type { ExperimentConfig } from '../../experiment/config';
import { cellId, cellsOf, CellSpec } from '../../experiment/cell';
import type { CellResult } from '../../experiment/results';
import { progressBar } from '../../util/progress';
import { describeCell, readStoredCell } from '../../experiment/cell-store';
import type { CellFailure, GridContext, GridRunner, RunnerHooks, RunnerOutcome } from '../../experiment/runner';
import { displayUrl, parseQueueUrl, QUEUE_NAME } from './connection';
import { enqueueCells, EnqueueOutcome } from './enqueue';
import { cellJobId } from './job';

export interface BullmqRunnerOptions {
  /** Longest pause between two looks at the jobs' states (default 2 s). */
  pollMs?: number;
}

export class BullmqRunner implements GridRunner {
  readonly name = 'bullmq';
  readonly queue: Queue;
  private events: QueueEvents | null = null;
  private readonly pollMs: number;
  private lastError = '';

  constructor(readonly url: string, o: BullmqRunnerOptions = {}) {
    this.queue = new Queue(QUEUE_NAME, { connection: parseQueueUrl(url) });
    this.queue.on('error', (e) => this.noteError(e));
    this.pollMs = o.pollMs ?? 2000;
  }

  private log: (s: string) => void = () => {};

  private noteError(e: Error): void {
    if (e.message !== this.lastError) this.log(`queue ${displayUrl(this.url)}: ${e.message} (retrying)`);
    this.lastError = e.message;
  }

  enqueue(c: ExperimentConfig, cells: readonly CellSpec[]): Promise<EnqueueOutcome> {
    return enqueueCells(this.queue, c, cells);
  }

  async run(ctx: GridContext, pending: CellSpec[], hooks: RunnerHooks): Promise<RunnerOutcome> {
    this.log = hooks.log;
    const c = ctx.config;
    const results = new Map<string, CellResult>();
    const failed: CellFailure[] = [];
    if (pending.length === 0) return { results, failed };
    // Subscribe before enqueuing so that no completion is missed by the events (the poll would catch it anyway).
    let wake: () => void = () => {};
    this.events ??= new QueueEvents(QUEUE_NAME, { connection: parseQueueUrl(this.url) });
    this.events.on('error', (e) => this.noteError(e));
    const byJob = new Map(pending.map((s) => [cellJobId(c, s), s]));
    const onEvent = ({ jobId }: { jobId: string }) => {
      if (byJob.has(jobId)) wake();
    };
    this.events.on('completed', onEvent);
    this.events.on('failed', onEvent);
    await this.events.waitUntilReady();

    const q = await this.enqueue(c, pending);
    hooks.log(`queued ${pending.length} cells on ${displayUrl(this.url)} (${q.added} new, ${q.existing} already queued, ${q.retried} retried): waiting for workers`);
    const bar = progressBar('cells', pending.length, 'cells', hooks.progress);
    const remaining = new Set(q.ids);
    let done = 0;
    try {
      while (remaining.size > 0) {
        for (const jobId of [...remaining]) {
          const state = await this.queue.getJobState(jobId);
          if (state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
          remaining.delete(jobId);
          done++;
          const spec = byJob.get(jobId)!;
          const id = cellId(c, spec);
          const tag = `[${done}/${pending.length}]`;
          if (state === 'completed') {
            const r = readStoredCell(ctx.dir, id);
            if (r) {
              results.set(id, r);
              hooks.log(`${tag} ${describeCell(r)}`);
            } else {
              const error = `job ${jobId} completed, but ${ctx.dir}/cells has no result for it: do the workers use the same shared runs directory (--runs)?`;
              failed.push({ id, error });
              hooks.log(`${tag} ${id} FAILED: ${error}`);
            }
          } else {
            const job = state === 'failed' ? await this.queue.getJob(jobId) : undefined;
            const error = state === 'unknown'
              ? `job ${jobId} disappeared from the queue (removed by someone else?)`
              : `${job?.failedReason ?? 'failed without a reason'} (after ${job?.attemptsMade ?? '?'} attempts)`;
            failed.push({ id, error });
            hooks.log(`${tag} ${id} FAILED: ${error}`);
          }
          bar.update(done);
        }
        if (remaining.size === 0) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.pollMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } finally {
      bar.stop();
      this.events.off('completed', onEvent);
      this.events.off('failed', onEvent);
    }
    return { results, failed };
  }

  /** The cells of a grid whose jobs are in the failed state, with their errors (for a report from stored results). */
  async failures(c: ExperimentConfig): Promise<CellFailure[]> {
    const out: CellFailure[] = [];
    for (const spec of cellsOf(c)) {
      const job = await this.queue.getJob(cellJobId(c, spec));
      if (job && (await job.getState()) === 'failed') out.push({ id: cellId(c, spec), error: `${job.failedReason} (after ${job.attemptsMade} attempts)` });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.events?.close();
    await this.queue.close();
  }
}
