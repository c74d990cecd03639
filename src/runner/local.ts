// The embedded runner: every pending cell in this process, one after another, on the caller's backend.
import type { Backend } from '../engine/backend';
import { cellId, CellSpec, runCell } from '../experiment/cell';
import type { CellResult } from '../experiment/results';
import { progressBar } from '../util/progress';
import { clearCellState, describeCell, storeCell } from '../experiment/cell-store';
import type { CellFailure, GridContext, GridRunner, RunnerHooks, RunnerOutcome } from '../experiment/runner';

export class LocalRunner implements GridRunner {
  readonly name = 'local';

  constructor(private readonly backend: Backend) {}

  async run(ctx: GridContext, pending: CellSpec[], hooks: RunnerHooks): Promise<RunnerOutcome> {
    const results = new Map<string, CellResult>();
    const failed: CellFailure[] = [];
    const c = ctx.config;
    pending.forEach((spec, i) => {
      const id = cellId(c, spec);
      const tag = `[${i + 1}/${pending.length}]`;
      const bar = progressBar(`${tag} ${spec.source} ${spec.strategy} s${spec.seed}`, 1, 'steps', hooks.progress);
      try {
        const r = runCell(c, spec, ctx.domains, ctx.groups, ctx.targets, ctx.checkpoints.get(spec.size) ?? null, this.backend, {
          onStep: (d, t, info) => { bar.setTotal(t); bar.update(d, { loss: info.loss }); },
        }, { runDir: ctx.dir, log: hooks.log });
        bar.stop();
        storeCell(ctx.dir, r);
        clearCellState(ctx.dir, id);
        results.set(id, r);
        hooks.log(`${tag} ${describeCell(r)}`);
      } catch (e) {
        bar.stop();
        const error = e instanceof Error ? e.message : String(e);
        failed.push({ id, error });
        hooks.log(`${tag} ${id} FAILED: ${error}`);
      }
    });
    return { results, failed };
  }

  async close(): Promise<void> {}
}
