// `fairtune profile --ops`: every op call of a step is booked to a family (GEMMs by their role in the block),
// the families add up to no more than the step, and a backend whose ops run asynchronously is refused.
import { Command } from 'commander';
import { registerProfileCommand } from '../../src/cli/commands/profile';
import type { CpuBackend } from '../../src/engine/cpu/backend';
import { getBackend } from '../../src/engine/registry';
import { opFamily } from '../../src/profile/op-timer';
import { profileCase } from '../../src/profile/profile';
import { opsTable } from '../../src/profile/report';

test('GEMMs are told apart by their weight shapes', () => {
  const be = getBackend('reference'), D = 8;
  const w = (m: number, k: number) => be.tensor([m, k]);
  expect(opFamily('linear', [null, w(D, D)], D)).toBe('GEMM attention projections fwd');
  expect(opFamily('linear', [null, w(4 * D, D)], D)).toBe('GEMM MLP linear1 fwd');
  expect(opFamily('linearBackward', [null, null, w(D, 4 * D)], D)).toBe('GEMM MLP linear2 bwd');
  expect(opFamily('linear', [null, w(2, 11 * D)], D)).toBe('GEMM HR head fwd');
  // q, k and v as one call over their stacked weights [3, D, D].
  expect(opFamily('linearFanout', [null, be.tensor([3, D, D])], D)).toBe('GEMM attention projections fwd');
  expect(opFamily('linearFanoutBackward', [null, null, be.tensor([3, D, D])], D)).toBe('GEMM attention projections bwd');
  expect(opFamily('adamw', [], D)).toBe('AdamW');
  expect(opFamily('zero', [], D)).toBe('zeroing');
});

test('a tiny step profiled by op family: every family of the block appears once per layer, the sum fits the step', () => {
  const r = profileCase({ size: 'tiny', batch: 4, patches: 5, steps: 3, backend: 'cpu', ops: true });
  const ops = r.ops!;
  const by = new Map(ops.map((o) => [o.family, o]));
  // tiny: 2 blocks; q, k and v (one call) and concat per block forward (2 × 2), and as many backward.
  expect(by.get('GEMM attention projections fwd')?.calls).toBe(4);
  expect(by.get('GEMM attention projections bwd')?.calls).toBe(4);
  expect(by.get('GEMM MLP linear1 fwd')?.calls).toBe(2);
  expect(by.get('attention fwd')?.calls).toBe(2);
  expect(by.get('AdamW')?.calls).toBeGreaterThan(0);
  const booked = ops.reduce((a, o) => a + o.ms, 0);
  expect(booked).toBeGreaterThan(0);
  // The families are those of the median step itself (not means over steps), so they fit inside it exactly.
  expect(booked).toBeLessThanOrEqual(r.msPerStep);
  expect(opsTable([{ ...r, ofPeak: null }])).toMatch(/\| GEMM MLP linear1 fwd \| [\d.]+ \| [\d.]+% \| 2 \|/);
});

test('a backend that queues its work is refused, with the reason', () => {
  expect(() => profileCase({ size: 'tiny', batch: 1, patches: 2, steps: 1, backend: 'webgpu', ops: true }))
    .toThrow(/only means something on a backend that runs ops synchronously/);
});

