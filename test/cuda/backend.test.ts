// The CUDA backends as the engine sees them: registry names, the real `cuda` backend reporting the
// runtime's reason when it cannot run (no addon, or no driver), the cpu backend unaffected, argument
// errors (TypeScript and native), memory ops on device views, and the thread schedule not changing results.
import { getBackend, isBackendName, probeBackends } from '../../src/engine/registry';
import { CudaBackend } from '../../src/engine/cuda/backend';
import { loadCudaAddon } from '../../src/engine/cuda/addon';
import type { NativeOpFunction } from '../../src/engine/ops/native-layout';
import { CpuBackend } from '../../src/engine/cpu/backend';
import { emu, expectClose, pair, rand2, randomArray, ref, rng, zeros2 } from './helpers';

jest.setTimeout(120000);

describe('registry and availability', () => {
  test('cuda-emu is a backend name but never chosen automatically', () => {
    expect(isBackendName('cuda-emu')).toBe(true);
    expect(probeBackends().map((p) => p.name)).not.toContain('cuda-emu');
    expect(getBackend('cuda-emu').name).toBe('cuda-emu');
    expect(getBackend(undefined).name).not.toBe('cuda-emu');
  });

  test('cuda reports itself unavailable with the reason (no addon built, or the runtime finds no driver)', () => {
    const load = loadCudaAddon('cuda');
    let reason = '';
    try {
      new CudaBackend('cuda');
    } catch (e) {
      reason = (e as Error).message;
    }
    if (!load.ok) {
      expect(reason).toMatch(/^cuda unavailable: fairtune_cuda\.node not available/);
    } else if (!load.addon.info().available) {
      // Static cudart without a driver: cudaGetDeviceCount fails and its message is passed on.
      expect(reason).toMatch(/^cuda unavailable: cudaGetDeviceCount failed: .+ \(error \d+\)/);
    } else {
      expect(reason).toBe('');
    }
    const probe = probeBackends().find((p) => p.name === 'cuda');
    expect(probe?.available).toBe(reason === '');
  });

  test('the cpu backend works whether or not CUDA is present', () => {
    const cpu = new CpuBackend();
    const x = cpu.tensor([2, 3], [1, 2, 3, 4, 5, 6]), w = cpu.tensor([1, 3], [1, 1, 1]), y = cpu.tensor([2, 1]);
    cpu.linear(x, w, null, y);
    expect(Array.from(cpu.download(y))).toEqual([6, 15]);
  });
});

