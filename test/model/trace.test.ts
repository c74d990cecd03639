import { getBackend } from '../../src/engine/registry';
import { hrTrace } from '../../src/trace/hr-trace';
import { maxRelErr } from '../conformance/compare';


describe('HR trace (one fine-tuning step, forward and backward)', () => {
  const opts = { size: 'tiny' as const, seed: 3, batch: 3, patches: 10 };
  const cpu = hrTrace(getBackend('cpu'), opts);
  const ref = hrTrace(getBackend('reference'), opts);

  it('holds every parameter, its gradient, the batch and the outputs', () => {
    const names = Object.keys(cpu.tensors);
    for (const n of ['x', 'y', 'w', 'out.mu', 'out.logb', 'out.pred', 'out.loss', 'patch_embed.weight', 'grad.patch_embed.weight',
      'grad.gpt_layers.1.attn.w_q.weight', 'grad.head_hr.linear.bias', 'start_token', 'grad.start_token']) {
      expect(names).toContain(n);
    }
    expect(cpu.tensors['x'].shape).toEqual([3, 400]);
  });

  it('cpu and reference agree to 1e-4 relative on outputs and every gradient', () => {
    const bad: string[] = [];
    for (const [name, t] of Object.entries(ref.tensors)) {
      const e = maxRelErr(cpu.tensors[name].data, t.data);
      if (!(e <= 1e-4)) bad.push(`${name}: ${e}`);
    }
    expect(bad).toEqual([]);
  });

  it('every gradient is non-trivial (the whole network is reached)', () => {
    for (const [name, t] of Object.entries(ref.tensors)) {
      if (!name.startsWith('grad.')) continue;
      const norm = t.data.reduce((a, v) => a + v * v, 0);
      expect([name, norm > 0]).toEqual([name, true]);
    }
  });

  it('is bit-identical when written twice with the same seed on the same backend', () => {
    const again = hrTrace(getBackend('cpu'), opts);
    for (const [name, t] of Object.entries(cpu.tensors)) {
      expect([name, Buffer.from(again.tensors[name].data.buffer).equals(Buffer.from(t.data.buffer))]).toEqual([name, true]);
    }
  });
});