describe('the bf16 mode profiled (--compute bf16)', () => {
  const cpu = getBackend('cpu') as CpuBackend;
  const tiny = { size: 'tiny', batch: 4, patches: 5, steps: 3, backend: 'cpu', ops: true } as const;
  // FAIRTUNE_COMPUTE may have put the process in bf16 mode: each test starts from fp32 and ends where it began.
  let initial: 'fp32' | 'bf16';
  beforeEach(() => {
    initial = cpu.info().computeMode;
    cpu.setComputeMode('fp32');
  });
  afterEach(() => cpu.setComputeMode(initial));

  test('the step runs with bf16 GEMMs, is booked like the fp32 one, and the mode found is put back', () => {
    if (!cpu.info().bf16Supported) {
      // No bf16 mode on this CPU: refused by the backend, naming the missing instructions, not run as fp32.
      expect(() => profileCase({ ...tiny, compute: 'bf16' })).toThrow(/AVX512_BF16/);
      expect(cpu.info().computeMode).toBe('fp32');
      return;
    }
    // The mode is switched for the case only: a GEMM observed during the step sees bf16, and afterwards fp32.
    const seen: string[] = [];
    const linear = cpu.linear.bind(cpu);
    const spy = jest.spyOn(cpu, 'linear').mockImplementation((...a: Parameters<typeof cpu.linear>) => {
      seen.push(cpu.info().computeMode);
      return linear(...a);
    });
    let r: ReturnType<typeof profileCase>;
    try {
      r = profileCase({ ...tiny, compute: 'bf16' });
    } finally {
      spy.mockRestore();
    }
    expect(r.compute).toBe('bf16');
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['bf16']));
    expect(cpu.info().computeMode).toBe('fp32');
    expect(new Map(r.ops!.map((o) => [o.family, o.calls])).get('GEMM MLP linear1 fwd')).toBe(2);
    expect(opsTable([{ ...r, ofPeak: null }])).toMatch(/^tiny B=4 \(bf16 GEMMs\): /);
    // Without a mode asked for, the case runs in the mode it finds (FAIRTUNE_COMPUTE sets it) and leaves it.
    cpu.setComputeMode('bf16');
    expect(profileCase({ ...tiny, ops: false, steps: 1 }).compute).toBe('bf16');
    expect(cpu.info().computeMode).toBe('bf16');
    // Asked for fp32 from bf16: run in fp32, and bf16 put back.
    expect(profileCase({ ...tiny, ops: false, steps: 1, compute: 'fp32' }).compute).toBe('fp32');
    expect(cpu.info().computeMode).toBe('bf16');
  });

  test('the mode found is put back when the case fails, and the case\'s own error is the one reported (any CPU)', () => {
    // The native switch is replaced by a recorder, so this runs on CPUs without AVX512_BF16 too.
    let mode: 'fp32' | 'bf16' = 'fp32';
    const calls: string[] = [];
    const info = cpu.info.bind(cpu);
    const set = jest.spyOn(cpu, 'setComputeMode').mockImplementation((m) => {
      calls.push(m);
      mode = m;
    });
    const get = jest.spyOn(cpu, 'info').mockImplementation(() => ({ ...info(), computeMode: mode, isa: 'avx512', bf16Supported: true }));
    try {
      // 1b at a batch no machine holds: refused by the memory plan inside the case, after the switch.
      expect(() => profileCase({ size: '1b', batch: 100000, patches: 30, steps: 1, backend: 'cpu', compute: 'bf16' }))
        .toThrow(/1b B=100000 T=30: .*does not fit/);
      expect(calls).toEqual(['bf16', 'fp32']);
      expect(mode).toBe('fp32');
      // A lowered ISA runs the fp32 kernels in bf16 mode: refused before anything runs, naming the ISA.
      get.mockImplementation(() => ({ ...info(), computeMode: mode, isa: 'avx2', bf16Supported: true }));
      expect(() => profileCase({ ...tiny, compute: 'bf16' })).toThrow('profile: the bf16 mode needs the avx512 kernels, but the ISA is lowered to avx2');
      expect(calls).toEqual(['bf16', 'fp32']);
    } finally {
      set.mockRestore();
      get.mockRestore();
    }
  });

  test('a backend without compute modes, and an unknown mode, are refused by name', async () => {
    expect(() => profileCase({ ...tiny, backend: 'reference', compute: 'bf16' }))
      .toThrow("profile: backend 'reference' has no compute modes, so no bf16 (the cpu and cuda backends have them)");
    expect(profileCase({ ...tiny, backend: 'reference', ops: false, steps: 1 }).compute).toBe('fp32');
    expect(() => profileCase({ ...tiny, compute: 'fp16' as never })).toThrow("profile: compute must be one of fp32, bf16, tf32, got 'fp16'");
    // tf32 is a cuda mode: the cpu backend refuses it itself, and the mode stays as it was.
    expect(() => profileCase({ ...tiny, compute: 'tf32' })).toThrow(/tf32/);
    expect(cpu.info().computeMode).toBe('fp32');
    const program = new Command().exitOverride();
    registerProfileCommand(program);
    for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(program.parseAsync(['node', 'fairtune', 'profile', '--sizes', 'tiny', '--compute', 'fp16', '--peak', '1']))
      .rejects.toThrow("--compute must be fp32, bf16 or tf32, got 'fp16'");
  });
});

describe('the step profiled with dropout (--dropout)', () => {
  const tiny = { size: 'tiny', batch: 4, patches: 5, steps: 3, backend: 'cpu', ops: true } as const;

  test('dropout 0.1 books its masks to the dropout family; the default is the dropout-free step', () => {
    const withDropout = profileCase({ ...tiny, dropout: 0.1 });
    expect(withDropout.dropout).toBe(0.1);
    const families = new Map(withDropout.ops!.map((o) => [o.family, o.calls]));
    expect(families.get('dropout')).toBeGreaterThan(0);
    const plain = profileCase(tiny);
    expect(plain.dropout).toBe(0);
    expect(plain.ops!.some((o) => o.family === 'dropout')).toBe(false);
  });

  test('a dropout outside [0, 1) is refused by name, in the case and on the command line', async () => {
    for (const p of [1, -0.1, NaN]) expect(() => profileCase({ ...tiny, dropout: p })).toThrow(`profile: dropout must be a number in [0, 1), got ${p}`);
    const program = new Command().exitOverride();
    registerProfileCommand(program);
    for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(program.parseAsync(['node', 'fairtune', 'profile', '--sizes', 'tiny', '--dropout', 'half', '--peak', '1']))
      .rejects.toThrow("--dropout must be a probability in [0, 1), got 'half'");
  });
});
