import type { Command } from 'commander';
import { getBackend } from '../../engine/registry';
import { overfitDemo } from '../../train/overfit';
import { intOption } from '../options';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('train the tiny model on a few random windows and print the falling loss (engine smoke test)')
    .option('--backend <name>', 'compute backend (default: fastest available)')
    .option('--steps <n>', 'optimiser steps', intOption('--steps', 1), 150)
    .option('--seed <n>', 'seed', intOption('--seed', 0), 0)
    .action((o: { backend?: string; steps: number; seed: number }) => {
      const backend = getBackend(o.backend, (why) => console.error(`note: ${why}`));
      console.log(`backend: ${backend.name} (${backend.description})`);
      const t0 = Date.now();
      const every = Math.max(1, Math.floor(o.steps / 15));
      const hist = overfitDemo(backend, {
        steps: o.steps,
        seed: o.seed,
        onStep: (p) => {
          if (p.step % every === 0 || p.step === o.steps - 1) {
            console.log(`step ${String(p.step).padStart(4)}  loss ${p.loss.toFixed(4).padStart(9)}  MAE ${p.mae.toFixed(2).padStart(7)} bpm`);
          }
        },
      });
      const secs = (Date.now() - t0) / 1000;
      const first = hist[0].mae, last = hist[hist.length - 1].mae;
      console.log(`MAE ${first.toFixed(2)} → ${last.toFixed(2)} bpm (${(first / Math.max(last, 1e-9)).toFixed(1)}× lower) in ${secs.toFixed(1)} s`);
    });
}
