import { getBackend } from '../../src/engine/registry';
import { modelConfig } from '../../src/model/config';
import { planActivations } from '../../src/model/activations';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { AdamW } from '../../src/train/adamw';
import { HrStep } from '../../src/train/hr-step';
import { Rng } from '../../src/util/random';

describe('buffer planning', () => {
  it('a training step allocates no tensor after the first', () => {
    const be = getBackend('cpu');
    const config = modelConfig('tiny', { hrPatches: 4 });
    const model = new PpgGpt(be, config, { next: false, hr: true });
    model.store.initialise(config, 0);
    const step = new HrStep(model, 2, 2);
    const optim = new AdamW(be, model.store);
    const rng = new Rng(0);
    const batch = { x: rng.fillUniform(new Float32Array(2 * 160)), hr: new Float32Array([60, 120]), group: new Float32Array([0, 1]) };
    step.run(batch, optim, { lr: 1e-3, seed: 0 });
    const after1 = be.stats().allocations;
    for (let i = 0; i < 3; i++) step.run(batch, optim, { lr: 1e-3, seed: 0 });
    expect(be.stats().allocations).toBe(after1);
  });

  it('refuses plans the model cannot run, naming the problem', () => {
    const be = getBackend('reference');
    const c = modelConfig('tiny', { hrPatches: 10 });
    expect(() => planActivations(be, c, { B: 0, T: 10, training: false, head: 'hr' })).toThrow(/batch size/);
    expect(() => planActivations(be, c, { B: 1, T: 61, training: false, head: 'none' })).toThrow(/patches T/);
    expect(() => planActivations(be, c, { B: 1, T: 5, training: false, head: 'hr' })).toThrow(/HR head is built for T = 10/);
  });
});
