// All activation and activation-gradient buffers of one forward/backward at a given (B, T), allocated once
// up front (llm.c style): a training step then allocates nothing. Buffers that only serve training
// (gradients) are allocated only when the plan is for training. Dropout needs none of its own: linear and add
// apply it in place or in the same pass, and the backward regenerates or gates by what the forward kept.
import type { Backend } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import { keepsAttentionReserve } from './attention-reserve';
import type { ModelConfig } from './config';

export interface BlockActs {
  /** Residual stream entering the block [B,S,D]. */
  hIn: Tensor;
  a1: Tensor; rstd1: Tensor;
  /** q, k and v [B,S,D] are the three blocks of qkv [3, B·S, D], which linearFanout writes in one call. */
  qkv: Tensor; q: Tensor; k: Tensor; v: Tensor;
  att: Tensor; lse: Tensor;
  /** The attention's reserve [B,H,S,S] (keepsAttentionReserve), passed to its forward and backward; else null. */
  attReserve: Tensor | null;
  /** hIn + the attention branch: the projection writes it directly (linear's residual), as linear2 writes hOut. */
  hMid: Tensor;
  a2: Tensor; rstd2: Tensor;
  /** linear1's output [B,S,F]: relu(…), and with dropout on, drop(relu(…)) (linear applies both). */
  f1: Tensor;
  /** LoRA: a1·Aᵀ for w_q and w_v [B,S,r] (null without adapters). */
  loraQ: Tensor | null; loraV: Tensor | null;
}

export interface HrHeadActs {
  ln: Tensor; lnMean: Tensor; lnRstd: Tensor;
  /** The penultimate embedding z = gelu(layernorm(h.flatten)) [B, S·D]. */
  z: Tensor;
  /** (μ, log b) per window [B, 2]. */
  out: Tensor;
}

export interface Grads {
  /**
   * ∂loss/∂ the residual stream, one buffer for the whole backward: each block's norms add their gradients into
   * it in place (∂/∂hOut becomes ∂/∂hMid, then ∂/∂hIn), so the stream is never copied between buffers.
   */
  dRes: Tensor;
  /** dq, dk and dv are the blocks of dqkv [3, B·S, D], as q, k and v of qkv. */
  da: Tensor; dqkv: Tensor; dq: Tensor; dk: Tensor; dv: Tensor; datt: Tensor; dproj: Tensor;
  df1: Tensor; df2: Tensor;
  de: Tensor;
  /** LoRA scratch: ∂/∂(a1·Aᵀ) [B,S,r] and the scaled ∂q or ∂v [B,S,D]. */
  dLoraT: Tensor | null; dLoraU: Tensor | null;
  dz: Tensor | null; dln: Tensor | null; dout: Tensor | null;
  dnext: Tensor | null;
}

export interface Activations {
  B: number; T: number; S: number;
  training: boolean;
  /** The windows x [B, T·P] followed by `labels` floats of the batch's labels (PlanOptions.labels), one buffer. */
  input: Tensor;
  x: Tensor;
  e: Tensor;
  blocks: BlockActs[];
  /** Final hidden states [B,S,D] (the last block's output). */
  hOut: Tensor;
  /** LoRA scratch: B·(a1·Aᵀ) before it is added into q or v [B,S,D]. */
  loraU: Tensor | null;
  hr: HrHeadActs | null;
  /** Pretraining head output [B,S,2P]. */
  next: Tensor | null;
  grads: Grads | null;
  /** Every tensor of the plan, for dispose and memory accounting. */
  all: Tensor[];
}

export interface PlanOptions {
  B: number;
  T: number;
  training: boolean;
  head: 'hr' | 'next' | 'none';
  /**
   * Floats to reserve after the windows in the same buffer (the HR step's [hr | w | group]): a batch then goes
   * to the device in one copy.
   */
  labels?: number;
}

