import type { Command } from 'commander';
import { refuseOverwritingInputs } from '../overwrite';
import { loadWindowSet } from '../../data/cache/windowset-file';
import { getBackend } from '../../engine/registry';
import { saveCheckpoint } from '../../model/checkpoint';
import { isModelSize, modelConfig, MODEL_SIZES } from '../../model/config';
import { minMaxScaleWindows } from '../../model/input';
import { checkMemory, planMemory } from '../../model/memory';
import { PpgGpt } from '../../model/ppg-gpt';
import { pretrain } from '../../train/pretrain';
import { floatOption, intOption } from '../options';
import { progressBar } from '../../util/progress';

export function registerPretrainCommand(program: Command): void {
  program
    .command('pretrain')
    .description('next-patch pretraining of PPG-GPT on unlabelled windows; writes a foundation checkpoint')
    .requiredOption('--data <files>', 'window set file(s), comma-separated (labels are ignored)')
    .option('--size <size>', `model size (${Object.keys(MODEL_SIZES).join(', ')})`, 'tiny')
    .option('--epochs <n>', 'epochs', intOption('--epochs', 1), 5)
    .option('--batch <n>', 'batch size', intOption('--batch', 1), 32)
    .option('--lr <x>', 'peak learning rate', floatOption('--lr', 0), 1e-3)
    .option('--dropout <p>', 'dropout probability', floatOption('--dropout', 0, 0.99), 0.1)
    .option('--seed <n>', 'seed', intOption('--seed', 0), 0)
    .requiredOption('--out <file>', 'foundation checkpoint (.safetensors)')
    .option('--backend <name>', 'compute backend (default: fastest available)')
    .option('--force', 'write --out even when it is one of the --data files (which is then lost)')
    .action((o: { data: string; size: string; epochs: number; batch: number; lr: number; dropout: number; seed: number; out: string; backend?: string; force?: boolean }) => {
      if (!isModelSize(o.size)) throw new Error(`--size: unknown size '${o.size}'`);
      refuseOverwritingInputs({ '--out': o.out }, Object.fromEntries(o.data.split(',').map((f, i) => [`--data[${i}]`, f.trim()])), o.force);
      const sets = o.data.split(',').map((f) => loadWindowSet(f.trim()));
      const L = sets[0].length;
      for (const s of sets) if (s.length !== L) throw new Error(`--data: window lengths differ (${L} vs ${s.length} samples)`);
      const x = new Float32Array(sets.reduce((a, s) => a + s.windows.length, 0));
      let off = 0;
      for (const s of sets) {
        x.set(minMaxScaleWindows(s.windows, L), off);
        off += s.windows.length;
      }
      const T = L / 40;
      const config = modelConfig(o.size, { hrPatches: Math.min(T, 60), dropout: o.dropout });
      console.log(checkMemory('pretraining', planMemory(config, { B: Math.min(o.batch, x.length / L), T, training: true, head: 'next' })));
      const backend = getBackend(o.backend, (why) => console.error(`note: ${why}`));
      const model = new PpgGpt(backend, config, { next: true, hr: false });
      model.store.initialise(config, o.seed);
      const bar = progressBar('pretrain', 1);
      const curve = pretrain(model, x, T, { epochs: o.epochs, batchSize: o.batch, lr: o.lr, warmupSteps: 10, weightDecay: 0.01, clipNorm: 1, seed: o.seed }, {
        onStep: (d, t, loss) => { bar.setTotal(t); bar.update(d, { nll: loss }); },
      });
      bar.stop();
      for (const e of curve) console.log(`epoch ${e.epoch}: next-patch NLL ${e.loss.toFixed(4)} · ${e.seconds.toFixed(1)} s`);
      saveCheckpoint(o.out, model, { stage: 'pretrain', data: o.data });
      console.log(`written ${o.out}`);
    });
}
