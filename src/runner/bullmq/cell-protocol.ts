// Messages between a worker and its cell processes (IPC, JSON). A cell runs in a child process because
// training is synchronous: run on the worker's own thread it would stop the event loop, the job lock would
// not be renewed, and BullMQ would hand a healthy job to another worker.
import type { CellJobData } from './job';

export interface RunCellMessage {
  type: 'run';
  job: CellJobData;
  /** Parent of runs/<name> as this machine sees the shared directory. */
  runsDir: string;
  backend?: string;
}

export type CellReply =
  | { type: 'done'; id: string; file: string }
  | { type: 'error'; message: string };
