// A whole HR fine-tuning step of the tiny PPG-GPT (hrPatches 3, dropout 0.1, so every op of the training
// path runs, attention dropout included) on webgpu against the same step on the reference: the loss, the
// group sums, every parameter's gradient, the gradient norm, and parameter values after one AdamW update.
import type { Backend } from '../../src/engine/backend';
import { modelConfig } from '../../src/model/config';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { AdamW } from '../../src/train/adamw';
import { HrStep } from '../../src/train/hr-step';
import { Rng } from '../../src/util/random';
import { mismatch, ref, useWebGpu } from './helpers';

const gpu = useWebGpu();

describe('a tiny-model training step on webgpu', () => {
  const config = modelConfig('tiny', { hrPatches: 3, dropout: 0.1 });
  const B = 4, L = 3 * config.patch;
  const rng = new Rng(12);
  const batch = {
    x: rng.fillUniform(new Float32Array(B * L)),
    hr: rng.fillUniform(new Float32Array(B), 50, 150),
    group: Float32Array.from([0, 1, 1, 0]),
  };

  function setup(be: Backend) {
    const model = new PpgGpt(be, config, { next: false, hr: true });
    model.store.initialise(config, 3);
    const step = new HrStep(model, B, 2);
    const optim = new AdamW(be, model.store);
    return { model, step, optim };
  }

  test('matches the reference: loss, gradients, one AdamW update', () => {
    const g = setup(gpu()), r = setup(ref);
    const dropout = { seed: 7, step: 0 };
    for (const s of [g, r]) {
      s.step.forward(batch, dropout);
      s.step.backward(dropout);
    }
    const lossG = gpu().download(g.step.bufs.loss)[0], lossR = ref.download(r.step.bufs.loss)[0];
    expect(Math.abs(lossG - lossR)).toBeLessThan(1e-4 * Math.abs(lossR));
    expect(mismatch(gpu().download(g.step.bufs.groupLossSum), ref.download(r.step.bufs.groupLossSum))).toBeNull();

    const gradsG = g.model.store.downloadGrads(), gradsR = r.model.store.downloadGrads();
    for (const [name, want] of gradsR) {
      // Gradients pass through 2 blocks of float32 GEMMs and attention: 1e-3 of the tensor's scale.
      expect([name, mismatch(gradsG.get(name)!, want, 1e-3)]).toEqual([name, null]);
    }
    const before = r.model.store.downloadValues();
    const normG = g.optim.update(1e-3), normR = r.optim.update(1e-3);
    expect(Math.abs(normG - normR)).toBeLessThan(1e-4 * normR);
    const afterG = g.model.store.downloadValues(), afterR = r.model.store.downloadValues();
    // Parameters whose gradient is clearly non-zero move by lr·sign(g) in Adam's first step on both backends.
    let checked = 0;
    for (const name of ['head_hr.linear.weight', 'gpt_layers.1.attn.w_q.weight', 'patch_embed.weight', 'start_token']) {
      const gr = gradsR.get(name)!, a = afterG.get(name)!, w = afterR.get(name)!, b0 = before.get(name)!;
      let gmax = 0;
      for (const v of gr) gmax = Math.max(gmax, Math.abs(v));
      for (let i = 0; i < gr.length; i++) {
        if (Math.abs(gr[i]) < 0.1 * gmax) continue;
        expect(Math.abs(w[i] - b0[i])).toBeGreaterThan(5e-4);
        expect(Math.abs(a[i] - w[i])).toBeLessThan(1e-6 + 1e-5 * Math.abs(w[i]));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
