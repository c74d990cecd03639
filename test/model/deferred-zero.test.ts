// The parameter store defers zeroing the gradients (zeroGrads marks them; the first read or add zeroes one;
// a linear layer's backward overwrites its weight and bias gradients instead). These checks fail if a
// gradient keeps anything of an earlier step, or if a pending one is read before its zero.
import { getBackend } from '../../src/engine/registry';
import { modelConfig } from '../../src/model/config';
import { applyFinetuneMode, parseFinetuneMode } from '../../src/model/finetune-mode';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { AdamW } from '../../src/train/adamw';
import { HrStep } from '../../src/train/hr-step';
import { PretrainStep } from '../../src/train/pretrain';
import { Rng } from '../../src/util/random';

describe('deferred gradient zeroing', () => {
  const be = getBackend('cpu');
  const config = modelConfig('tiny', { hrPatches: 3, dropout: 0.1, loraRank: 2, loraAlpha: 4 });
  const B = 4, L = 120;
  const batch = (seed: number) => {
    const r = new Rng(seed);
    return { x: r.fillUniform(new Float32Array(B * L)), hr: r.fillUniform(new Float32Array(B), 50, 150) };
  };
  const model = (mode: string) => {
    const m = new PpgGpt(be, config, { next: false, hr: true });
    m.store.initialise(config, 3);
    // LoRA's B starts at zero, which would leave A's gradient zero: give it values so every path carries signal.
    const rng = new Rng(11);
    for (const p of m.store.list()) if (p.spec.name.endsWith('lora_B.weight')) be.upload(p.value, rng.fillNormal(new Float32Array(p.value.size), 0.05));
    applyFinetuneMode(m.store, config.layers, parseFinetuneMode(mode));
    return m;
  };

  for (const mode of ['full', 'lora', 'last1', 'head']) {
    it(`gives a step the gradients of its own batch only (${mode})`, () => {
      // lr 0: the parameters stay, so a step on batch 2 must give exactly the same gradients whether batch 1
      // or batch 3 came before it (both second steps draw the same dropout masks: same seed, same step).
      const second = (first: number) => {
        const m = model(mode), step = new HrStep(m, B, 1), opt = new AdamW(be, m.store);
        step.run(batch(first), opt, { lr: 0, seed: 5 });
        step.run(batch(2), opt, { lr: 0, seed: 5 });
        return m;
      };
      const m1 = second(1), m2 = second(3);
      const g1 = m1.store.downloadGrads(), g2 = m2.store.downloadGrads();
      let nonzero = 0;
      for (const p of m1.store.list()) {
        if (!p.trainable) continue;
        const a = g1.get(p.spec.name)!, b = g2.get(p.spec.name)!;
        expect([p.spec.name, Array.from(a)]).toEqual([p.spec.name, Array.from(b)]);
        if (a.some((v) => v !== 0)) nonzero++;
      }
      expect(nonzero).toBeGreaterThan(0);
    });
  }

  it('gives a pretraining step the gradients of its own batch only (the next-patch head writes dx fresh)', () => {
    const cfg = modelConfig('tiny', { hrPatches: 3, dropout: 0.1 });
    const second = (first: number) => {
      const m = new PpgGpt(be, cfg, { next: true, hr: false });
      m.store.initialise(cfg, 3);
      const step = new PretrainStep(m, B, 3), opt = new AdamW(be, m.store);
      step.run(batch(first).x, opt, 0, 5);
      step.run(batch(2).x, opt, 0, 5);
      return m.store.downloadGrads();
    };
    const g1 = second(1), g2 = second(3);
    for (const [name, a] of g1) expect([name, Array.from(a)]).toEqual([name, Array.from(g2.get(name)!)]);
    expect([...g1.values()].some((a) => a.some((v) => v !== 0))).toBe(true);
  });

  it('reads a pending gradient as zero, through the view, the download and the optimiser runs', () => {
    const m = model('full');
    new HrStep(m, B, 1).run(batch(1), new AdamW(be, m.store), { lr: 0, seed: 0 });
    const name = 'gpt_layers.0.ffn.linear1.weight';
    expect(m.store.downloadGrads().get(name)!.some((v) => v !== 0)).toBe(true);
    m.store.zeroGrads();
    expect(be.download(m.store.get(name).grad).every((v) => v === 0)).toBe(true);
    m.store.zeroGrads();
    for (const g of m.store.downloadGrads().values()) expect(g.every((v) => v === 0)).toBe(true);
    m.store.zeroGrads();
    for (const r of m.store.trainableRuns()) expect(be.download(r.grad).every((v) => v === 0)).toBe(true);
  });

  it('lets only the first write after zeroGrads overwrite, and hands out no frozen gradient', () => {
    const m = model('lora'), s = m.store;
    s.zeroGrads();
    // The head trains: its first write overwrites, a second adds.
    expect(s.linearGrads('head_hr.linear.weight', 'head_hr.linear.bias').overwrite).toBe(true);
    expect(s.linearGrads('head_hr.linear.weight', 'head_hr.linear.bias').overwrite).toBe(false);
    // w_q is frozen under LoRA: nothing to write, nothing to overwrite.
    expect(s.linearGrads('gpt_layers.0.attn.w_q.weight', 'gpt_layers.0.attn.w_q.bias')).toEqual({ dw: null, db: null, overwrite: false });
    // A weight whose bias was already touched cannot overwrite (the bias would lose its first contribution).
    s.zeroGrads();
    void s.get('head_hr.linear.bias').grad;
    const g = s.linearGrads('head_hr.linear.weight', 'head_hr.linear.bias');
    expect(g.overwrite).toBe(false);
    expect(g.dw).not.toBeNull();
  });
});
