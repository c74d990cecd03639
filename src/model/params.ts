// The parameter inventory of PPG-GPT: names and PyTorch layouts exactly as DESIGN.md section 3 lists them
// (Linear weight [out, in]), so checkpoints and traces map one-to-one onto the public PPG-GPT code.
import type { ModelConfig } from './config';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** How GPT-2-style initialisation fills it. */
  init: 'normal' | 'residual' | 'zeros' | 'ones' | 'lora';
  /** Which part of the network it belongs to (freezing and fine-tuning modes select by this). */
  part: 'embed' | 'block' | 'head_next' | 'head_hr' | 'adv' | 'lora';
  /** Block index for part 'block'. */
  layer?: number;
}

export function blockParamNames(i: number) {
  const p = `gpt_layers.${i}`;
  return {
    norm1: `${p}.norm1.scale`,
    wq: `${p}.attn.w_q.weight`, bq: `${p}.attn.w_q.bias`,
    wk: `${p}.attn.w_k.weight`, bk: `${p}.attn.w_k.bias`,
    wv: `${p}.attn.w_v.weight`, bv: `${p}.attn.w_v.bias`,
    wc: `${p}.attn.w_concat.weight`, bc: `${p}.attn.w_concat.bias`,
    norm2: `${p}.norm2.scale`,
    // LoRA adapters (peft naming): the update of w_q / w_v is (alpha/rank)·B·A, A [r, D], B [D, r].
    qA: `${p}.attn.w_q.lora_A.weight`, qB: `${p}.attn.w_q.lora_B.weight`,
    vA: `${p}.attn.w_v.lora_A.weight`, vB: `${p}.attn.w_v.lora_B.weight`,
    w1: `${p}.ffn.linear1.weight`, b1: `${p}.ffn.linear1.bias`,
    w2: `${p}.ffn.linear2.weight`, b2: `${p}.ffn.linear2.bias`,
  };
}

export function paramSpecs(c: ModelConfig, heads: { next: boolean; hr: boolean } = { next: true, hr: true }): ParamSpec[] {
  const D = c.dim, P = c.patch, F = c.ffnMult * D, SD = (c.hrPatches + 1) * D;
  const specs: ParamSpec[] = [
    { name: 'patch_embed.weight', shape: [D, P], init: 'normal', part: 'embed' },
    { name: 'patch_embed.bias', shape: [D], init: 'zeros', part: 'embed' },
    { name: 'start_token', shape: [D], init: 'normal', part: 'embed' },
  ];
  for (let i = 0; i < c.layers; i++) {
    const n = blockParamNames(i);
    const b = (name: string, shape: number[], init: ParamSpec['init']) => specs.push({ name, shape, init, part: 'block', layer: i });
    b(n.norm1, [D], 'ones');
    b(n.wq, [D, D], 'normal'); b(n.bq, [D], 'zeros');
    b(n.wk, [D, D], 'normal'); b(n.bk, [D], 'zeros');
    b(n.wv, [D, D], 'normal'); b(n.bv, [D], 'zeros');
    b(n.wc, [D, D], 'residual'); b(n.bc, [D], 'zeros');
    b(n.norm2, [D], 'ones');
    b(n.w1, [F, D], 'normal'); b(n.b1, [F], 'zeros');
    b(n.w2, [D, F], 'residual'); b(n.b2, [D], 'zeros');
    if (c.loraRank > 0) {
      const r = c.loraRank;
      const l = (name: string, shape: number[], init: ParamSpec['init']) => specs.push({ name, shape, init, part: 'lora', layer: i });
      l(n.qA, [r, D], 'lora'); l(n.qB, [D, r], 'zeros');
      l(n.vA, [r, D], 'lora'); l(n.vB, [D, r], 'zeros');
    }
  }
  if (heads.next) {
    specs.push({ name: 'head_next.weight', shape: [2 * P, D], init: 'normal', part: 'head_next' });
    specs.push({ name: 'head_next.bias', shape: [2 * P], init: 'zeros', part: 'head_next' });
  }
  if (heads.hr) {
    specs.push({ name: 'head_hr.norm.weight', shape: [SD], init: 'ones', part: 'head_hr' });
    specs.push({ name: 'head_hr.norm.bias', shape: [SD], init: 'zeros', part: 'head_hr' });
    specs.push({ name: 'head_hr.linear.weight', shape: [2, SD], init: 'normal', part: 'head_hr' });
    specs.push({ name: 'head_hr.linear.bias', shape: [2], init: 'zeros', part: 'head_hr' });
  }
  return specs;
}

export function countParams(specs: readonly ParamSpec[]): number {
  return specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
}
