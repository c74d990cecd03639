// How often an HR training step talks to the host on a CUDA backend (cuda-emu counts exactly what the GPU
// build would do): the batch goes up in two copies (windows; labels, weights and group ids in one buffer),
// and ERM reads back two things, the loss with the group statistics (one buffer) and the gradient norm for
// clipping. The value checks of the labels, weights and group ids read host shadows, not the device, and the
// group statistics it downloaded stay shadowed for GroupDRO's update. GroupDRO adds two reads: its q (written
// by its own update last step) for q's value check, and the labels buffer once more, because the update wrote
// the weights into it and the loss backward checks them.
import { modelConfig } from '../../src/model/config';
import { minMaxScaleWindows } from '../../src/model/input';
import { PpgGpt } from '../../src/model/ppg-gpt';
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

test('an ERM step: two uploads, two reads (loss with group statistics, gradient norm)', () => {
  const { step, optim, batch } = ctx;
  // The first step already moves what every later step does (the optimiser's moments start zeroed on the device).
  let r: HrStepResult | null = null;
  expect(copiesOf(() => (r = step.run(batch, optim, { lr: 1e-3, seed: 1 })))).toEqual({ reads: 2, writes: 2 });
  const got = r as HrStepResult | null;
  expect(got !== null && Number.isFinite(got.loss) && got.groupCount[0] === 2 && got.groupCount[1] === 2 && got.gradNorm > 0).toBe(true);
});

test('a GroupDRO step adds two reads: q, and the labels buffer whose weights the update rewrote', () => {
  const { step, optim, batch } = ctx;
  // q comes from an upload, so its first check is free; from the second step on, q is the update's output.
  const q = emu.tensor([2], [0.5, 0.5]);
  const hooks = { beforeBackward: (b: typeof step.bufs) => emu.groupDroUpdate(q, b.groupLossSum, b.groupCount, 0.01, b.group, b.w) };
  expect(copiesOf(() => step.run(batch, optim, { lr: 1e-3, seed: 1, hooks }))).toEqual({ reads: 3, writes: 2 });
  expect(copiesOf(() => step.run(batch, optim, { lr: 1e-3, seed: 1, hooks }))).toEqual({ reads: 4, writes: 2 });
});

test('a batch whose labels do not fit the step is refused by name', () => {
  const { step, optim, batch } = ctx;
  expect(() => step.run({ ...batch, hr: new Float32Array(3) }, optim, { lr: 1e-3, seed: 1 })).toThrow('HR step: batch.hr has 3 values for a batch of 4');
});
