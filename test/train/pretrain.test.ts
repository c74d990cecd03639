// Pretraining learns the signal: next-patch NLL well below that of the best constant-per-window predictor;
// and a fine-tune from the pretrained encoder beats one from scratch in the same number of steps.
import { synthWindowSet } from '../../src/data/synth/synth-windows';
import { splitWindowSet } from '../../src/data/split';
import { getBackend } from '../../src/engine/registry';
import { ErmStrategy } from '../../src/fairness/strategies/erm';
import { modelConfig } from '../../src/model/config';
import { minMaxScaleWindows } from '../../src/model/input';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { finetune } from '../../src/train/finetune';
import { prepareWindows } from '../../src/train/prepared';
import { pretrain, PretrainStep } from '../../src/train/pretrain';

/** NLL of predicting every sample by its window's mean, with the best Laplace scale per window (in logit space). */
function windowMeanNll(x: Float32Array, L: number, eps: number): number {
  let total = 0;
  const n = x.length / L;
  for (let w = 0; w < n; w++) {
    const u = Array.from(x.subarray(w * L, (w + 1) * L), (v) => (1 - 2 * eps) * Math.min(1, Math.max(0, v)) + eps);
    const lg = u.map((v) => Math.log(v / (1 - v)));
    const mean = u.reduce((a, b) => a + b, 0) / L;
    const mu = Math.log(mean / (1 - mean));
    const b = lg.reduce((a, v) => a + Math.abs(v - mu), 0) / L;
    for (let i = 0; i < L; i++) total += Math.log(2 * b) + Math.log(u[i] * (1 - u[i])) + Math.abs(lg[i] - mu) / b;
  }
  return total / x.length;
}

describe('pretraining', () => {
  const be = getBackend('cpu');
  const ws = synthWindowSet('mimic-like', { seed: 5, subjects: 20, seconds: 600, windowSeconds: 10, recordings: 1 });
  const split = splitWindowSet(ws, { train: 0.6, val: 0.2, test: 0.2 }, 0, 'gender');
  const L = ws.length;
  const x = minMaxScaleWindows(split.train.windows, L);
  const config = modelConfig('tiny', { hrPatches: 10, dropout: 0 });
  const pre = new PpgGpt(be, config, { next: true, hr: false });
  pre.store.initialise(config, 1);
  const curve = pretrain(pre, x, 10, { epochs: 15, batchSize: 32, lr: 3e-3, warmupSteps: 10, weightDecay: 0.01, clipNorm: 1, seed: 1 });

  it('lowers the next-patch NLL well below predicting the window mean', () => {
    const xv = minMaxScaleWindows(split.val.windows, L);
    const evalStep = new PretrainStep(pre, split.val.hr.length, 10);
    const modelNll = evalStep.forward(xv);
    const baseline = windowMeanNll(xv, L, config.eps);
    expect(curve[curve.length - 1].loss).toBeLessThan(curve[0].loss);
    console.log(`pretrain NLL ${curve[0].loss} → ${curve[curve.length - 1].loss}; val ${modelNll} vs window-mean ${baseline}`);
    expect(modelNll).toBeLessThan(baseline - 0.3);
  }, 120000);

  it('a fine-tune from the pretrained encoder reaches a lower validation MAE than from scratch', () => {
    const g = (s: typeof split.train) => new Int32Array(s.hr.length);
    const train = prepareWindows(split.train, g(split.train)), val = prepareWindows(split.val, g(split.val));
    const cfg = { epochs: 3, batchSize: 16, lr: 2e-3, warmupSteps: 5, weightDecay: 0.01, clipNorm: 1, seed: 0, patience: 0 };
    const run = (fromPretrained: boolean) => {
      const m = new PpgGpt(be, config, { next: false, hr: true });
      m.store.initialise(config, 7);
      if (fromPretrained) {
        for (const p of pre.store.list()) if (!p.spec.name.startsWith('head_')) be.copy(p.value, m.store.value(p.spec.name));
      }
      return finetune(m, train, val, new ErmStrategy(), 1, cfg).bestValMae!;
    };
    const scratch = run(false), pretrained = run(true);
    expect(pretrained).toBeLessThan(scratch - 0.5);
  }, 120000);
});
