// Inference over a whole set in fixed-size batches (one plan, no dropout): HR predictions and, when asked,
// the embeddings evaluation analyses — the HR head's penultimate z and the mean-pooled final hidden states.
import { disposeActivations, planActivations } from '../model/activations';
import type { PpgGpt } from '../model/ppg-gpt';
import type { PreparedSet } from './prepared';

export interface Predictions {
  pred: Float32Array;
  /** [n, S·D] penultimate embedding, when asked. */
  z?: Float32Array;
  /** [n, D] mean-pooled final hidden states, when asked. */
  pooled?: Float32Array;
}

export function predict(model: PpgGpt, set: PreparedSet, opts: { batchSize?: number; embeddings?: boolean } = {}): Predictions {
  const be = model.backend, c = model.config;
  const B = Math.max(1, Math.min(opts.batchSize ?? 64, set.n));
  const T = set.length / c.patch;
  if (!Number.isInteger(T)) throw new Error(`predict: windows of ${set.length} samples are not whole patches of ${c.patch}`);
  const acts = planActivations(be, c, { B, T, training: false, head: 'hr' });
  const S = T + 1, SD = S * c.dim;
  const pooledT = opts.embeddings ? be.tensor([B, c.dim]) : null;
  const pred = new Float32Array(set.n);
  const z = opts.embeddings ? new Float32Array(set.n * SD) : undefined;
  const pooled = opts.embeddings ? new Float32Array(set.n * c.dim) : undefined;
  const xb = new Float32Array(B * set.length);
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  try {
    for (let start = 0; start < set.n; start += B) {
      const count = Math.min(B, set.n - start);
      xb.fill(0.5);
      xb.set(set.x.subarray(start * set.length, (start + count) * set.length));
      be.upload(acts.x, xb);
      model.forwardHr(acts);
      const out = be.download(acts.hr!.out);
      for (let i = 0; i < count; i++) {
        pred[start + i] = 30 + (200 * (sigmoid(out[2 * i]) - c.eps)) / (1 - 2 * c.eps);
      }
      if (z && pooled && pooledT) {
        z.set(be.download(acts.hr!.z).subarray(0, count * SD), start * SD);
        be.meanPool(acts.hOut, pooledT);
        pooled.set(be.download(pooledT).subarray(0, count * c.dim), start * c.dim);
      }
    }
  } finally {
    disposeActivations(be, acts);
    if (pooledT) be.dispose(pooledT);
  }
  return { pred, z, pooled };
}
