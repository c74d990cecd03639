// The scaling profile on the tiny model (reference backend, one step, in process): the figures hang
// together, and a case that does not fit the memory budget is refused with its plan.
import { modelConfig } from '../../src/model/config';
import { stepFlops } from '../../src/profile/flops';
import { planCase, profileCase } from '../../src/profile/profile';
import { profileChartSpec, profileTable } from '../../src/profile/report';

describe('profile', () => {
  it('runs a real step of the tiny model and reports consistent figures', () => {
    const r = profileCase({ size: 'tiny', batch: 2, patches: 10, steps: 1, backend: 'reference' });
    expect(r.params).toBe(r.plan.params);
    expect(r.flops.total).toBe(stepFlops(modelConfig('tiny', { hrPatches: 10 }), 2, 10).total);
    expect(r.stepMs).toHaveLength(1);
    expect(r.windowsPerSecond).toBeCloseTo(2000 / r.msPerStep, 6);
    expect(r.gflops).toBeCloseTo(r.flops.total / r.msPerStep / 1e6, 6);
    if (r.peakRssBytes !== null) expect(r.peakRssBytes).toBeGreaterThan(r.plan.totalBytes);
    const table = profileTable([{ ...r, ofPeak: null }]);
    expect(r.compute).toBe('fp32');
    expect(table).toMatch(/\| tiny \| 2 \| fp32 \| 0\.\d+M \|/);
    expect(JSON.stringify(profileChartSpec([{ ...r, ofPeak: null }]))).toContain('"params"');
  });

  it('refuses a case that does not fit, naming the plan', () => {
    expect(() => planCase({ size: '19m', batch: 32, patches: 30, steps: 1, backend: 'reference' }, 64 * 1024 ** 2))
      .toThrow(/19m B=32 T=30: .*parameters.*does not fit/);
  });
});
