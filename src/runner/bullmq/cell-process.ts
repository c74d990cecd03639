// Entry point of a cell process (forked by CellProcessPool): runs the cells it is sent, one at a time, and
// writes each result to the shared runs directory. The grid context (data, groups, checkpoints) is kept for
// the next cell of the same experiment. The process ends with its parent: if the worker dies, the IPC
// channel closes and so does this process, instead of computing for nobody.
import { getBackend } from '../../engine/registry';
import { cellId, runCell } from '../../experiment/cell';
import { clearCellState, storeCell } from '../../experiment/cell-store';
import { prepareGrid } from '../../experiment/grid';
import type { GridContext } from '../../experiment/runner';
import type { CellReply, RunCellMessage } from './cell-protocol';

let cached: { key: string; ctx: GridContext } | null = null;

function contextFor(m: RunCellMessage): GridContext {
  const key = JSON.stringify([m.runsDir, m.backend ?? null, m.job.config]);
  if (cached?.key !== key) {
    cached = null; // release the previous experiment's data before loading the next
    const backend = getBackend(m.backend, (why) => console.error(`note: ${why}`));
    cached = { key, ctx: prepareGrid(m.job.config, m.runsDir, backend, { progress: false, log: (s) => console.log(`[cell ${process.pid}] ${s}`) }) };
  }
  return cached.ctx;
}

function handle(m: RunCellMessage): CellReply {
  try {
    const ctx = contextFor(m);
    const { config, cell } = m.job;
    const backend = getBackend(m.backend);
    const id = cellId(config, cell);
    // Training states go to the shared runs folder: the worker that takes over a killed cell resumes from them.
    const r = runCell(config, cell, ctx.domains, ctx.groups, ctx.targets, ctx.checkpoints.get(cell.size) ?? null, backend, {}, {
      runDir: ctx.dir, log: (s) => console.log(`[cell ${process.pid}] ${s}`),
    });
    const file = storeCell(ctx.dir, r);
    clearCellState(ctx.dir, id);
    return { type: 'done', id, file };
  } catch (e) {
    return { type: 'error', message: e instanceof Error ? e.message : String(e) };
  }
}

if (typeof process.send !== 'function') {
  console.error('cell-process: this is the cell process of `fairtune worker` and is started by it, not by hand');
  process.exit(2);
}
process.on('message', (m: RunCellMessage) => {
  if (m?.type !== 'run') return;
  const reply = handle(m);
  // A worker that died during the cell has closed the channel: the result is stored all the same.
  if (process.connected) process.send!(reply);
});
process.on('disconnect', () => process.exit(0));
