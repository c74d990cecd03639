// A whole HR fine-tuning step (forward and backward of the tiny PPG-GPT) on the emulated CUDA kernels agrees
// with the reference backend on the outputs and every gradient: the device-side chain of ops (GEMMs,
// attention, norms, losses) composes, not only each op alone.
import { getBackend } from '../../src/engine/registry';
import { hrTrace } from '../../src/trace/hr-trace';
import { maxRelErr } from '../conformance/compare';

jest.setTimeout(180000);


test('cuda-emu and reference traces agree to 1e-4 relative on outputs and every gradient', () => {
  const opts = { size: 'tiny' as const, seed: 5, batch: 3, patches: 10 };
  const emu = hrTrace(getBackend('cuda-emu'), opts);
  const ref = hrTrace(getBackend('reference'), opts);
  expect(Object.keys(emu.tensors).sort()).toEqual(Object.keys(ref.tensors).sort());
  const bad: string[] = [];
  for (const [name, t] of Object.entries(ref.tensors)) {
    const e = maxRelErr(emu.tensors[name].data, t.data);
    if (!(e <= 1e-4)) bad.push(`${name}: ${e}`);
  }
  expect(bad).toEqual([]);
});

// The bf16 mode end to end (tensor-core GEMMs and attention) is checked against float64 PyTorch with the
// engine's ReLU masks, as the CPU's bf16 mode is: test/pytorch/trace-sizes.test.ts.
