// Model checkpoints: one safetensors file with every parameter under its DESIGN.md name and PyTorch layout
// (so `safetensors.torch.load_file` + `load_state_dict` works on a plain PyTorch PPG-GPT), the model config
// as JSON in __metadata__. Written atomically by the safetensors writer.
import { z } from 'zod';
import type { Backend } from '../engine/backend';
import { readSafetensors, readSafetensorsHeader, writeSafetensors, TensorEntry } from '../util/safetensors';
import { ModelConfig, modelConfig } from './config';
import { PpgGpt } from './ppg-gpt';

export const CHECKPOINT_FORMAT = 'fairtune.model/1';

/** What a checkpoint's metadata holds besides the config, checked like a config (a garbled field is named). */
const HeadsSchema = z.object({ next: z.boolean(), hr: z.boolean() }).strict();
const MetadataSchema = z.object({
  stage: z.enum(['pretrain', 'finetune']).optional(),
  strategy: z.string().regex(/^[a-z-]+$/, 'a strategy name').optional(),
  groups: z.string().refine((v) => {
    try {
      const g = JSON.parse(v) as unknown;
      return Array.isArray(g) && g.length > 0 && g.every((x) => typeof x === 'string');
    } catch {
      return false;
    }
  }, 'a JSON array of group names').optional(),
}).passthrough();

export function saveCheckpoint(path: string, model: PpgGpt, extra: Record<string, string> = {}): void {
  const tensors: Record<string, TensorEntry> = {};
  for (const p of model.store.list()) tensors[p.spec.name] = { dtype: 'F32', shape: [...p.spec.shape], data: model.backend.download(p.value) };
  writeSafetensors(path, tensors, { ...extra, format: CHECKPOINT_FORMAT, config: JSON.stringify(model.config), heads: JSON.stringify(model.heads) });
}

export function readCheckpointConfig(path: string): { config: ModelConfig; heads: { next: boolean; hr: boolean }; metadata: Record<string, string> } {
  const h = readSafetensorsHeader(path);
  if (h.metadata.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${path} is not a fairtune model checkpoint (format ${JSON.stringify(h.metadata.format)}, expected ${CHECKPOINT_FORMAT})`);
  }
  const meta = MetadataSchema.safeParse(h.metadata);
  if (!meta.success) throw new Error(`${path}: checkpoint metadata ${meta.error.issues.map((i) => `"${i.path.join('.')}" ${i.message}`).join('; ')}`);
  let raw: unknown, headsRaw: unknown;
  try {
    raw = JSON.parse(h.metadata.config);
    headsRaw = JSON.parse(h.metadata.heads ?? '{"next":true,"hr":true}');
  } catch (e) {
    throw new Error(`${path}: the config in the metadata is not valid JSON (${(e as Error).message})`);
  }
  const parsedHeads = HeadsSchema.safeParse(headsRaw);
  if (!parsedHeads.success) throw new Error(`${path}: checkpoint metadata "heads" must be {"next": boolean, "hr": boolean}, got ${h.metadata.heads}`);
  const heads = parsedHeads.data;
  return { config: modelConfig(raw as Partial<ModelConfig>), heads, metadata: h.metadata };
}

function entries(path: string): Map<string, { shape: number[]; data: Float32Array }> {
  const f = readSafetensors(path);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of Object.entries(f.tensors)) {
    if (t.dtype !== 'F32' || !(t.data instanceof Float32Array)) throw new Error(`${path}: parameter '${name}' is ${t.dtype}, expected F32`);
    // A NaN or infinite weight (a damaged file, a run that diverged) would make every prediction NaN, silently.
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${path}: parameter '${name}' holds ${t.data[bad]} at index ${bad}: the checkpoint is damaged or its training diverged`);
    out.set(name, { shape: t.shape, data: t.data });
  }
  return out;
}

/** A model exactly as saved (config, heads and every parameter). */
export function loadCheckpoint(backend: Backend, path: string): PpgGpt {
  const { config, heads } = readCheckpointConfig(path);
  const model = new PpgGpt(backend, config, heads);
  model.store.uploadValues(entries(path));
  return model;
}

/**
 * Loads a foundation checkpoint's encoder (patch embedding, start token, every block) into `model`, which
 * may have other heads or an HR head for another window length. Width, depth and heads must match.
 * Returns the names of the parameters that kept their initial values (the heads the checkpoint lacks).
 */
export function loadEncoder(model: PpgGpt, path: string): string[] {
  const { config } = readCheckpointConfig(path);
  const c = model.config;
  for (const k of ['dim', 'layers', 'heads', 'patch', 'ffnMult'] as const) {
    if (config[k] !== c[k]) throw new Error(`${path}: checkpoint ${k} = ${config[k]} but the model has ${c[k]}`);
  }
  const values = entries(path);
  const fresh: string[] = [];
  // Heads and LoRA adapters are task-specific: a foundation checkpoint need not have them.
  const isHead = (n: string) => n.startsWith('head_') || n.includes('.lora_');
  for (const p of model.store.list()) {
    const v = values.get(p.spec.name);
    const fits = v && v.shape.length === p.spec.shape.length && v.shape.every((d, i) => d === p.spec.shape[i]);
    if (!fits && !isHead(p.spec.name)) throw new Error(`${path}: encoder parameter '${p.spec.name}' is missing or has another shape`);
    if (!fits) fresh.push(p.spec.name);
  }
  const usable = new Map([...values].filter(([n]) => !fresh.includes(n)));
  model.store.uploadValues(usable, { allowMissing: (n) => fresh.includes(n) });
  return fresh;
}
