// Timings of the queue, from the environment so that tests (and impatient clusters) can shorten them
// without new command-line flags. BullMQ's lock is what tells a live worker from a dead one: a worker renews
// the lock of each running job every lockDuration/2; a job whose lock lapsed is "stalled" and handed to
// another worker at the next stalled check.
export interface QueueTimings {
  /** How long a job's lock lives without renewal (BullMQ default 30 s). */
  lockDurationMs: number;
  /** How often each worker looks for stalled jobs (BullMQ default 30 s). */
  stalledIntervalMs: number;
  /** Wait before a failed cell is tried again. */
  backoffMs: number;
}

function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name}=${JSON.stringify(raw)}: expected a positive whole number of milliseconds`);
  return v;
}

export function queueTimings(): QueueTimings {
  return {
    lockDurationMs: envMs('FAIRTUNE_QUEUE_LOCK_MS', 30000),
    stalledIntervalMs: envMs('FAIRTUNE_QUEUE_STALLED_MS', 30000),
    backoffMs: envMs('FAIRTUNE_QUEUE_BACKOFF_MS', 2000),
  };
}
