import { getBackend, probeBackends } from '../../src/engine/registry';

describe('backend selection', () => {
  it('lists every backend with a reason for each unavailable one', () => {
    const list = probeBackends();
    expect(list.map((b) => b.name).sort()).toEqual(['cpu', 'cuda', 'reference', 'webgpu']);
    for (const b of list) if (!b.available) expect(b.reason).toMatch(new RegExp(`^${b.name} unavailable: .+`));
    expect(list.find((b) => b.name === 'reference')!.available).toBe(true);
  });

  it('says what each backend that runs runs on: the cpu ISA, threads and bf16 support; the webgpu adapter', () => {
    const list = probeBackends();
    const cpu = list.find((b) => b.name === 'cpu')!;
    expect(cpu.description).toMatch(/native C\+\+ kernels, (avx512|avx2|scalar), \d+ threads?, (fp32 \(bf16 mode available: (AMX|AVX512_BF16)|fp32 \(no bf16 mode)/);
    const gpu = list.find((b) => b.name === 'webgpu')!;
    if (gpu.available) {
      expect(gpu.description).toMatch(/WGSL kernels on Dawn/);
      // On these machines the adapter is Mesa's llvmpipe, and the listing must not pass it off as a GPU.
      if (/llvmpipe/.test(gpu.description!)) expect(gpu.description).toContain('a CPU rasteriser, not a GPU');
    }
    for (const b of list) if (b.available) expect(b.description).toBeTruthy();
  });

  it('picks the native cpu backend by default on this machine', () => {
    const saved = process.env.FAIRTUNE_BACKEND;
    delete process.env.FAIRTUNE_BACKEND;
    try {
      expect(getBackend().name).toBe('cpu');
    } finally {
      if (saved !== undefined) process.env.FAIRTUNE_BACKEND = saved;
    }
  });

  it('honours an explicit name and rejects unknown or unavailable ones', () => {
    expect(getBackend('reference').name).toBe('reference');
    expect(() => getBackend('tpu')).toThrow(/unknown backend 'tpu'/);
    expect(() => getBackend('cuda')).toThrow(/cuda unavailable/);
  });
});
