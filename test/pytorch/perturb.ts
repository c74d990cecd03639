// GPT-2 initialisation leaves biases 0, norm scales 1 and attention nearly uniform, which would hide a bias or
// scale that is never applied, or an attention/RoPE error that only shows when scores are far from equal.
// Moving every parameter away from its initial value makes each one matter.
import type { PpgGpt } from '../../src/model/ppg-gpt';
import { Rng } from '../../src/util/random';

export function perturbParameters(model: PpgGpt, seed: number): void {
  const rng = new Rng(seed);
  for (const p of model.store.list()) {
    const n = p.spec.name;
    const data = model.backend.download(p.value);
    // Large query/key weights make the attention sharp (scores of a few units), so RoPE's angles matter.
    const std = n.startsWith('head_hr.linear') ? 0.03 : /attn\.w_[qk]\.weight/.test(n) ? 0.2 : p.spec.shape.length === 1 ? 0.2 : 0.05;
    for (let i = 0; i < data.length; i++) data[i] += std * rng.normal();
    model.backend.upload(p.value, data);
  }
}
