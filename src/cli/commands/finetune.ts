import type { Command } from 'commander';
import { refuseOverwritingInputs } from '../overwrite';
import { sweepStaleTemps, writeFileAtomic } from '../../util/atomic-write';
import { loadWindowSet } from '../../data/cache/windowset-file';
import { splitWindowSet } from '../../data/split';
import type { WindowSet } from '../../data/types';
import { isFlatWindow } from '../../data/windows';
import { getBackend } from '../../engine/registry';
import { buildGroups, groupNames } from '../../fairness/groups';
import { makeStrategy, STRATEGY_NAMES } from '../../fairness/strategies';
import { loadEncoder, readCheckpointConfig, saveCheckpoint } from '../../model/checkpoint';
import { isModelSize, modelConfig, MODEL_SIZES } from '../../model/config';
import { applyFinetuneMode, parseFinetuneMode } from '../../model/finetune-mode';
import { checkMemory, planMemory } from '../../model/memory';
import { PpgGpt } from '../../model/ppg-gpt';
import { finetune } from '../../train/finetune';
import { prepareWindows } from '../../train/prepared';
import { floatOption, intOption } from '../options';
import { progressBar } from '../../util/progress';

interface FinetuneOpts {
  data: string; val?: string; from?: string; scratch?: boolean; size: string; strategy: string; groupBy: string;
  eta: number; reweightEta: number; advLambda: number; advWidth: number; epochs: number; batch: number; microBatch?: number; lr: number; mode: string;
  seed: number; dropout: number; loraRank: number; loraAlpha: number; patience: number; out: string; checkpointEvery: number; resume?: boolean; backend?: string;
  force?: boolean;
}

/** Flat windows (no pulse) carry labels a model can only guess: a set holding them was made without the check. */
function refuseFlatWindows(ws: WindowSet, what: string): void {
  let flat = 0, first = -1;
  for (let i = 0; i < ws.hr.length; i++) {
    if (isFlatWindow(ws.windows.subarray(i * ws.length, (i + 1) * ws.length))) {
      flat++;
      if (first < 0) first = i;
    }
  }
  if (flat > 0) throw new Error(`${what} has ${flat} flat window(s) (no signal; the first is window ${first}): re-import it (imports now drop them) or remove them`);
}

