import type { Command } from 'commander';
import { BACKEND_NAMES, getBackend, isBackendName } from '../../engine/registry';
import { displayUrl } from '../../runner/bullmq/connection';
import { startCellWorker } from '../../runner/bullmq/worker';
import { dirOption } from '../options';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('take experiment cells from a Redis queue (filled by `fairtune experiment --queue`) and run them')
    .requiredOption('--queue <url>', 'the Redis queue (redis://HOST:PORT/N)')
    .option('--runs <dir>', 'the shared runs directory, as this machine mounts it', dirOption('--runs'), 'runs')
    .option('--backend <name>', `compute backend (${BACKEND_NAMES.join(', ')}; default: fastest available)`)
    .option('--concurrency <n>', 'cells run at the same time (one process each)', '1')
    .action(async (o: { queue: string; runs: string; backend?: string; concurrency: string }) => {
      if (o.backend !== undefined && !isBackendName(o.backend)) throw new Error(`--backend ${o.backend}: choose one of ${BACKEND_NAMES.join(', ')}`);
      if (!/^\d+$/.test(o.concurrency) || Number(o.concurrency) < 1) throw new Error(`--concurrency must be a positive whole number, got ${o.concurrency}`);
      const log = (s: string) => console.log(`${new Date().toISOString()} ${s}`);
      // Fail now rather than on every job when the backend cannot run on this machine.
      const backend = getBackend(o.backend, (why) => log(`note: ${why}`));
      const handle = startCellWorker({ queueUrl: o.queue, runsDir: o.runs, backend: backend.name, concurrency: Number(o.concurrency), log });
      log(`worker ${process.pid}: taking cells from ${displayUrl(o.queue)} (${backend.name}, concurrency ${o.concurrency}, runs ${o.runs}); SIGTERM or Ctrl-C stops after the running cells`);
      // First signal: finish the running cells and stop. Second: stop now (their jobs go back to the queue
      // when their locks lapse).
      await new Promise<void>((resolve) => {
        let signals = 0;
        const stop = (sig: NodeJS.Signals) => {
          signals++;
          if (signals === 1) {
            log(`${sig}: finishing the running cells, then stopping (signal again to stop now)`);
            void handle.close().then(resolve, (e: Error) => { log(`close: ${e.message}`); resolve(); });
          } else {
            log(`${sig}: stopping now`);
            void handle.close(true).finally(() => process.exit(130));
          }
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      log('worker stopped');
    });
}