describe('device memory and argument checks', () => {
  test('upload, download, views, slices, copy, zero, dispose', () => {
    const t = emu.tensor([3, 2], [1, 2, 3, 4, 5, 6]);
    expect(Array.from(emu.download(emu.slice0(t, 1, 2)))).toEqual([3, 4, 5, 6]);
    const u = emu.tensor([6]);
    emu.copy(emu.view(t, [6]), u);
    emu.zero(emu.slice0(t, 0, 1));
    expect(Array.from(emu.download(t))).toEqual([0, 0, 3, 4, 5, 6]);
    expect(Array.from(emu.download(u))).toEqual([1, 2, 3, 4, 5, 6]);
    const before = emu.stats().liveBytes;
    emu.dispose(u);
    expect(emu.stats().liveBytes).toBe(before - 24);
    expect(() => emu.download(u)).toThrow(/disposed/);
  });

  test('TypeScript-side shape errors name the op and the argument', () => {
    const x = emu.tensor([2, 3]), w = emu.tensor([4, 5]), y = emu.tensor([2, 4]);
    expect(() => emu.linear(x, w, null, y)).toThrow(/linear: .*w \[4, 5\] disagrees with x\[2, 3\] on K/);
    const q = emu.tensor([1, 3, 12]);
    expect(() => emu.ropeAttention(q, q, q, 5, emu.tensor([1, 3, 12]), emu.tensor([1, 5, 3]))).toThrow(/not divisible by heads/);
  });

  test('native checks refuse bad views and freed buffers; a bad group id is guarded in the kernels without a device read', () => {
    const r = loadCudaAddon('cuda-emu');
    if (!r.ok) throw new Error(r.reason);
    const a = r.addon;
    // Op functions take the op table's native layout: tensors and scalars in method order, then the dims.
    const op = (name: string, ...args: unknown[]) => () => (a[name] as NativeOpFunction)(...args);
    const buf = a.alloc(8);
    const v = (offset: number, length: number) => ({ buf, offset, length });
    expect(op('linear', v(0, 6), v(0, 6), null, v(0, 4), 0, 0, 0, 0, 0, null, 2, 3, 2)).toThrow(/output 'y' must not share memory with 'x'/);
    // The residual is read while y is written (over several blocks of the contraction): never y's storage.
    const lx = a.alloc(6), lw = a.alloc(6), ly = a.alloc(4);
    const whole = (b: ReturnType<typeof a.alloc>, n: number) => ({ buf: b, offset: 0, length: n });
    expect(op('linear', whole(lx, 6), whole(lw, 6), null, whole(ly, 4), 0, 0, 0, 0, 0, whole(ly, 4), 2, 3, 2))
      .toThrow(/output 'y' must not share memory with 'residual'/);
    expect(op('relu', v(4, 8), v(0, 8), 8)).toThrow(/exceeds its buffer of 8 floats/);
    expect(op('relu', { buf: {} as never, offset: 0, length: 1 }, v(0, 1), 1)).toThrow(/not a device buffer/);
    const g = a.alloc(2);
    a.upload({ buf: g, offset: 0, length: 2 }, Float32Array.from([0, 3]));
    const one = (b: ReturnType<typeof a.alloc>, n: number) => ({ buf: b, offset: 0, length: n });
    const out = a.alloc(4), hr = a.alloc(2), w = a.alloc(2), p1 = a.alloc(2), p2 = a.alloc(2), l = a.alloc(1), gs = a.alloc(2), gc = a.alloc(2);
    a.upload(one(w, 2), Float32Array.from([1, 1]));
    // Group ids are the table's TypeScript check (on the host shadow); natively, the kernels guard each id
    // rather than read the ids back (a blocking copy per op). hrLoss only compares ids: sample 1 is in no group.
    op('hrLoss', one(out, 4), one(hr, 2), one(w, 2), one(g, 2), 1, 0.1, one(p1, 2), one(p2, 2), one(l, 1), one(gs, 2), one(gc, 2), 2, 2)();
    const host = (b: ReturnType<typeof a.alloc>, n: number) => { const o = new Float32Array(n); a.download(one(b, n), o); return Array.from(o); };
    expect(host(gc, 2)).toEqual([1, 0]);
    // GroupDRO indexes q and the counts by id: the out-of-range id writes no stray value, its weight is NaN.
    const q = a.alloc(2);
    a.upload(one(q, 2), Float32Array.from([0.5, 0.5]));
    a.upload(one(gc, 2), Float32Array.from([1, 1]));
    op('groupDroUpdate', one(q, 2), one(gs, 2), one(gc, 2), 0.1, one(g, 2), one(w, 2), 2, 2)();
    const wv = host(w, 2);
    expect(Number.isFinite(wv[0]) && Number.isNaN(wv[1])).toBe(true);
    a.upload(one(g, 2), Float32Array.from([0.5, -1]));
    op('groupLossReweight', one(gs, 2), one(gc, 2), 0.1, one(g, 2), one(q, 2), one(w, 2), 2, 2)();
    expect(host(w, 2).every(Number.isNaN)).toBe(true);
    a.free(g);
    expect(op('relu', one(g, 2), one(p1, 2), 2)).toThrow(/freed device buffer/);
    expect(op('ropeAttention', v(0, 8), v(0, 8), v(0, 8), v(0, 8), v(0, 1), 0, 0, 0, 0, null, 1, 1, 8, 1)).toThrow(/output 'out' must not share memory with 'q'/);
    expect(op('ropeAttention', v(0, 6), v(0, 6), v(0, 6), v(0, 6), v(0, 1), 0, 0, 0, 0, null, 1, 1, 6, 1)).toThrow(/head dim d = D\/heads = 6\/1 = 6 must be a multiple of 4/);
  });

  test('attention with a head dim above the kernels\' limit is refused with the limit named', () => {
    const q = emu.tensor([1, 2, 256]);
    expect(() => emu.ropeAttention(q, emu.tensor([1, 2, 256]), emu.tensor([1, 2, 256]), 1, emu.tensor([1, 2, 256]), emu.tensor([1, 1, 2])))
      .toThrow(/head dim D\/H = 256 exceeds 128, the largest the CUDA attention kernels are built for/);
  });
});

