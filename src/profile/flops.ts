// Analytic FLOP count of one HR fine-tuning step of PPG-GPT (DESIGN.md section 3), every parameter trainable.
// Counted: the matrix products (2 FLOPs per multiply-add) of every Linear, of the patch embedding and of the
// causal attention (QKᵀ and P·V over the S(S+1)/2 visible query–key pairs only, as the fused kernel computes
// them). Not counted: norms, softmax, RoPE, activations, the loss and AdamW, all O(tokens·D) or O(params),
// under 1% of the total at the sizes profiled. Backward: a Linear needs dX and dW (twice its forward),
// except the patch embedding whose input needs no gradient (once); attention needs dQ, dK, dV and dP
// (twice its forward; any recomputation an implementation does is its own cost, not the model's).
import type { ModelConfig } from '../model/config';

export interface StepFlops {
  forward: number;
  backward: number;
  total: number;
  /** Forward FLOPs by part, for the report. */
  parts: { patchEmbed: number; projections: number; mlp: number; attention: number; hrHead: number };
}

export function stepFlops(c: ModelConfig, B: number, T: number): StepFlops {
  if (!Number.isInteger(B) || B < 1) throw new Error(`stepFlops: batch size must be a positive integer, got ${B}`);
  if (!Number.isInteger(T) || T < 1) throw new Error(`stepFlops: patches T must be a positive integer, got ${T}`);
  const D = c.dim, F = c.ffnMult * D, P = c.patch, S = T + 1, N = B * S, L = c.layers;
  const patchEmbed = 2 * B * T * P * D;
  const projections = L * 4 * 2 * N * D * D; // w_q, w_k, w_v, w_concat
  const mlp = L * 2 * 2 * N * D * F; // linear1, linear2
  const attention = L * 2 * 2 * B * D * ((S * (S + 1)) / 2); // QKᵀ and P·V, all heads (H·d = D)
  const hrHead = 2 * B * (S * D) * 2; // head_hr.linear: S·D → 2
  const forward = patchEmbed + projections + mlp + attention + hrHead;
  const backward = patchEmbed + 2 * (projections + mlp + attention + hrHead);
  return { forward, backward, total: forward + backward, parts: { patchEmbed, projections, mlp, attention, hrHead } };
}
