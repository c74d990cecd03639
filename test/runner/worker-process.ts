// `fairtune worker` as a real process of the built CLI (dist/), in its own process group so that a test can
// end it together with its cell processes. Output is collected for assertions and waited on by pattern.
import { ChildProcess, spawn } from 'child_process';

import { CLI, ROOT, requireDist as requireBuilt } from '../helpers/dist';

export { CLI, ROOT };

/** The worker tests spawn the built CLI: its runner and worker command must be current. */
export function requireDist(): void {
  requireBuilt(['src/runner', 'src/cli/commands/worker.ts', 'src/cli/main.ts']);
}

export interface WorkerProcess {
  proc: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGKILL to the worker and its cell processes. */
  killGroup(): void;
  exited(): Promise<number | null>;
}

export const FAST_QUEUE_ENV = { FAIRTUNE_QUEUE_LOCK_MS: '1500', FAIRTUNE_QUEUE_STALLED_MS: '700', FAIRTUNE_QUEUE_BACKOFF_MS: '200' };

export function spawnWorker(url: string, runsDir: string, extra: string[] = []): WorkerProcess {
  const proc = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--runs', runsDir, '--backend', 'cpu', ...extra], {
    cwd: ROOT,
    env: { ...process.env, ...FAST_QUEUE_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    waitFor(pattern, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            waiters.splice(waiters.indexOf(check), 1);
            clearTimeout(t);
            resolve(m);
          }
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`worker ${proc.pid} did not print ${pattern} within ${timeoutMs} ms; output:\n${out}`));
        }, timeoutMs);
        waiters.push(check);
        check();
      });
    },
    killGroup() {
      try {
        if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    exited: () => exit,
  };
}