describe('thread schedules', () => {
  afterAll(() => emu.setSchedule('forward', 1));

  test.each(['reverse', 'shuffle', 'eager'] as const)('attention and norms agree with the reference under the %s order', (order) => {
    emu.setSchedule(order, 11);
    const rand = rng(order.length);
    const [B, S, D, H] = [1, 37, 24, 2];
    const q = rand2([B, S, D], rand), k = rand2([B, S, D], rand), v = rand2([B, S, D], rand);
    const out = zeros2([B, S, D]), lse = zeros2([B, H, S]);
    emu.ropeAttention(q.c, k.c, v.c, H, out.c, lse.c);
    // The reference is imported through the helpers' pair; compute it on the same data.
    const { ref } = require('./helpers') as typeof import('./helpers');
    ref.ropeAttention(q.r, k.r, v.r, H, out.r, lse.r);
    expectClose(out.c, out.r, 'out', 2e-4);
    const x = rand2([5, 70], rand), s = pair([70], new Float32Array(70).fill(1.5)), y = zeros2([5, 70]), r = zeros2([5]);
    emu.rmsNorm(x.c, s.c, 1e-8, y.c, r.c);
    ref.rmsNorm(x.r, s.r, 1e-8, y.r, r.r);
    expectClose(y.c, y.r, 'rmsNorm y');
  });

  test('the real device refuses a schedule', () => {
    const load = loadCudaAddon('cuda');
    if (load.ok) expect(() => load.addon.setSchedule('reverse', 1)).toThrow(/only be set on the emulated device/);
  });
});

