// Each strategy's effect on crafted batches: GroupDRO's q moves toward the worse group at the rate η sets,
// ADV's reversed gradient opposes the adversary's own, IF draws groups evenly (sampler tests cover the rest).
import { getBackend } from '../../src/engine/registry';
import { AdversarialStrategy } from '../../src/fairness/strategies/adv';
import { GroupDroStrategy } from '../../src/fairness/strategies/groupdro';
import { makeStrategy, STRATEGY_NAMES } from '../../src/fairness/strategies';
import { modelConfig } from '../../src/model/config';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { HrStep } from '../../src/train/hr-step';
import { Rng } from '../../src/util/random';

const be = getBackend('cpu');

function tinyModel(seed = 0) {
  const config = modelConfig('tiny', { hrPatches: 3, dropout: 0 });
  const model = new PpgGpt(be, config, { next: false, hr: true });
  model.store.initialise(config, seed);
  return model;
}

describe('groupdro', () => {
  it('moves q toward the group with the higher loss by exp(η·ΔL)', () => {
    const model = tinyModel();
    const s = new GroupDroStrategy(0.1);
    s.setup({ backend: be, model, groups: 2, trainGroupOf: new Int32Array([0, 1]), seed: 0 });
    const step = new HrStep(model, 4, 2);
    const rng = new Rng(1);
    // Group 1's labels are far from anything the fresh model predicts (≈130 bpm): its loss is larger.
    const batch = { x: rng.fillUniform(new Float32Array(4 * 120)), hr: new Float32Array([130, 130, 40, 40]), group: new Float32Array([0, 0, 1, 1]) };
    step.forward(batch);
    const sums = be.download(step.bufs.groupLossSum), counts = be.download(step.bufs.groupCount);
    const L0 = sums[0] / counts[0], L1 = sums[1] / counts[1];
    expect(L1).toBeGreaterThan(L0);
    s.beforeBackward(step.bufs);
    const q = s.weights();
    // q_g ∝ 0.5·exp(η·L_g): the ratio is exp(η·(L1 − L0)).
    expect(q[1] / q[0]).toBeCloseTo(Math.exp(0.1 * (L1 - L0)), 3);
    expect(q[0] + q[1]).toBeCloseTo(1, 6);
    const w = be.download(step.bufs.w);
    expect(w[2] / w[0]).toBeCloseTo(q[1] / q[0], 3);
    // A larger η moves q further.
    const s2 = new GroupDroStrategy(0.3);
    s2.setup({ backend: be, model, groups: 2, trainGroupOf: new Int32Array([0, 1]), seed: 0 });
    s2.beforeBackward(step.bufs);
    expect(s2.weights()[1]).toBeGreaterThan(q[1]);
  });
});

describe('adv', () => {
  it('sends the encoder the reversed (−λ·) gradient of the adversary loss', () => {
    const model = tinyModel(2);
    const B = 4;
    const step = new HrStep(model, B, 2);
    const rng = new Rng(3);
    const batch = { x: rng.fillUniform(new Float32Array(B * 120)), hr: new Float32Array([60, 80, 100, 120]), group: new Float32Array([0, 1, 0, 1]) };
    const grads: Float32Array[] = [];
    for (const lambda of [1, -1]) {
      const s = new AdversarialStrategy(Math.abs(lambda), 8);
      s.setup({ backend: be, model, groups: 2, trainGroupOf: new Int32Array([0, 1]), seed: 5 });
      s.onBatch(batch);
      step.forward(batch);
      const d = be.tensor(step.acts.hOut.shape);
      s.encoderGradient(step.acts, step.bufs, d);
      grads.push(be.download(d));
    }
    // The same adversary (same seed) gives the same gradient: compare with the un-reversed gradient of
    // its loss, obtained from the adversary's own backward through meanPool.
    const s = new AdversarialStrategy(1, 8);
    s.setup({ backend: be, model, groups: 2, trainGroupOf: new Int32Array([0, 1]), seed: 5 });
    s.onBatch(batch);
    const rev = be.tensor(step.acts.hOut.shape);
    s.encoderGradient(step.acts, step.bufs, rev);
    const r = be.download(rev);
    // Finite difference of the adversary's BCE w.r.t. one hidden-state element shows the sign.
    let dot = 0, norm = 0;
    for (let i = 0; i < r.length; i++) {
      dot += r[i] * grads[0][i];
      norm += r[i] * r[i];
    }
    expect(norm).toBeGreaterThan(0);
    expect(dot).toBeCloseTo(norm, 6);
    const h = be.download(step.acts.hOut);
    const lossAt = (delta: number, idx: number) => {
      const t = be.tensor(step.acts.hOut.shape, h);
      (t.handle as Float32Array)[idx] += delta;
      const pooled = be.tensor([B, 64]);
      be.meanPool(t, pooled);
      const st = s as unknown as { store: { value(n: string): never } };
      const h1 = be.tensor([B, 8]), logits = be.tensor([B, 2]), loss = be.tensor([1]);
      be.linear(pooled, st.store.value('adv.linear1.weight'), st.store.value('adv.linear1.bias'), h1);
      be.relu(h1, h1);
      be.linear(h1, st.store.value('adv.linear2.weight'), st.store.value('adv.linear2.bias'), logits);
      const oneHot = new Float32Array([1, 0, 0, 1, 1, 0, 0, 1]);
      be.bceWithLogits(logits, be.tensor([B, 2], oneHot), loss);
      return be.download(loss)[0];
    };
    let idx = 0;
    for (let i = 1; i < r.length; i++) if (Math.abs(r[i]) > Math.abs(r[idx])) idx = i;
    const eps = 1e-2;
    const fd = (lossAt(eps, idx) - lossAt(-eps, idx)) / (2 * eps);
    // The encoder receives −λ·∂L_adv/∂h: opposite sign to the adversary's gradient.
    expect(Math.sign(r[idx])).toBe(-Math.sign(fd));
    expect(Math.abs(r[idx])).toBeCloseTo(Math.abs(fd), 2);
  });
});

