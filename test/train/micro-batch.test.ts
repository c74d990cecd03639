// Gradient accumulation: the gradients of a step over micro-batches equal those of one pass over the whole
// batch, and the loop's losses match.
import { getBackend } from '../../src/engine/registry';
import { ErmStrategy } from '../../src/fairness/strategies/erm';
import { modelConfig } from '../../src/model/config';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { AdamW } from '../../src/train/adamw';
import { finetune } from '../../src/train/finetune';
import { HrStep } from '../../src/train/hr-step';
import type { PreparedSet } from '../../src/train/prepared';
import { Rng } from '../../src/util/random';

describe('micro-batches', () => {
  const be = getBackend('cpu');
  const config = modelConfig('tiny', { hrPatches: 3, dropout: 0 });
  const rng = new Rng(4);
  const n = 24, L = 120;
  const set: PreparedSet = {
    n, length: L, x: rng.fillUniform(new Float32Array(n * L)), hr: rng.fillUniform(new Float32Array(n), 50, 150),
    groupOf: new Int32Array(n), subjectIndex: new Int32Array(n),
  };
  const model = () => {
    const m = new PpgGpt(be, config, { next: false, hr: true });
    m.store.initialise(config, 2);
    return m;
  };

  it('accumulate the gradients of the whole batch', () => {
    const B = 8, MB = 4;
    const whole = model(), parts = model();
    const batch = (from: number, count: number) => ({ x: set.x.slice(from * L, (from + count) * L), hr: set.hr.slice(from, from + count) });
    // lr 0: the update leaves the parameters alone, so only the accumulated gradients differ, if anything.
    const s1 = new HrStep(whole, B, 1);
    s1.run(batch(0, B), new AdamW(be, whole.store), { lr: 0, seed: 0 });
    const s2 = new HrStep(parts, MB, 1), opt2 = new AdamW(be, parts.store);
    for (let k = 0; k < B / MB; k++) s2.run(batch(k * MB, MB), opt2, { lr: 0, seed: 0, micro: { index: k, count: B / MB } });
    const g1 = whole.store.downloadGrads(), g2 = parts.store.downloadGrads();
    let scale = 0;
    for (const g of g1.values()) for (const v of g) scale = Math.max(scale, Math.abs(v));
    for (const [name, g] of g1) {
      const h = g2.get(name)!;
      let err = 0;
      for (let i = 0; i < g.length; i++) err = Math.max(err, Math.abs(g[i] - h[i]));
      expect([name, err <= 1e-5 * scale]).toEqual([name, true]);
    }
  });

  it('give the same epoch losses in the fine-tuning loop', () => {
    const run = (microBatch?: number) => finetune(model(), set, null, new ErmStrategy(), 1, {
      epochs: 2, batchSize: 8, lr: 1e-3, warmupSteps: 0, weightDecay: 0.01, clipNorm: 0, seed: 0, patience: 0, microBatch,
    }).history.map((h) => h.trainLoss);
    const a = run(), b = run(2);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 3);
  });

  it('must divide the batch', () => {
    expect(() => finetune(model(), set, null, new ErmStrategy(), 1, {
      epochs: 1, batchSize: 8, lr: 1e-3, warmupSteps: 0, weightDecay: 0, clipNorm: 0, seed: 0, patience: 0, microBatch: 3,
    })).toThrow(/not a multiple of the micro-batch 3/);
  });
});