describe('tensor-core compute modes (bf16, tf32: GEMMs on emulated mma.sync)', () => {
  /** x rounded to bf16 (nearest, ties to even), as the kernel rounds its operands on the way into shared memory. */
  function bf16(x: Float32Array): Float32Array {
    const out = new Float32Array(x), u = new Uint32Array(out.buffer);
    for (let i = 0; i < u.length; i++) u[i] = (((u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16) << 16) >>> 0;
    return out;
  }
  /** x rounded to tf32 (nearest, ties away from zero: cvt.rna.tf32.f32); all values here are finite. */
  function tf32(x: Float32Array): Float32Array {
    const out = new Float32Array(x), u = new Uint32Array(out.buffer);
    for (let i = 0; i < u.length; i++) u[i] = ((u[i] + 0x1000) & 0xffffe000) >>> 0;
    return out;
  }

  afterEach(() => emu.setComputeMode('fp32'));

  test.each([
    ['bf16', bf16],
    ['tf32', tf32],
  ] as const)('%s: linear forward and backward match the reference on rounded operands; fp32 mode does not round', (mode, round) => {
    const rand = rng(77);
    const N = 37, K = 70, M = 45;
    const xs = randomArray(N * K, rand), ws = randomArray(M * K, rand), bs = randomArray(M, rand), dys = randomArray(N * M, rand);
    expect(emu.computeMode).toBe('fp32');
    emu.setComputeMode(mode);
    expect(emu.computeMode).toBe(mode);
    const x = emu.tensor([N, K], xs), w = emu.tensor([M, K], ws), b = emu.tensor([M], bs), y = emu.tensor([N, M]);
    const dy = emu.tensor([N, M], dys), dx = emu.tensor([N, K]), dw = emu.tensor([M, K]);
    emu.linear(x, w, b, y);
    emu.linearBackward(dy, x, w, dx, dw, null, true);
    const rx = ref.tensor([N, K], round(xs)), rw = ref.tensor([M, K], round(ws)), rb = ref.tensor([M], bs), ry = ref.tensor([N, M]);
    const rdy = ref.tensor([N, M], round(dys)), rdx = ref.tensor([N, K]), rdw = ref.tensor([M, K]);
    ref.linear(rx, rw, rb, ry);
    ref.linearBackward(rdy, rx, rw, rdx, rdw, null, true);
    expectClose(y, ry, `${mode} linear forward`, 1e-5);
    expectClose(dx, rdx, `${mode} linear dx`, 1e-5);
    expectClose(dw, rdw, `${mode} linear dW`, 1e-5);
    // The same product in fp32 mode is the unrounded one: the modes really differ (the check can fail).
    emu.setComputeMode('fp32');
    const y32 = emu.tensor([N, M]);
    emu.linear(x, w, b, y32);
    const exact = ref.tensor([N, M]);
    ref.linear(ref.tensor([N, K], xs), ref.tensor([M, K], ws), rb, exact);
    expectClose(y32, exact, 'fp32 linear forward', 1e-5);
    const diff = Math.max(...Array.from(emu.download(y32)).map((v, i) => Math.abs(v - emu.download(y)[i])));
    // bf16 moves the product by ~1e-2, tf32 (4× finer per operand) by ~1e-3.
    expect(diff).toBeGreaterThan(mode === 'bf16' ? 1e-3 : 1e-4);
  });

  test('an unknown mode is refused with the accepted ones named', () => {
    expect(() => emu.setComputeMode('fp16' as never)).toThrow(/setComputeMode: argument 1 'mode' must be 'fp32', 'bf16' or 'tf32', got 'fp16'/);
    expect(emu.computeMode).toBe('fp32');
  });
});

describe('host shadows: value checks without device round trips', () => {
  const opts = { lambda: 0.5, eps: 1e-3, groups: 2 };
  function batch(B: number) {
    const out = emu.tensor([B, 2], Float32Array.from({ length: 2 * B }, (_, i) => (i % 5) / 5 - 0.4));
    const hr = emu.tensor([B], Float32Array.from({ length: B }, (_, i) => 60 + i));
    const w = emu.tensor([B], new Float32Array(B).fill(1 / B));
    const group = emu.tensor([B], Float32Array.from({ length: B }, (_, i) => i % 2));
    const res = { pred: emu.tensor([B]), ell: emu.tensor([B]), loss: emu.tensor([1]), gs: emu.tensor([2]), gc: emu.tensor([2]) };
    return { out, hr, w, group, ...res };
  }

  test('hrLoss on uploaded labels, weights and group ids reads nothing back; their values are still checked', () => {
    const b = batch(8);
    const reads = emu.stats().hostReads ?? -1;
    emu.hrLoss(b.out, b.hr, b.w, b.group, opts, b.pred, b.ell, b.loss, b.gs, b.gc);
    emu.hrLossBackward(b.out, b.hr, b.w, opts, emu.tensor([8, 2]), 1);
    expect(emu.stats().hostReads).toBe(reads);
    // A re-upload with an out-of-range group id is caught from the shadow, still without a read.
    emu.upload(b.group, Float32Array.from([0, 1, 0, 1, 0, 1, 0, 2]));
    expect(() => emu.hrLoss(b.out, b.hr, b.w, b.group, opts, b.pred, b.ell, b.loss, b.gs, b.gc)).toThrow(/group/);
    expect(emu.stats().hostReads).toBe(reads);
  });

  test('a tensor a kernel wrote is checked on the device without a read, and a bad value is reported with the next read', () => {
    const b = batch(4);
    // The weights come out of a kernel: scale them by −1 on the device (negative weights are refused).
    emu.scale(b.w, -1);
    const reads = emu.stats().hostReads ?? -1;
    emu.hrLoss(b.out, b.hr, b.w, b.group, opts, b.pred, b.ell, b.loss, b.gs, b.gc);
    expect(emu.stats().hostReads).toBe(reads);
    // The verdict travels with the next download, in the same round trip.
    expect(() => emu.download(b.loss)).toThrow(/^hrLoss: w\[0\] = -0.25 must be a finite value in \[0, Infinity\] \(checked on the device/);
    expect(emu.stats().hostReads).toBe(reads + 1);
    // Reported once: the flags were cleared with that read.
    expect(() => emu.download(b.loss)).not.toThrow();
    // copy() between shadowed buffers keeps the destination's shadow right: checked on the host again.
    const good = emu.tensor([4], new Float32Array(4).fill(0.25));
    emu.copy(good, b.w);
    const before = emu.stats().hostReads ?? -1;
    emu.hrLoss(b.out, b.hr, b.w, b.group, opts, b.pred, b.ell, b.loss, b.gs, b.gc);
    expect(emu.stats().hostReads).toBe(before);
    expect(Array.from(emu.download(b.gc))).toEqual([2, 2]);
  });

  test('device checks of every rule give the host check\'s message; more checks than slots are read on their own', () => {
    const kernelWritten = (values: number[], shape = [values.length]) => {
      const t = emu.tensor(shape);
      emu.add(emu.tensor(shape, values), emu.tensor(shape), t);
      return t;
    };
    const b = batch(2);
    const cases: [() => void, RegExp][] = [
      [() => emu.hrLoss(b.out, kernelWritten([60, NaN]), b.w, b.group, opts, b.pred, b.ell, b.loss, b.gs, b.gc), /hrLoss: hr\[1\] = NaN must be finite/],
      [() => emu.hrLoss(b.out, b.hr, b.w, kernelWritten([0, 2]), opts, b.pred, b.ell, b.loss, b.gs, b.gc), /hrLoss: group\[1\] = 2 is not an integer group id in \[0, 2\)/],
      [() => emu.bceWithLogits(emu.tensor([1, 2]), kernelWritten([0, 1.5], [1, 2]), b.loss), /bceWithLogits: targets\[1\] = 1.5 must be a finite value in \[0, 1\]/],
      [() => emu.groupDroUpdate(emu.tensor([2], [0.5, 0.5]), b.gs, kernelWritten([1, 0.5]), 0.1, b.group, b.w), /groupDroUpdate: groupCount\[1\] = 0.5 is not a non-negative integer/],
      [() => emu.groupDroUpdate(emu.tensor([2], [0.5, 0.5]), b.gs, kernelWritten([1, 0]), 0.1, b.group, b.w), /groupDroUpdate: group\[1\] = 1 but groupCount\[1\] is 0/],
    ];
    for (const [call, message] of cases) {
      call();
      expect(() => emu.download(b.loss)).toThrow(message);
    }
    // 300 passing checks (more than the 256 slots): the flags are read on their own once, nothing is raised.
    const w = kernelWritten([0.5, 0.5]);
    const reads = emu.stats().hostReads ?? -1;
    for (let i = 0; i < 300; i++) emu.hrLossBackward(b.out, b.hr, w, opts, emu.tensor([2, 2]), 1);
    expect(emu.stats().hostReads).toBe(reads + 1);
    expect(() => emu.download(b.loss)).not.toThrow();
  });
});
