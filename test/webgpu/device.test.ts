// What is particular to the webgpu backend (the op-by-op comparison with the reference is the conformance
// suite, test/conformance): GELU's erf over its whole range, memory operations within one buffer, a long
// queue of ops without a sync, tensors of another backend, and the device's lifecycle.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { hostData } from '../../src/engine/host-storage';
import { getBackend } from '../../src/engine/registry';
import { WebGpuBackend } from '../../src/engine/webgpu/backend';
import { ROOT, requireDist } from '../helpers/dist';
import { expectClose, mismatch, pair, ref, useWebGpu } from './helpers';

const gpu = useWebGpu();

describe('webgpu device', () => {
  test('gelu follows the exact erf form to float32 precision over [-10, 10]', () => {
    const g = gpu(), n = 4001;
    const xs = Float32Array.from({ length: n }, (_, i) => -10 + (20 * i) / (n - 1));
    const x = pair(g, [n], xs), y = pair(g, [n], new Float32Array(n));
    g.gelu(x.g, y.g);
    ref.gelu(x.r, y.r);
    const got = g.download(y.g), want = hostData(y.r);
    let worst = 0;
    // GELU(x)/x = Φ(x): compare Φ, whose error is erf's error over 2.
    for (let i = 0; i < n; i++) if (xs[i] !== 0) worst = Math.max(worst, Math.abs(got[i] / xs[i] - want[i] / xs[i]));
    expect(worst).toBeLessThan(1e-6);
  });

  test('zero, copy (also within one buffer), upload into a slice, stats', () => {
    const g = gpu();
    const before = g.stats();
    const t = g.tensor([4, 3], Float32Array.from({ length: 12 }, (_, i) => i + 1));
    expect(g.stats().allocations).toBe(before.allocations + 1);
    expect(g.stats().liveBytes).toBe(before.liveBytes + 48);
    g.copy(g.slice0(t, 0, 2), g.slice0(t, 2, 2));
    expect(Array.from(g.download(t))).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
    g.copy(g.slice0(t, 1, 2), g.slice0(t, 2, 2));
    expect(Array.from(g.download(t))).toEqual([1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3]);
    g.zero(g.slice0(t, 1, 1));
    g.upload(g.slice0(t, 3, 1), new Float32Array([9, 8, 7]));
    expect(Array.from(g.download(g.slice0(t, 1, 3)))).toEqual([0, 0, 0, 4, 5, 6, 9, 8, 7]);
    g.dispose(t);
    expect(g.stats().liveBytes).toBe(before.liveBytes);
    expect(() => g.download(t)).toThrow(/has been disposed/);
  });

  test('thousands of queued ops without a sync (batches split on the command and uniform limits) run in order', () => {
    const g = gpu(), n = 37;
    const a = g.tensor([n], Float32Array.from({ length: n }, (_, i) => i - 10)), y = g.tensor([n]);
    for (let k = 0; k < 3000; k++) g.accumulate(a, y, k % 2 === 0 ? 1 : -0.5);
    const got = g.download(y);
    for (let i = 0; i < n; i++) expect(got[i]).toBe((i - 10) * 750);
  });

  test('the comparison helper reports a wrong value', () => {
    const want = new Float32Array([1, 2, 3]);
    expect(mismatch(new Float32Array([1, 2, 3]), want)).toBeNull();
    expect(mismatch(new Float32Array([1, 2.01, 3]), want)).toMatch(/element 1 of 3 differs/);
  });
  test('tensors of another backend are refused', () => {
    expect(() => gpu().relu(ref.tensor([2]), gpu().tensor([2]))).toThrow(/lives on backend 'reference', not 'webgpu'/);
  });
});

describe('webgpu lifecycle', () => {
  test('the registry constructs it by name, synchronously', () => {
    const be = getBackend('webgpu');
    expect(be).toBeInstanceOf(WebGpuBackend);
    const x = be.tensor([3], [-1, 2, -3]), y = be.tensor([3]);
    be.relu(x, y);
    expect(Array.from(be.download(y))).toEqual([0, 2, 0]);
  });

  test('after destroy() every use throws', () => {
    const be = new WebGpuBackend();
    const x = be.tensor([2], [1, 2]);
    be.destroy();
    expect(be.destroyed).toBe(true);
    expect(() => be.download(x)).toThrow(/shut down/);
    expect(() => be.tensor([1])).toThrow(/shut down/);
    be.destroy();
  });

  test('two devices, the first destroyed while the second lives, then both: the process still exits cleanly', () => {
    // A worker thread that ended while another device worker existed made the process die with SIGSEGV (or
    // SIGABRT) at exit, about 3 runs in 4.
    requireDist(['src/engine']);
    const backend = path.join(ROOT, 'dist', 'src', 'engine', 'webgpu', 'backend.js');
    const script = `const { WebGpuBackend } = require(${JSON.stringify(backend)});
      const a = new WebGpuBackend(), b = new WebGpuBackend();
      const sum = a.download(a.tensor([1], [1]))[0] + b.download(b.tensor([1], [2]))[0];
      a.destroy();
      console.log('sum ' + sum + ' ' + b.download(b.tensor([1], [5]))[0]);
      if (process.argv[1] === 'both') b.destroy();`;
    // A race at exit: five runs each way.
    for (let run = 0; run < 10; run++) {
      const r = spawnSync(process.execPath, ['-e', script, run % 2 === 0 ? 'one' : 'both'], { encoding: 'utf8', timeout: 120_000 });
      expect({ status: r.status, signal: r.signal, stdout: r.stdout.trim() }).toEqual({ status: 0, signal: null, stdout: 'sum 3 5' });
    }
  });

  test('a WGSL kernel that fails on the device surfaces as an error at the next sync', () => {
    const be = new WebGpuBackend();
    try {
      // A GEMM tile too large for the device's workgroup limits is rejected by Dawn at pipeline creation.
      const runner = (be as unknown as { runner: { run: (...a: unknown[]) => void } }).runner;
      const { K } = require('../../src/engine/webgpu/kernels') as typeof import('../../src/engine/webgpu/kernels');
      const a = be.tensor([4, 4]);
      runner.run(K.relu, { x: a, y: a }, { n: 16 }, [1, 1, 1], { WG: 4096 });
      expect(() => be.synchronize()).toThrow(/webgpu device error/);
    } finally {
      be.destroy();
    }
  });
});
