import { getBackend, probeBackends } from '../../src/engine/registry';

describe('backend selection', () => {
  it('lists every backend with a reason for each unavailable one', () => {
    const list = probeBackends();
    expect(list.map((b) => b.name).sort()).toEqual(['cpu', 'cuda', 'reference', 'webgpu']);
    for (const b of list) if (!b.available) expect(b.reason).toMatch(new RegExp(`^${b.name} unavailable: .+`));
    expect(list.find((b) => b.name === 'reference')!.available).toBe(true);
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
