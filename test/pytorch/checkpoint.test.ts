// A checkpoint saved by the engine means the same model in PyTorch: check_checkpoint.py loads it by the
// DESIGN names (strict) and its float64 outputs must match the engine's forward on the same windows.
import * as fs from 'fs';
import * as path from 'path';
import { writeSafetensors } from '../../src/util/safetensors';
import { getBackend } from '../../src/engine/registry';
import { disposeActivations, planActivations } from '../../src/model/activations';
import { saveCheckpoint } from '../../src/model/checkpoint';
import { modelConfig } from '../../src/model/config';
import { minMaxScaleWindows } from '../../src/model/input';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { randomWindows } from '../../src/data/synth/random-windows';
import { predict } from '../../src/train/predict';
import { Rng } from '../../src/util/random';
import { perturbParameters } from './perturb';
import { requireTorch, runTool, tempDir } from './python';

const dir = tempDir('pytorch-ckpt');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeAll(() => requireTorch());

function maxRelErr(engine: ArrayLike<number>, torch: ArrayLike<number>): number {
  let scale = 0, err = 0;
  for (let i = 0; i < torch.length; i++) {
    scale = Math.max(scale, Math.abs(torch[i]));
    err = Math.max(err, Math.abs(engine[i] - torch[i]));
  }
  return err / scale;
}

describe.each(['cpu', 'reference'])('checkpoint written on %s runs the same in PyTorch', (backendName) => {
  it('mu, log b and pred agree to 1e-4 relative on windows in several batches', () => {
    const be = getBackend(backendName);
    const config = modelConfig('tiny', { hrPatches: 6 });
    const model = new PpgGpt(be, config, { next: true, hr: true });
    model.store.initialise(config, 21);
    perturbParameters(model, 22);
    const ckpt = path.join(dir, `${backendName}.safetensors`);
    saveCheckpoint(ckpt, model);

    const N = 5, L = config.hrPatches * config.patch;
    const x = minMaxScaleWindows(randomWindows(new Rng(23), N, L), L);
    const windows = path.join(dir, `${backendName}-windows.safetensors`);
    writeSafetensors(windows, { x: { dtype: 'F32', shape: [N, L], data: x } });

    // The engine: predict() in batches of 2 (the last one padded) and one plain forward for (μ, log b).
    const pred = predict(model, { n: N, length: L, x, hr: new Float32Array(N), groupOf: new Int32Array(N), subjectIndex: new Int32Array(N) },
      { batchSize: 2 }).pred;
    const acts = planActivations(be, config, { B: N, T: config.hrPatches, training: false, head: 'hr' });
    be.upload(acts.x, x);
    model.forwardHr(acts);
    const out = be.download(acts.hr!.out);
    disposeActivations(be, acts);
    const mu = Array.from({ length: N }, (_, i) => out[2 * i]);
    const logb = Array.from({ length: N }, (_, i) => out[2 * i + 1]);

    const r = runTool('check_checkpoint.py', [ckpt, windows]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const torch = JSON.parse(r.stdout) as { n: number; mu: number[]; logb: number[]; pred: number[] };
    expect(torch.n).toBe(N);
    // The perturbed model must spread its outputs, or agreement would say little.
    expect(Math.max(...torch.mu) - Math.min(...torch.mu)).toBeGreaterThan(0.05);
    expect(maxRelErr(mu, torch.mu)).toBeLessThan(1e-4);
    expect(maxRelErr(logb, torch.logb)).toBeLessThan(1e-4);
    expect(maxRelErr(pred, torch.pred)).toBeLessThan(1e-4);
    for (let i = 0; i < N; i++) expect(Math.abs(pred[i] - torch.pred[i])).toBeLessThan(1e-3); // bpm
  });
});

describe('check_checkpoint.py refuses what is not a usable checkpoint', () => {
  const config = modelConfig('tiny', { hrPatches: 2 });
  const L = config.hrPatches * config.patch;
  const windows = path.join(dir, 'w2.safetensors');
  beforeAll(() => writeSafetensors(windows, { x: { dtype: 'F32', shape: [1, L], data: new Float32Array(L).fill(0.5) } }));

  it('names a missing format marker, wrong window length and a missing parameter', () => {
    const model = new PpgGpt(getBackend('reference'), config, { next: false, hr: true });
    model.store.initialise(config, 1);
    const ckpt = path.join(dir, 'small.safetensors');
    saveCheckpoint(ckpt, model);
    expect(runTool('check_checkpoint.py', [ckpt, windows]).status).toBe(0);

    const r1 = runTool('check_checkpoint.py', [windows, windows]);
    expect([r1.status, r1.stderr]).toEqual([2, expect.stringMatching(/not a fairtune model checkpoint/)]);

    const wrong = path.join(dir, 'w3.safetensors');
    writeSafetensors(wrong, { x: { dtype: 'F32', shape: [1, L + config.patch], data: new Float32Array(L + config.patch) } });
    const r2 = runTool('check_checkpoint.py', [ckpt, wrong]);
    expect([r2.status, r2.stderr]).toEqual([2, expect.stringMatching(/expected \[N, 80\]/)]);

    const values = model.store.downloadValues();
    const tensors: Parameters<typeof writeSafetensors>[1] = {};
    for (const p of model.store.list()) {
      if (p.spec.name !== 'gpt_layers.1.ffn.linear2.bias') tensors[p.spec.name] = { dtype: 'F32', shape: p.spec.shape, data: values.get(p.spec.name)! };
    }
    const partial = path.join(dir, 'partial.safetensors');
    writeSafetensors(partial, tensors, { format: 'fairtune.model/1', config: JSON.stringify(config), heads: JSON.stringify(model.heads) });
    const r3 = runTool('check_checkpoint.py', [partial, windows]);
    expect([r3.status, r3.stderr]).toEqual([2, expect.stringMatching(/gpt_layers\.1\.ffn\.linear2\.bias/)]);
  });
});
