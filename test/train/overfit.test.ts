import { getBackend } from '../../src/engine/registry';
import { overfitDemo } from '../../src/train/overfit';

describe.each(['cpu', 'reference'])('training on %s', (name) => {
  it('overfits a handful of windows: MAE falls by 10× or more', () => {
    const hist = overfitDemo(getBackend(name), { windows: 6, steps: 150, seed: 1 });
    const first = hist[0].mae, last = hist[hist.length - 1].mae;
    expect(first).toBeGreaterThan(5);
    expect(last).toBeLessThan(first / 10);
  }, 240000);
});

describe('training with dropout', () => {
  it('still converges on cpu (masks change every step)', () => {
    const hist = overfitDemo(getBackend('cpu'), { windows: 6, steps: 150, seed: 2, dropout: 0.1 });
    expect(hist[hist.length - 1].mae).toBeLessThan(hist[0].mae / 4);
  }, 120000);
});
