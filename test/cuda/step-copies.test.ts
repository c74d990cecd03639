// How often an HR training step talks to the host on a CUDA backend (cuda-emu counts exactly what the GPU
// build would do): the batch goes up in one copy (windows, labels, weights and group ids in one buffer), and
// the results come back in one read at the end ([loss | group sums | group counts | gradient norm]; the
// clipping happens on the device). The value checks of the labels, weights and group ids read the host
// shadow of that upload; what a kernel wrote (GroupDRO's q, the group statistics it reads, the weights it
// rewrites) is checked on the device, and the verdicts come back with that same read.
import { modelConfig } from '../../src/model/config';
import { minMaxScaleWindows } from '../../src/model/input';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { AdversarialStrategy } from '../../src/fairness/strategies/adv';
import { GroupDroStrategy } from '../../src/fairness/strategies/groupdro';
import { AdamW } from '../../src/train/adamw';
import { HrStep, type HrBatch, type HrStepResult } from '../../src/train/hr-step';
import { randomWindows } from '../../src/data/synth/random-windows';
import { Rng } from '../../src/util/random';
import { emu } from './helpers';

jest.setTimeout(180_000);

function setup() {
  // One layer of the tiny model at four patches: the copies do not depend on depth, and the emulator is slow.
  const config = modelConfig('tiny', { hrPatches: 4, layers: 1 });
  const model = new PpgGpt(emu, config, { next: false, hr: true });
  model.store.initialise(config, 3);
  const B = 4, L = 4 * config.patch, rng = new Rng(4);
  const batch: HrBatch = {
    x: minMaxScaleWindows(randomWindows(rng, B, L), L),
    hr: rng.fillUniform(new Float32Array(B), 50, 150),
    group: Float32Array.from([0, 1, 0, 1]),
  };
  return { model, step: new HrStep(model, B, 2), optim: new AdamW(emu, model.store), batch };
}

function copiesOf(run: () => void): { reads: number; writes: number } {
  const a = emu.stats();
  run();
  const b = emu.stats();
  return { reads: (b.hostReads ?? 0) - (a.hostReads ?? 0), writes: (b.hostWrites ?? 0) - (a.hostWrites ?? 0) };
}

// One model for the three tests (three emulated steps in all: the emulator runs a thread per CUDA thread).
const ctx = setup();

test('an ERM step: one upload, one read (loss, group statistics and gradient norm together)', () => {
  const { step, optim, batch } = ctx;
  // The first step already moves what every later step does (the optimiser's moments start zeroed on the device).
  let r: HrStepResult | null = null;
  expect(copiesOf(() => (r = step.run(batch, optim, { lr: 1e-3, seed: 1 })))).toEqual({ reads: 1, writes: 1 });
  const got = r as HrStepResult | null;
  expect(got !== null && Number.isFinite(got.loss) && got.groupCount[0] === 2 && got.groupCount[1] === 2 && got.gradNorm > 0).toBe(true);
});

test('a GroupDRO step too: its inputs that kernels wrote are checked on the device, read with the results', () => {
  const { step, optim, batch } = ctx;
  const q = emu.tensor([2], [0.5, 0.5]);
  const hooks = { beforeBackward: (b: typeof step.bufs) => emu.groupDroUpdate(q, b.groupLossSum, b.groupCount, 0.01, b.group, b.w) };
  expect(copiesOf(() => step.run(batch, optim, { lr: 1e-3, seed: 1, hooks }))).toEqual({ reads: 1, writes: 1 });
  expect(copiesOf(() => step.run(batch, optim, { lr: 1e-3, seed: 1, hooks }))).toEqual({ reads: 1, writes: 1 });
  const qv = emu.download(q);
  expect(Math.abs(qv[0] + qv[1] - 1)).toBeLessThan(1e-6);
});

test('a bad value a kernel wrote fails the step at its one read, naming the op and the argument', () => {
  const { step, optim, batch } = ctx;
  const q = emu.tensor([2], [0.5, 0.5]);
  // q zeroed on the device: GroupDRO's weights rule (a positive sum) fails, seen only by the device check.
  const hooks = { beforeBackward: (b: typeof step.bufs) => {
    emu.scale(q, 0);
    emu.groupDroUpdate(q, b.groupLossSum, b.groupCount, 0.01, b.group, b.w);
  } };
  const before = emu.stats().hostReads ?? 0;
  expect(() => step.run(batch, optim, { lr: 1e-3, seed: 1, hooks })).toThrow(/^groupDroUpdate: q \[2\] sums to 0; it must be > 0 \(checked on the device/);
  expect((emu.stats().hostReads ?? 0) - before).toBe(1);
  // The flags were cleared with that read: the next step is clean.
  expect(copiesOf(() => step.run(batch, optim, { lr: 1e-3, seed: 1 }))).toEqual({ reads: 1, writes: 1 });
});

test('with the real strategies: GroupDRO\'s q and the adversary\'s loss and norm come back in the same one read', () => {
  const { model, step, optim, batch } = ctx;
  const sctx = { backend: emu, model, groups: 2, trainGroupOf: new Int32Array([0, 1, 0, 1]), seed: 0 };
  const dro = new GroupDroStrategy(0.01);
  dro.setup(sctx);
  let r: HrStepResult | null = null;
  expect(copiesOf(() => (r = step.run(batch, optim, { lr: 1e-3, seed: 1, hooks: dro })))).toEqual({ reads: 1, writes: 1 });
  const logs = (r as HrStepResult | null)?.logs ?? {};
  expect(Object.keys(logs)).toEqual(['q0', 'q1']);
  expect(Math.abs(logs.q0 + logs.q1 - 1)).toBeLessThan(1e-6);
  // ADV forms its one-hot group targets on the device from the uploaded ids: one upload, one read.
  const adv = new AdversarialStrategy(0.5, 8);
  adv.setup(sctx, 4);
  expect(copiesOf(() => (r = step.run(batch, optim, { lr: 1e-3, seed: 1, hooks: adv })))).toEqual({ reads: 1, writes: 1 });
  expect(Number.isFinite((r as HrStepResult | null)?.logs.advLoss)).toBe(true);
});

test('a batch whose labels do not fit the step is refused by name', () => {
  const { step, optim, batch } = ctx;
  expect(() => step.run({ ...batch, hr: new Float32Array(3) }, optim, { lr: 1e-3, seed: 1 })).toThrow('HR step: batch.hr has 3 values for a batch of 4');
});
