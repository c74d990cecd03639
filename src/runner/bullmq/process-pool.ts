// A small pool of cell processes for one worker: one process per concurrently running job, reused for the
// next job (so a process keeps its loaded data), replaced when it dies. A process that exits during a cell
// fails that attempt with the exit code or signal; BullMQ then retries the job.
import { ChildProcess, fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { CellReply, RunCellMessage } from './cell-protocol';

export class CellProcessPool {
  private readonly idle: ChildProcess[] = [];
  private readonly all = new Set<ChildProcess>();
  private closed = false;

  constructor(private readonly script = path.join(__dirname, 'cell-process.js')) {
    if (!fs.existsSync(this.script)) {
      throw new Error(`cell process script ${this.script} is missing: build with \`npx tsc -p .\` and run the worker from dist/`);
    }
  }

  private spawn(): ChildProcess {
    const child = fork(this.script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.all.add(child);
    child.once('exit', () => {
      this.all.delete(child);
      const i = this.idle.indexOf(child);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return child;
  }

  run(m: RunCellMessage): Promise<CellReply & { type: 'done' }> {
    if (this.closed) return Promise.reject(new Error('the worker is shutting down'));
    const child = this.idle.pop() ?? this.spawn();
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        child.off('message', onMessage);
        reject(new Error(`the cell process exited during the cell (${signal ? `signal ${signal}` : `code ${code}`})`));
      };
      const onMessage = (reply: CellReply) => {
        child.off('exit', onExit);
        child.off('message', onMessage);
        if (this.closed) child.kill();
        else this.idle.push(child);
        if (reply.type === 'done') resolve(reply);
        else reject(new Error(reply.message));
      };
      child.once('exit', onExit);
      child.on('message', onMessage);
      child.send(m);
    });
  }

  /** Ends every cell process (running cells are lost; call after the worker stopped taking jobs). */
  close(): void {
    this.closed = true;
    for (const c of this.all) c.kill('SIGTERM');
  }
}
