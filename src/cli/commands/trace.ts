import type { Command } from 'commander';
import { isModelSize, MODEL_SIZES } from '../../model/config';
import { writeTrace } from '../../trace/write-trace';
import { intOption } from '../options';

export function registerTraceCommand(program: Command): void {
  program
    .command('trace')
    .description("write one HR fine-tuning step's forward and backward (DESIGN.md trace format) as safetensors")
    .option('--model <size>', `model size (${Object.keys(MODEL_SIZES).join(', ')})`, 'tiny')
    .option('--backend <name>', 'compute backend (default: fastest available)')
    .option('--seed <n>', 'seed for the parameters and the batch', intOption('--seed', 0), 0)
    .option('--batch <n>', 'windows in the batch', intOption('--batch', 1), 4)
    .option('--patches <n>', 'patches per window T', intOption('--patches', 1), 10)
    .option('--layers <n>', "blocks (default: the size's own; fewer keep every width at a fraction of the time)", intOption('--layers', 1))
    .requiredOption('--out <file>', 'output .safetensors file')
    .action((o: { model: string; backend?: string; seed: number; batch: number; patches: number; layers?: number; out: string }) => {
      if (!isModelSize(o.model)) throw new Error(`--model: unknown size '${o.model}' (choose ${Object.keys(MODEL_SIZES).join(', ')})`);
      const r = writeTrace({ size: o.model, backend: o.backend, seed: o.seed, batch: o.batch, patches: o.patches, layers: o.layers }, o.out);
      console.log(`trace written to ${o.out} (backend ${r.backend}, loss ${r.loss})`);
    });
}