export function planActivations(backend: Backend, c: ModelConfig, o: PlanOptions): Activations {
  const { B, T, training } = o;
  if (!Number.isInteger(B) || B < 1) throw new Error(`plan: batch size must be a positive integer, got ${B}`);
  if (!Number.isInteger(T) || T < 1 || T > c.maxPatches) throw new Error(`plan: patches T must be in [1, ${c.maxPatches}], got ${T}`);
  if (o.head === 'hr' && T !== c.hrPatches) {
    throw new Error(`plan: the HR head is built for T = ${c.hrPatches} patches (${c.hrPatches * c.patch} samples), got T = ${T}`);
  }
  const S = T + 1, D = c.dim, F = c.ffnMult * D, H = c.heads, P = c.patch;
  const all: Tensor[] = [];
  const t = (shape: number[]) => {
    const x = backend.tensor(shape);
    all.push(x);
    return x;
  };
  const reserve = keepsAttentionReserve(S, training);
  const r = c.loraRank;
  const labels = o.labels ?? 0;
  if (!Number.isInteger(labels) || labels < 0) throw new Error(`plan: labels must be a non-negative integer, got ${labels}`);
  const input = t([B * T * P + labels]);
  const x = backend.view(backend.slice0(input, 0, B * T * P), [B, T * P]);
  const e = t([B, T, D]);
  const blocks: BlockActs[] = [];
  // Three [B,S,D] blocks of one [3, B·S, D] buffer (q, k, v; dq, dk, dv).
  const three = () => {
    const all3 = t([3, B * S, D]);
    const [a, b, c3] = [0, 1, 2].map((g) => backend.view(backend.slice0(all3, g, 1), [B, S, D]));
    return { all3, a, b, c: c3 };
  };
  let hIn = t([B, S, D]);
  for (let i = 0; i < c.layers; i++) {
    const qkv = three();
    const blk: BlockActs = {
      hIn,
      a1: t([B, S, D]), rstd1: t([B * S]),
      qkv: qkv.all3, q: qkv.a, k: qkv.b, v: qkv.c,
      att: t([B, S, D]), lse: t([B, H, S]), attReserve: reserve ? t([B, H, S, S]) : null,
      hMid: t([B, S, D]),
      a2: t([B, S, D]), rstd2: t([B * S]),
      f1: t([B, S, F]),
      loraQ: r > 0 ? t([B, S, r]) : null, loraV: r > 0 ? t([B, S, r]) : null,
    };
    blocks.push(blk);
    hIn = t([B, S, D]);
  }
  const hOut = hIn;
  const loraU = r > 0 ? t([B, S, D]) : null;
  const hr: HrHeadActs | null = o.head === 'hr'
    ? { ln: t([B, S * D]), lnMean: t([B]), lnRstd: t([B]), z: t([B, S * D]), out: t([B, 2]) }
    : null;
  const next = o.head === 'next' ? t([B, S, 2 * P]) : null;
  const dqkv = training ? three() : null;
  const grads: Grads | null = training && dqkv
    ? {
        dRes: t([B, S, D]),
        da: t([B, S, D]), dqkv: dqkv.all3, dq: dqkv.a, dk: dqkv.b, dv: dqkv.c, datt: t([B, S, D]), dproj: t([B, S, D]),
        df1: t([B, S, F]), df2: t([B, S, D]),
        de: t([B, T, D]),
        dLoraT: r > 0 ? t([B, S, r]) : null, dLoraU: r > 0 ? t([B, S, D]) : null,
        dz: hr ? t([B, S * D]) : null, dln: hr ? t([B, S * D]) : null, dout: hr ? t([B, 2]) : null,
        dnext: next ? t([B, S, 2 * P]) : null,
      }
    : null;
  return { B, T, S, training, input, x, e, blocks, hOut, loraU, hr, next, grads, all };
}

export function disposeActivations(backend: Backend, a: Activations): void {
  for (const t of a.all) backend.dispose(t);
}
