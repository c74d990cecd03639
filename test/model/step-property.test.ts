// A property test over model shapes: for random configurations (width, heads, head dim, layers, patches,
// batch), one whole HR step on the cpu backend gives the reference backend's outputs and gradients. The
// fixed-shape tests pin the sizes people train; this one looks between them (odd head counts, head dims that
// are no multiple of the vector width, a single patch, one window) where a tiling or indexing slip hides.
import fc from 'fast-check';
import type { Backend } from '../../src/engine/backend';
import { getBackend } from '../../src/engine/registry';
import { modelConfig } from '../../src/model/config';
import { minMaxScaleWindows } from '../../src/model/input';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { HrTrace, traceStep } from '../../src/trace/hr-trace';
import { randomWindows } from '../../src/data/synth/random-windows';
import { Rng } from '../../src/util/random';
import { maxAbs, maxAbsDiff } from '../conformance/compare';

jest.setTimeout(300_000);

interface Shape {
  heads: number;
  headDim: number;
  layers: number;
  patches: number;
  batch: number;
  seed: number;
}

function step(be: Backend, s: Shape): HrTrace {
  const config = modelConfig({ dim: s.heads * s.headDim, layers: s.layers, heads: s.heads }, { hrPatches: s.patches, maxPatches: Math.max(60, s.patches) });
  const model = new PpgGpt(be, config, { next: false, hr: true });
  model.store.initialise(config, s.seed);
  const rng = new Rng(s.seed + 1), L = s.patches * config.patch;
  const x = minMaxScaleWindows(randomWindows(rng, s.batch, L), L);
  const y = rng.fillUniform(new Float32Array(s.batch), 45, 175);
  const w = rng.fillUniform(new Float32Array(s.batch), 0.5, 1.5);
  return traceStep(model, x, y, w);
}

/** Tensors whose max |cpu − ref| exceeds rtol of the largest |ref| of that tensor, or of every gradient. */
function disagreements(got: HrTrace, want: HrTrace, rtol: number): string[] {
  // A gradient that cancels to almost nothing (the key bias: softmax ignores a shift shared by all keys, and
  // only RoPE's angles break that) is held to the scale of the gradients around it, as float32 sums can be.
  const floor = Math.max(...Object.entries(want.tensors).filter(([n]) => n.startsWith('grad.')).map(([, t]) => maxAbs(t.data))) * 1e-3;
  const bad: string[] = [];
  for (const [name, t] of Object.entries(want.tensors)) {
    const err = maxAbsDiff(got.tensors[name].data, t.data);
    const scale = Math.max(maxAbs(t.data), name.startsWith('grad.') ? floor : 0);
    if (!(err <= rtol * scale)) bad.push(`${name}: max|err| ${err.toExponential(2)} > ${rtol} × ${scale.toExponential(2)}`);
  }
  return bad;
}

test('a whole step on cpu matches the reference for random model shapes', () => {
  const cpu = getBackend('cpu'), ref = getBackend('reference');
  const shape = fc.record({
    heads: fc.integer({ min: 1, max: 5 }),
    headDim: fc.constantFrom(4, 8, 12, 20, 28, 64),
    layers: fc.integer({ min: 1, max: 3 }),
    patches: fc.integer({ min: 1, max: 12 }),
    batch: fc.integer({ min: 1, max: 5 }),
    seed: fc.integer({ min: 0, max: 1e6 }),
  });
  fc.assert(
    fc.property(shape, (s) => {
      const got = step(cpu, s), want = step(ref, s);
      // A ReLU unit within float32 rounding of zero can fall either way; such a draw says nothing of the kernels.
      const flipped = Object.entries(want.masks).some(([n, m]) => got.masks[n].data.some((v, i) => v !== m.data[i]));
      fc.pre(!flipped);
      const bad = disagreements(got, want, 1e-4);
      if (bad.length > 0) throw new Error(`${JSON.stringify(s)}: ${bad.join('; ')}`);
    }),
    { numRuns: 40, seed: 20261201 },
  );
});
