import type { Command } from 'commander';
import { refuseOverwritingInputs } from '../overwrite';
import { writeSafetensors } from '../../util/safetensors';
import { loadWindowSet } from '../../data/cache/windowset-file';
import { getBackend } from '../../engine/registry';
import { loadCheckpoint } from '../../model/checkpoint';
import { predict } from '../../train/predict';
import { prepareWindows } from '../../train/prepared';

export function registerEmbedCommand(program: Command): void {
  program
    .command('embed')
    .description("write a fine-tuned model's predictions and embeddings (z, mean-pooled) of a window set as safetensors")
    .requiredOption('--model <checkpoint>', 'fine-tuned checkpoint (with an HR head)')
    .requiredOption('--data <file>', 'window set')
    .requiredOption('--out <file>', 'output .safetensors')
    .option('--backend <name>', 'compute backend (default: fastest available)')
    .option('--force', 'write --out even when it is one of the inputs (which is then lost)')
    .action((o: { model: string; data: string; out: string; backend?: string; force?: boolean }) => {
      refuseOverwritingInputs({ '--out': o.out }, { '--model': o.model, '--data': o.data }, o.force);
      const backend = getBackend(o.backend, (why) => console.error(`note: ${why}`));
      const model = loadCheckpoint(backend, o.model);
      if (!model.heads.hr) throw new Error(`${o.model} has no HR head (a foundation checkpoint): fine-tune it first`);
      const ws = loadWindowSet(o.data);
      const set = prepareWindows(ws, new Int32Array(ws.hr.length));
      const p = predict(model, set, { embeddings: true });
      const n = ws.hr.length, SD = p.z!.length / n;
      const bad = p.pred.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new Error(`the model predicts ${p.pred[bad]} for window ${bad} of ${o.data}: nothing written to ${o.out}`);
      writeSafetensors(o.out, {
        pred: { dtype: 'F32', shape: [n], data: p.pred },
        hr: { dtype: 'F32', shape: [n], data: ws.hr },
        z: { dtype: 'F32', shape: [n, SD], data: p.z! },
        pooled: { dtype: 'F32', shape: [n, model.config.dim], data: p.pooled! },
        subject_index: { dtype: 'I32', shape: [n], data: ws.subjectIndex },
      }, { model: o.model, data: o.data, subjects: JSON.stringify(ws.subjects) });
      console.log(`embeddings of ${n} windows written to ${o.out}`);
    });
}
