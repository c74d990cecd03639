// q, k and v run as one linearFanout over their stacked weights: the parameter store views adjacent
// parameters as one tensor (values and gradients), and the model's gradients are those of three separate
// layers. These fail if a stacked view covers the wrong floats, if fanoutGrads overwrites a gradient that
// holds a value, or if the fused path computes anything else than the three layers did.
import { getBackend } from '../../src/engine/registry';
import { modelConfig } from '../../src/model/config';
import { applyFinetuneMode, parseFinetuneMode } from '../../src/model/finetune-mode';
import { ParamStore } from '../../src/model/param-store';
import { blockParamNames } from '../../src/model/params';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { AdamW } from '../../src/train/adamw';
import { HrStep } from '../../src/train/hr-step';
import { Rng } from '../../src/util/random';

const be = getBackend('cpu');
const config = modelConfig('tiny', { hrPatches: 3, dropout: 0.1 });
const n = blockParamNames(1);
const W = [n.wq, n.wk, n.wv], Bs = [n.bq, n.bk, n.bv];

function model(): PpgGpt {
  const m = new PpgGpt(be, config, { next: false, hr: true });
  m.store.initialise(config, 3);
  // Biases start at zero: give them values, so that a bias applied to the wrong block shows.
  const rng = new Rng(21);
  for (const p of m.store.list()) if (p.spec.name.endsWith('.bias')) be.upload(p.value, rng.fillNormal(new Float32Array(p.value.size), 0.1));
  return m;
}

test('stackedValue views adjacent parameters as one tensor, and refuses ones that are not adjacent', () => {
  const s = model().store, D = config.dim;
  const w = s.stackedValue(W)!, b = s.stackedValue(Bs)!;
  expect(w.shape).toEqual([3, D, D]);
  expect(b.shape).toEqual([3, D]);
  const all = be.download(w), allB = be.download(b);
  W.forEach((name, g) => expect(all.subarray(g * D * D, (g + 1) * D * D)).toEqual(be.download(s.value(name))));
  Bs.forEach((name, g) => expect(allB.subarray(g * D, (g + 1) * D)).toEqual(be.download(s.value(name))));
  expect(s.stackedValue([n.wq, n.wv])).toBeNull(); // w_k lies between them
  expect(s.stackedValue([n.wk, n.wq])).toBeNull(); // the wrong order
  expect(s.stackedValue([n.wv, n.wc, n.w1])).toBeNull(); // adjacent, different shapes
});

test('fanoutGrads overwrites only gradients still waiting for their zero, and refuses a mix of frozen and trainable', () => {
  const m = model(), s: ParamStore = m.store;
  s.zeroGrads();
  const first = s.fanoutGrads(W, Bs)!;
  expect(first.overwrite).toBe(true);
  expect(first.dw!.shape).toEqual([3, config.dim, config.dim]);
  // Written once, the next user adds.
  be.upload(first.dw!, new Float32Array(first.dw!.size).fill(2));
  const second = s.fanoutGrads(W, Bs)!;
  expect(second.overwrite).toBe(false);
  expect(be.download(s.grad(n.wk)!).every((v) => v === 2)).toBe(true);
  // One of the three pending, the others holding values: the pending one is zeroed, and the op adds.
  s.zeroGrads();
  // A read settles w_q's zero; then it holds 5s.
  be.upload(s.get(n.wq).grad, new Float32Array(config.dim * config.dim).fill(5));
  const mixed = s.fanoutGrads(W, Bs)!;
  expect(mixed.overwrite).toBe(false);
  expect(be.download(s.grad(n.wk)!).every((v) => v === 0)).toBe(true);
  expect(be.download(s.grad(n.wq)!).every((v) => v === 5)).toBe(true);
  // Frozen: no gradient views; a mix of frozen and trainable weights cannot run as one op.
  applyFinetuneMode(s, config.layers, parseFinetuneMode('head'));
  const frozen = s.fanoutGrads(W, Bs)!;
  expect(frozen.dw).toBeNull();
  expect(frozen.db).toBeNull();
  s.get(n.wk).trainable = true;
  expect(s.fanoutGrads(W, Bs)).toBeNull();
});

test('a step through linearFanout gives the gradients of q, k and v run as three layers', () => {
  const B = 4, L = 120, r = new Rng(9);
  const batch = { x: r.fillUniform(new Float32Array(B * L)), hr: r.fillUniform(new Float32Array(B), 50, 150) };
  const grads = (fused: boolean) => {
    const m = model();
    // Without the stacked views the model runs q, k and v as three linear layers (its fallback).
    if (!fused) m.store.stackedValue = () => null;
    const step = new HrStep(m, B, 1), opt = new AdamW(be, m.store);
    step.run(batch, opt, { lr: 0, seed: 5 });
    return m.store.downloadGrads();
  };
  const a = grads(true), b = grads(false);
  let compared = 0;
  for (const [name, ga] of a) {
    const gb = b.get(name)!;
    const scale = Math.max(1e-6, ...Array.from(gb, Math.abs));
    const worst = Math.max(...Array.from(ga, (v, i) => Math.abs(v - gb[i])));
    expect([name, worst / scale < 1e-5]).toEqual([name, true]);
    if (W.includes(name) && scale > 1e-6) compared++;
  }
  expect(compared).toBe(3);
});
