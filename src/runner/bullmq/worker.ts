// A queue worker: takes cell jobs, validates each payload, returns the stored result of a cell that already
// has one (a re-delivered job costs nothing and the cell stays exactly once in the results), and otherwise
// runs the cell in one of its cell processes, which writes runs/<name>/cells/<id>.json atomically. The job's
// return value is the cell's metrics. Invalid payloads fail at once (no retries): they cannot get better.
import { Job, UnrecoverableError, Worker } from 'bullmq';
import * as path from 'path';
import { cellId } from '../../experiment/cell';
import type { CellResult } from '../../experiment/results';
import { describeCell, readStoredCell } from '../../experiment/cell-store';
import { runDirOf } from '../../experiment/grid';
import { parseQueueUrl, QUEUE_NAME } from './connection';
import { parseCellJob } from './job';
import { CellProcessPool } from './process-pool';
import { queueTimings } from './settings';

export interface CellWorkerOptions {
  queueUrl: string;
  /** This machine's path of the shared runs directory. */
  runsDir: string;
  backend?: string;
  concurrency?: number;
  log?: (s: string) => void;
}

/** What a cell job returns: where its result is and the metrics per target (no projections: they stay in the file). */
export interface CellJobResult {
  id: string;
  /** The result file relative to the runs directory. */
  file: string;
  /** True when the result was already stored and nothing ran. */
  cached: boolean;
  targets: { target: string; metrics: CellResult['targets'][number]['metrics'] }[];
}

export interface CellWorkerHandle {
  worker: Worker;
  /** Stops taking jobs, waits for running cells (unless forced), then ends the cell processes. */
  close(force?: boolean): Promise<void>;
}

function jobResult(r: CellResult, runsDir: string, file: string, cached: boolean): CellJobResult {
  return { id: r.id, file: path.relative(runsDir, file), cached, targets: r.targets.map((t) => ({ target: t.target, metrics: t.metrics })) };
}

export function startCellWorker(o: CellWorkerOptions): CellWorkerHandle {
  const log = o.log ?? (() => {});
  const concurrency = o.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a positive whole number, got ${o.concurrency}`);
  const connection = parseQueueUrl(o.queueUrl);
  const timings = queueTimings();
  const pool = new CellProcessPool();

  const processor = async (job: Job): Promise<CellJobResult> => {
    let data;
    try {
      data = parseCellJob(job.data, `job ${job.id}`);
    } catch (e) {
      throw new UnrecoverableError((e as Error).message);
    }
    const { config, cell } = data;
    const id = cellId(config, cell);
    const dir = runDirOf(o.runsDir, config);
    const stored = readStoredCell(dir, id);
    if (stored) {
      log(`job ${job.id}: already stored, returning it`);
      return jobResult(stored, o.runsDir, path.join(dir, 'cells', `${id}.json`), true);
    }
    log(`job ${job.id}: running ${config.name} ${cell.source} · ${cell.strategy} · ${cell.size} · seed ${cell.seed} (attempt ${job.attemptsMade + 1})`);
    const reply = await pool.run({ type: 'run', job: data, runsDir: o.runsDir, backend: o.backend });
    const r = readStoredCell(dir, reply.id);
    if (!r) throw new Error(`the cell process reported ${reply.file} written, but it cannot be read back`);
    log(`job ${job.id}: ${describeCell(r)}`);
    return jobResult(r, o.runsDir, reply.file, false);
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection,
    concurrency,
    lockDuration: timings.lockDurationMs,
    stalledInterval: timings.stalledIntervalMs,
    // A job whose worker died this often is more likely killing workers than unlucky.
    maxStalledCount: 3,
  });
  // Without an 'error' listener an EventEmitter error (e.g. Redis unreachable) would end the process;
  // the connection retries on its own, so reporting is all there is to do.
  let lastError = '';
  worker.on('error', (e) => {
    if (e.message !== lastError) log(`queue error: ${e.message} (retrying)`);
    lastError = e.message;
  });
  worker.on('ready', () => {
    if (lastError !== '') log('queue connection is back');
    lastError = '';
  });
  worker.on('failed', (job, e) => {
    if (job) log(`job ${job.id} failed (attempt ${job.attemptsMade}): ${e.message}`);
  });
  worker.on('stalled', (jobId) => log(`job ${jobId} stalled (its worker stopped renewing the lock): handed back to the queue`));

  let closing: Promise<void> | null = null;
  return {
    worker,
    close(force = false) {
      if (force) {
        pool.close();
        return worker.close(true);
      }
      closing ??= worker.close().finally(() => pool.close());
      return closing;
    },
  };
}
