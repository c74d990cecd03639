// End-to-end proof that the engine computes what DESIGN.md section 3 says: `fairtune trace` writes one HR
// fine-tuning step (forward, loss, every gradient), and an independent PyTorch PPG-GPT in float64
// (tools/pytorch/check_trace.py) must reproduce every output and gradient to 1e-4 relative.
import { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { registerTraceCommand } from '../../src/cli/commands/trace';
import { readSafetensors, writeSafetensors } from '../../src/util/safetensors';
import { getBackend } from '../../src/engine/registry';
import { modelConfig } from '../../src/model/config';
import { minMaxScaleWindows } from '../../src/model/input';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { traceFileTensors, traceMetadata, traceStep } from '../../src/trace/hr-trace';
import { randomWindows } from '../../src/data/synth/random-windows';
import { Rng } from '../../src/util/random';
import { perturbParameters } from './perturb';
import { requireTorch, runTool, tempDir } from './python';

/** Runs the real `fairtune trace` command (its option parsing and file writing included). */
async function fairtuneTrace(args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerTraceCommand(program);
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await program.parseAsync(['trace', ...args], { from: 'user' });
  } finally {
    log.mockRestore();
  }
}

const dir = tempDir('pytorch-trace');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeAll(() => requireTorch());

const CASES: { backend: string; seed: number; patches: number; batch: number }[] = [];
for (const backend of ['cpu', 'reference']) {
  CASES.push({ backend, seed: 1, patches: 10, batch: 4 });
  CASES.push({ backend, seed: 7, patches: 1, batch: 3 });
  CASES.push({ backend, seed: 12, patches: 10, batch: 2 });
}

describe('fairtune trace agrees with the PyTorch PPG-GPT', () => {
  it.each(CASES)('$backend, seed $seed, T = $patches, B = $batch', async ({ backend, seed, patches, batch }) => {
    const file = path.join(dir, `${backend}-s${seed}-t${patches}.safetensors`);
    await fairtuneTrace(['--model', 'tiny', '--backend', backend, '--seed', String(seed), '--patches', String(patches),
      '--batch', String(batch), '--out', file]);
    const r = runTool('check_trace.py', [file, '--top', '5']);
    // The table goes into the failure message, so a disagreement names its tensors.
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining(' ok') });
  });
});

/**
 * The same step on a model moved away from its initialisation (sharp attention, non-zero biases, non-unit
 * scales), written in the trace format of DESIGN.md: `fairtune trace` only traces freshly initialised models.
 */
function perturbedModelTrace(backendName: string, seed: number, T: number, B: number, file: string): void {
  const be = getBackend(backendName);
  const config = modelConfig('tiny', { hrPatches: T });
  const model = new PpgGpt(be, config, { next: false, hr: true });
  model.store.initialise(config, seed);
  perturbParameters(model, seed + 100);
  const rng = new Rng(seed + 1), L = T * config.patch;
  const x = minMaxScaleWindows(randomWindows(rng, B, L), L);
  const y = rng.fillUniform(new Float32Array(B), 45, 175);
  const w = rng.fillUniform(new Float32Array(B), 0.5, 1.5);
  const trace = traceStep(model, x, y, w);
  writeSafetensors(file, traceFileTensors(trace), traceMetadata(config, be.name, seed));
}

// Not T = 1 here (the plain traces above cover it): with sharp attention and only two tokens, the key-bias
// gradient is almost all cancellation (softmax ignores a shift shared by every key; only RoPE's small angles
// at position 1 break that), so float32 rounding of ~5e-7 is already ~5e-5 of its scale.
describe('a perturbed (trained-like) model agrees with the PyTorch PPG-GPT', () => {
  it.each([
    { backend: 'cpu', seed: 31, patches: 10, batch: 3 },
    { backend: 'reference', seed: 31, patches: 10, batch: 3 },
    { backend: 'cpu', seed: 32, patches: 3, batch: 2 },
  ])('$backend, seed $seed, T = $patches, B = $batch', ({ backend, seed, patches, batch }) => {
    const file = path.join(dir, `perturbed-model-${backend}-s${seed}.safetensors`);
    perturbedModelTrace(backend, seed, patches, batch, file);
    const r = runTool('check_trace.py', [file, '--top', '5']);
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining(' ok') });
  });
});

describe('the checker can fail', () => {
  const base = path.join(dir, 'base.safetensors');
  beforeAll(async () => {
    await fairtuneTrace(['--model', 'tiny', '--backend', 'reference', '--seed', '5', '--patches', '2', '--batch', '3', '--out', base]);
  });

  /** Rewrites the trace with one tensor changed by `edit`. */
  function perturbed(name: string, edit: (d: Float32Array) => void): string {
    const f = readSafetensors(base);
    const t = f.tensors[name];
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`trace has no F32 tensor ${name}`);
    edit(t.data);
    const out = path.join(dir, `perturbed-${name}.safetensors`);
    writeSafetensors(out, f.tensors, f.metadata);
    return out;
  }

  const maxAbs = (d: Float32Array) => d.reduce((a, v) => Math.max(a, Math.abs(v)), 0);

  it('accepts the unmodified trace (the baseline of the perturbations below)', () => {
    expect(runTool('check_trace.py', [base]).status).toBe(0);
  });

  it('rejects a trace whose one gradient entry is off by 1e-3 of its scale, naming that gradient', () => {
    const name = 'grad.gpt_layers.0.attn.w_k.weight';
    const file = perturbed(name, (d) => {
      d[37] += 1e-3 * maxAbs(d);
    });
    const r = runTool('check_trace.py', [file]);
    expect(r.status).toBe(1);
    const line = r.stdout.split('\n').find((l) => l.trim().startsWith(`${name} `)) ?? '';
    expect(line).toContain('FAIL');
    // The reported relative error is the perturbation itself (the engine's own error is ~1e-6).
    expect(Math.abs(Number(line.trim().split(/\s+/)[1]) - 1e-3)).toBeLessThan(2e-5);
    // Only the edited tensor is over the tolerance.
    expect(r.stdout).toContain('FAIL (1 tensor over)');
  });

  it('rejects a trace whose parameter was changed after the step (forward and gradients no longer match)', () => {
    const file = perturbed('gpt_layers.1.norm2.scale', (d) => {
      d[0] += 0.5;
    });
    const r = runTool('check_trace.py', [file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/grad\.gpt_layers\.1\.norm2\.scale\s.*FAIL/);
  });

  it('refuses a truncated file and a trace with a misnamed parameter (exit 2, naming the problem)', () => {
    const bytes = fs.readFileSync(base);
    const cut = path.join(dir, 'truncated.safetensors');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const r1 = runTool('check_trace.py', [cut]);
    expect(r1.status).toBe(2);
    expect(r1.stderr).toMatch(/truncated/);

    const f = readSafetensors(base);
    f.tensors['gpt_layers.0.attn.w_query.weight'] = f.tensors['gpt_layers.0.attn.w_q.weight'];
    f.tensors['grad.gpt_layers.0.attn.w_query.weight'] = f.tensors['grad.gpt_layers.0.attn.w_q.weight'];
    delete f.tensors['gpt_layers.0.attn.w_q.weight'];
    delete f.tensors['grad.gpt_layers.0.attn.w_q.weight'];
    const renamed = path.join(dir, 'renamed.safetensors');
    writeSafetensors(renamed, f.tensors, f.metadata);
    const r2 = runTool('check_trace.py', [renamed]);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/w_query/);
  });
});
