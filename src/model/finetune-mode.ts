// Which parameters train during fine-tuning: everything, the HR head only, or the last k blocks plus the
// head (the earlier blocks and the embedding stay frozen, and the backward stops below the last trainable block),
// or LoRA adapters on w_q and w_v plus the head (the base weights stay frozen).
import type { ParamStore } from './param-store';

export type FinetuneMode = { kind: 'full' } | { kind: 'head' } | { kind: 'last'; blocks: number } | { kind: 'lora' };

export function parseFinetuneMode(s: string): FinetuneMode {
  if (s === 'full') return { kind: 'full' };
  if (s === 'head') return { kind: 'head' };
  if (s === 'lora') return { kind: 'lora' };
  const m = /^last(\d+)$/.exec(s);
  if (m) return { kind: 'last', blocks: Number(m[1]) };
  throw new Error(`unknown fine-tuning mode '${s}' (full, head, lora, or lastK such as last2)`);
}

export function applyFinetuneMode(store: ParamStore, layers: number, mode: FinetuneMode): void {
  if (mode.kind === 'lora' && !store.list().some((p) => p.spec.part === 'lora')) {
    throw new Error('fine-tuning mode lora: the model has no LoRA adapters (set loraRank > 0)');
  }
  if (mode.kind === 'last' && (mode.blocks < 0 || mode.blocks > layers)) {
    throw new Error(`fine-tuning mode last${mode.blocks}: the model has ${layers} blocks`);
  }
  for (const p of store.list()) {
    const s = p.spec;
    switch (mode.kind) {
      case 'full': p.trainable = true; break;
      case 'lora': p.trainable = s.part === 'head_hr' || s.part === 'lora'; break;
      case 'head': p.trainable = s.part === 'head_hr'; break;
      case 'last': p.trainable = s.part === 'head_hr' || (s.part === 'block' && (s.layer ?? -1) >= layers - mode.blocks); break;
    }
  }
}