export function registerFinetuneCommand(program: Command): void {
  program
    .command('finetune')
    .description('fine-tune PPG-GPT for HR on a window set, from a foundation checkpoint or from scratch')
    .requiredOption('--data <file>', 'training window set (fairtune data synth|import --out)')
    .option('--val <file>', 'validation window set (default: 20% of the training subjects)')
    .option('--from <checkpoint>', 'foundation checkpoint whose encoder is loaded')
    .option('--scratch', 'start from a random initialisation instead')
    .option('--size <size>', `model size when starting from scratch (${Object.keys(MODEL_SIZES).join(', ')})`, 'tiny')
    .option('--strategy <name>', `bias mitigation (${STRATEGY_NAMES.join(', ')})`, 'erm')
    .option('--group-by <attrs>', 'group attribute(s), comma-separated for intersections', 'gender')
    .option('--eta <x>', 'GroupDRO step size', floatOption('--eta', 0), 0.01)
    .option('--reweight-eta <x>', "η of groupdro-paper's group weights 1 + η·L̂_g", floatOption('--reweight-eta', 0), 1)
    .option('--adv-lambda <x>', 'ADV gradient-reversal strength', floatOption('--adv-lambda', 0), 0.1)
    .option('--adv-width <n>', 'ADV adversary width', intOption('--adv-width', 1), 64)
    .option('--epochs <n>', 'epochs', intOption('--epochs', 1), 10)
    .option('--batch <n>', 'batch size', intOption('--batch', 1), 32)
    .option('--micro-batch <n>', 'windows per forward/backward pass (gradient accumulation; divides --batch)', intOption('--micro-batch', 1))
    .option('--lr <x>', 'peak learning rate', floatOption('--lr', 0), 1e-3)
    .option('--mode <mode>', 'full, head, lora (adapters on w_q and w_v), or lastK (the last K blocks and the head)', 'full')
    .option('--lora-rank <n>', 'LoRA rank (with --mode lora)', intOption('--lora-rank', 1), 8)
    .option('--lora-alpha <x>', 'LoRA alpha (with --mode lora)', floatOption('--lora-alpha', 0), 16)
    .option('--dropout <p>', 'dropout probability', floatOption('--dropout', 0, 0.99), 0.1)
    .option('--patience <n>', 'early stopping patience in epochs (0: off)', intOption('--patience', 0), 0)
    .option('--seed <n>', 'seed', intOption('--seed', 0), 0)
    .requiredOption('--out <file>', 'fine-tuned checkpoint (.safetensors); the training state goes beside it')
    .option('--checkpoint-every <n>', 'save the resumable state every n steps', intOption('--checkpoint-every', 1), 50)
    .option('--resume', 'continue an interrupted run from <out>.state.safetensors')
    .option('--backend <name>', 'compute backend (default: fastest available)')
    .option('--force', 'write --out even when it (or its state file) is one of the inputs (which is then lost)')
    .action((o: FinetuneOpts) => {
      if (!o.from === !o.scratch) throw new Error('give exactly one of --from CHECKPOINT and --scratch');
      refuseOverwritingInputs({ '--out': o.out, '--out state file': `${o.out}.state.safetensors` }, { '--data': o.data, '--val': o.val, '--from': o.from }, o.force);
      // Half-written files of an earlier run that was killed mid-write (Ctrl-C during a checkpoint).
      for (const f of [o.out, `${o.out}.state.safetensors`, `${o.out}.metrics.json`]) sweepStaleTemps(f);
      if (!isModelSize(o.size)) throw new Error(`--size: unknown size '${o.size}'`);
      const backend = getBackend(o.backend, (why) => console.error(`note: ${why}`));
      const all = loadWindowSet(o.data);
      refuseFlatWindows(all, `--data ${o.data}`);
      let train: WindowSet, val: WindowSet;
      const attributes = o.groupBy.split(',').map((s) => s.trim()).filter(Boolean);
      if (o.val) {
        train = all;
        val = loadWindowSet(o.val);
        refuseFlatWindows(val, `--val ${o.val}`);
      } else {
        // Validation needs subjects of its own: say so rather than fail later on an empty split.
        if (all.subjects.length < 2) {
          throw new Error(`--data ${o.data} has ${all.subjects.length} subject(s); holding out a validation split by subject needs at least 2 (or give --val FILE)`);
        }
        const s = splitWindowSet(all, { train: 0.8, val: 0.2, test: 0 }, o.seed, attributes[0]);
        train = s.train;
        val = s.val;
      }
      for (const [flag, w] of [['training', train], ['validation', val]] as const) {
        if (w.hr.length === 0) throw new Error(`the ${flag} split of ${o.data} has no windows (${all.subjects.length} subjects split 80/20 by subject)`);
      }
      const names = groupNames([...train.subjects, ...val.subjects], { attributes });
      const tg = buildGroups(train.subjectIndex, train.subjects, { attributes, names });
      const vg = buildGroups(val.subjectIndex, val.subjects, { attributes, names });
      const T = train.length / 40;
      const base = o.from ? readCheckpointConfig(o.from).config : modelConfig(o.size);
      const lora = o.mode === 'lora' ? { loraRank: o.loraRank, loraAlpha: o.loraAlpha } : {};
      const config = modelConfig({ ...base, hrPatches: T, dropout: o.dropout, ...lora });
      console.log(checkMemory('fine-tuning', planMemory(config, { B: Math.min(o.microBatch ?? o.batch, train.hr.length), T, training: true, head: 'hr' })));
      const model = new PpgGpt(backend, config, { next: false, hr: true });
      model.store.initialise(config, o.seed + 1000);
      if (o.from) loadEncoder(model, o.from);
      applyFinetuneMode(model.store, config.layers, parseFinetuneMode(o.mode));
      const strategy = makeStrategy(o.strategy, { groupdroEta: o.eta, reweightEta: o.reweightEta, advLambda: o.advLambda, advWidth: o.advWidth });
      const bar = progressBar('finetune', 1);
      const res = finetune(model, prepareWindows(train, tg.groupOf), prepareWindows(val, vg.groupOf), strategy, names.length, {
        epochs: o.epochs, batchSize: o.batch, lr: o.lr, warmupSteps: 10, weightDecay: 0.01, clipNorm: 1, seed: o.seed, patience: o.patience,
        microBatch: o.microBatch,
      }, {
        onStep: (d, t, info) => { bar.setTotal(t); bar.update(d, { loss: info.loss }); },
        onEpoch: (r) => {
          bar.stop();
          console.log(`epoch ${r.epoch}: train loss ${r.trainLoss.toFixed(4)} · val MAE ${r.valMae?.toFixed(2)} bpm · ${r.seconds.toFixed(1)} s`);
        },
      }, { path: `${o.out}.state.safetensors`, every: o.checkpointEvery, resume: !!o.resume });
      bar.stop();
      saveCheckpoint(o.out, model, { stage: 'finetune', strategy: o.strategy, groups: JSON.stringify(names) });
      const metrics = `${o.out}.metrics.json`;
      writeFileAtomic(metrics, JSON.stringify({ ...res, groups: names }, null, 1));
      console.log(`best val MAE ${res.bestValMae?.toFixed(2)} bpm (epoch ${res.bestEpoch}) · ${res.windowsPerSecond.toFixed(0)} windows/s · written ${o.out}`);
    });
}
