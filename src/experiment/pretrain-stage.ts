// The foundation model of an experiment: a given checkpoint, or one pretrained here (next-patch NLL on the
// unlabelled training windows of the chosen domains) and saved as runs/<name>/pretrained-<size>.safetensors,
// reused when it already exists.
import * as fs from 'fs';
import * as path from 'path';
import type { Backend } from '../engine/backend';
import { saveCheckpoint } from '../model/checkpoint';
import { modelConfig, ModelSize } from '../model/config';
import { minMaxScaleWindows } from '../model/input';
import { PpgGpt } from '../model/ppg-gpt';
import { pretrain } from '../train/pretrain';
import type { ExperimentConfig } from './config';
import type { DomainData } from './data-stage';
import { writeFileAtomic } from '../util/atomic-write';

export interface PretrainOutcome {
  checkpoint: string | null;
  curve?: { epoch: number; loss: number }[];
}

export function ensurePretrained(
  c: ExperimentConfig, size: ModelSize, domains: Map<string, DomainData>, dir: string, backend: Backend,
  hooks: { onStep?(done: number, total: number, loss: number): void; log?(s: string): void } = {},
): PretrainOutcome {
  if (c.pretrain === false) return { checkpoint: null };
  if ('checkpoint' in c.pretrain) {
    if (!fs.existsSync(c.pretrain.checkpoint)) throw new Error(`pretrain.checkpoint: no file at ${c.pretrain.checkpoint}`);
    return { checkpoint: c.pretrain.checkpoint };
  }
  const file = path.join(dir, `pretrained-${size}.safetensors`);
  const curveFile = `${file}.json`;
  if (fs.existsSync(file)) {
    const curve = fs.existsSync(curveFile) ? (JSON.parse(fs.readFileSync(curveFile, 'utf8')) as { epoch: number; loss: number }[]) : undefined;
    return { checkpoint: file, curve };
  }
  const p = c.pretrain;
  const names = p.domains ?? [...domains.keys()];
  const parts = names.map((n) => domains.get(n)!.train);
  const L = parts[0].length;
  const x = new Float32Array(parts.reduce((a, s) => a + s.windows.length, 0));
  let off = 0;
  for (const s of parts) {
    x.set(minMaxScaleWindows(s.windows, L), off);
    off += s.windows.length;
  }
  const config = modelConfig(size, { hrPatches: c.windowSeconds, dropout: c.finetune.dropout });
  const model = new PpgGpt(backend, config, { next: true, hr: false });
  model.store.initialise(config, p.seed);
  const t0 = Date.now();
  const curve = pretrain(model, x, L / config.patch, { epochs: p.epochs, batchSize: p.batchSize, lr: p.lr, warmupSteps: 10, weightDecay: 0.01, clipNorm: 1, seed: p.seed }, hooks);
  saveCheckpoint(file, model, { stage: 'pretrain', domains: names.join(',') });
  writeFileAtomic(curveFile, JSON.stringify(curve.map(({ epoch, loss }) => ({ epoch, loss }))));
  hooks.log?.(`pretrained ${size} on ${x.length / L} windows of ${names.join(', ')}: NLL ${curve[0].loss.toFixed(3)} → ${curve[curve.length - 1].loss.toFixed(3)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { checkpoint: file, curve: curve.map(({ epoch, loss }) => ({ epoch, loss })) };
}