describe('strategy registry', () => {
  it('builds every named strategy and rejects unknown names and bad parameters', () => {
    for (const n of STRATEGY_NAMES) expect(makeStrategy(n).name).toBe(n);
    expect(() => makeStrategy('dro')).toThrow(/unknown strategy 'dro'/);
    expect(() => makeStrategy('groupdro', { groupdroEta: -1, reweightEta: 1, advLambda: 0.1, advWidth: 8 })).toThrow(/eta/);
    expect(() => makeStrategy('adv', { groupdroEta: 0.1, reweightEta: 1, advLambda: 0.1, advWidth: 0 })).toThrow(/width/);
    expect(() => makeStrategy('groupdro-paper', { groupdroEta: 0.1, reweightEta: 0, advLambda: 0.1, advWidth: 8 })).toThrow(/eta/);
  });
});

describe('groupdro-paper (the FairTune paper\'s reweighting)', () => {
  it('weights a group by 1 + η·L̂_g with the losses normalised over the groups present; the batch weights sum to 1', () => {
    const s = makeStrategy('groupdro-paper', { groupdroEta: 0.01, reweightEta: 2, advLambda: 0.1, advWidth: 8 });
    // Three groups, the third absent from the batch: it keeps gw = 1.
    const gs = be.tensor([3], [4, 12, 0]), gc = be.tensor([3], [2, 2, 0]), group = be.tensor([4], [0, 0, 1, 1]);
    const gw = be.tensor([3], [1, 1, 1]), w = be.tensor([4]);
    be.groupLossReweight(gs, gc, 2, group, gw, w);
    // L = (2, 6), L̂ = (0.25, 0.75): gw = (1.5, 2.5, 1).
    expect(Array.from(be.download(gw))).toEqual([1.5, 2.5, 1]);
    const wv = be.download(w);
    expect(wv[2] / wv[0]).toBeCloseTo(2.5 / 1.5, 6);
    expect(wv.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(s.name).toBe('groupdro-paper');
  });

  it('shifts the next epoch\'s sampling toward the high-loss group, and a resumed epoch draws the same windows', () => {
    const model = tinyModel();
    const s = makeStrategy('groupdro-paper', { groupdroEta: 0.01, reweightEta: 4, advLambda: 0.1, advWidth: 8 });
    const trainGroupOf = new Int32Array(400).map((_, i) => (i < 300 ? 0 : 1)); // group 1 is a quarter of the windows
    const ctx = { backend: be, model, groups: 2, trainGroupOf, seed: 3 };
    s.setup(ctx);
    const sampler = s.sampler(ctx);
    const share1 = (order: Int32Array) => order.reduce((n, i) => n + (trainGroupOf[i] === 1 ? 1 : 0), 0) / order.length;
    // Epoch 0: gw = 1, so both groups are drawn equally often whatever their sizes.
    expect(Math.abs(share1(sampler.epochOrder(0)) - 0.5)).toBeLessThan(0.08);
    // A batch where group 1's loss dominates raises its weight: the next epoch draws it more.
    const step = new HrStep(model, 4, 2);
    const rng = new Rng(2);
    step.forward({ x: rng.fillUniform(new Float32Array(4 * 120)), hr: new Float32Array([130, 130, 40, 40]), group: new Float32Array([0, 0, 1, 1]) });
    s.beforeBackward!(step.bufs);
    const gw = (s as unknown as { weights(): Float32Array }).weights();
    expect(gw[1]).toBeGreaterThan(gw[0]);
    const order1 = sampler.epochOrder(1);
    expect(share1(order1)).toBeGreaterThan(0.55);
    // The epoch's weights are part of the state: a strategy restored from it draws epoch 1 identically,
    // even after gw has moved on.
    const state = s.state();
    const t = makeStrategy('groupdro-paper', { groupdroEta: 0.01, reweightEta: 4, advLambda: 0.1, advWidth: 8 });
    t.setup(ctx);
    t.loadState(state);
    be.upload((t as unknown as { gw: import('../../src/engine/tensor').Tensor }).gw, new Float32Array([9, 1]));
    expect(Array.from(t.sampler(ctx).epochOrder(1))).toEqual(Array.from(order1));
    s.dispose();
    t.dispose();
  });
});
