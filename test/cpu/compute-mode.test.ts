// The bf16 compute mode of the cpu backend's GEMMs (setComputeMode / FAIRTUNE_COMPUTE): inputs rounded to
// bfloat16, products summed in fp32. Checked against the float64 reference run on the same bf16-rounded
// inputs (so only fp32 accumulation error remains: a tight tolerance catches any packing mistake), against
// the unrounded reference at a bf16-sized tolerance, for thread-count independence, and for leaving fp32
// results untouched when switched back. On a CPU without AVX512_BF16 the mode must be refused.
import { execFileSync } from 'child_process';
import { loadAddon } from '../../src/engine/cpu/addon';
import { hostData } from '../../src/engine/host-storage';
import { cpu, expectClose, pair, randomArray, ref, rng } from './helpers';

const info = cpu.info();
const threads = info.threads;
const loaded = loadAddon();
if (!loaded.ok) throw new Error(loaded.reason);
const addon = loaded.addon;
afterEach(() => {
  addon.setBf16Amx(true);
  cpu.setComputeMode('fp32');
  cpu.setIsa(info.detectedIsa);
  cpu.setThreads(threads);
});

/** fp32 → bf16 → fp32 as vcvtne2ps2bf16 does it: round to nearest even, denormal inputs become zero. */
function roundBf16(a: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  const u = new Uint32Array(out.buffer);
  const src = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) {
    const v = src[i];
    if ((v & 0x7f800000) === 0) u[i] = v & 0x80000000;
    else if ((v & 0x7fffffff) > 0x7f800000) u[i] = (v | 0x00400000) & 0xffff0000;
    else u[i] = ((v + 0x7fff + ((v >>> 16) & 1)) >>> 16) << 16;
  }
  return out;
}

test('info reports the mode, bad modes are refused', () => {
  expect(info.computeMode).toBe('fp32');
  expect(typeof info.bf16Supported).toBe('boolean');
  expect(['amx', 'avx512bf16', 'none']).toContain(info.bf16Kernel);
  expect(info.bf16Kernel === 'none').toBe(!info.bf16Supported);
  expect(() => cpu.setComputeMode('fp16' as never)).toThrow(/mode must be 'fp32' or 'bf16'/);
  expect(() => addon.setComputeMode('half' as never)).toThrow(/compute mode must be 'fp32' or 'bf16', got 'half'/);
  expect(() => addon.setBf16Amx(1 as never)).toThrow(/'allow' must be a boolean/);
});

const bf16 = info.bf16Supported;

(bf16 ? test.skip : test)('bf16 is refused on a CPU without AVX512_BF16', () => {
  expect(() => cpu.setComputeMode('bf16')).toThrow(/AVX512_BF16/);
});

/** The bf16 kernels this machine runs: AMX tiles when present, and always the AVX512_BF16 dot products. */
const bf16Kernels: ('amx' | 'avx512bf16')[] = !bf16 ? [] : info.bf16Kernel === 'amx' ? ['amx', 'avx512bf16'] : ['avx512bf16'];

(bf16 ? describe : describe.skip)('bf16 kernel selection', () => {
  test('setBf16Amx(false) switches the bf16 mode to AVX512_BF16 dot products', () => {
    addon.setBf16Amx(false);
    expect(cpu.info().bf16Kernel).toBe('avx512bf16');
    addon.setBf16Amx(true);
    expect(cpu.info().bf16Kernel).toBe(info.bf16Kernel);
  });
});

// jest refuses an empty table (a CPU without AVX512_BF16 has no bf16 kernel): the block is then skipped, named.
(bf16Kernels.length ? describe : describe.skip).each(bf16Kernels.length ? bf16Kernels : ['none'])('bf16 GEMMs on %s', (kernel) => {
  beforeEach(() => {
    addon.setBf16Amx(kernel === 'amx');
    expect(cpu.info().bf16Kernel).toBe(kernel);
  });

  test.each([
    [1, 1, 1], [7, 13, 17], [31, 33, 65], [5, 300, 3], [97, 129, 33], [130, 40, 600], [64, 512, 96], [40, 1100, 70],
  ])('linear forward and backward N=%i K=%i M=%i match the reference on bf16-rounded inputs', (N, K, M) => {
    const rand = rng(N * 7919 + K * 31 + M);
    const xa = randomArray(N * K, rand), wa = randomArray(M * K, rand), ba = randomArray(M, rand), dya = randomArray(N * M, rand);
    cpu.setComputeMode('bf16');
    expect(cpu.info().computeMode).toBe('bf16');
    expect(cpu.description).toContain('bf16 GEMMs on');
    const x = pair([N, K], xa), w = pair([M, K], wa), b = pair([M], ba), dy = pair([N, M], dya);
    const y = pair([N, M], new Float32Array(N * M).fill(3));
    cpu.linear(x.c, w.c, b.c, y.c);
    const dx = pair([N, K], randomArray(N * K, rand)), dw = pair([M, K], randomArray(M * K, rand)), db = pair([M], randomArray(M, rand));
    cpu.linearBackward(dy.c, x.c, w.c, dx.c, dw.c, db.c);

    // Oracle on the rounded inputs (float64): only the fp32 accumulation of the bf16 path differs.
    const xr = ref.tensor([N, K], roundBf16(xa)), wr = ref.tensor([M, K], roundBf16(wa)), dyr = ref.tensor([N, M], roundBf16(dya));
    ref.linear(xr, wr, b.r, y.r);
    expectClose(y.c, y.r, 'y (bf16 inputs)', 2e-5);
    ref.linearBackward(dyr, xr, wr, dx.r, dw.r, null);
    ref.linearBackward(dy.r, x.r, w.r, null, null, db.r);  // the bias gradient is a plain fp32 column sum
    expectClose(dx.c, dx.r, 'dx (bf16 inputs)', 2e-5);
    expectClose(dw.c, dw.r, 'dw (bf16 inputs)', 2e-5);
    expectClose(db.c, db.r, 'db', 1e-4);

    // Against the exact product: bf16 has an 8-bit mantissa (relative rounding 2^-9 per input).
    const yExact = ref.tensor([N, M]);
    ref.linear(x.r, w.r, b.r, yExact);
    expectClose(y.c, yExact, 'y vs fp32 reference', 2e-2);
  });

  test('NaN and infinity propagate through the bf16 packing', () => {
    const N = 20, K = 40, M = 33;
    const xa = randomArray(N * K, rng(3)), wa = randomArray(M * K, rng(4));
    xa[5 * K + 7] = NaN;
    wa[2 * K + 9] = Infinity;
    cpu.setComputeMode('bf16');
    const y = cpu.tensor([N, M]);
    cpu.linear(cpu.tensor([N, K], xa), cpu.tensor([M, K], wa), null, y);
    const yd = hostData(y);
    for (let j = 0; j < M; j++) expect(Number.isNaN(yd[5 * M + j])).toBe(true);
    expect(Number.isFinite(yd[0 * M + 2])).toBe(false);
    expect(Number.isFinite(yd[1 * M + 3])).toBe(true);
  });

  test('results do not depend on the thread count, and fp32 mode is unchanged afterwards', () => {
    const N = 150, K = 260, M = 300, rand = rng(11);
    const x = cpu.tensor([N, K], randomArray(N * K, rand)), w = cpu.tensor([M, K], randomArray(M * K, rand));
    const dy = cpu.tensor([N, M], randomArray(N * M, rand));
    const run = (): Float32Array[] => {
      const y = cpu.tensor([N, M]), dx = cpu.tensor([N, K]), dw = cpu.tensor([M, K]);
      cpu.linear(x, w, null, y);
      cpu.linearBackward(dy, x, w, dx, dw, null);
      return [y, dx, dw].map((t) => hostData(t).slice());
    };
    const fp32Before = run();
    cpu.setComputeMode('bf16');
    cpu.setThreads(1);
    const one = run();
    cpu.setThreads(2);
    const two = run();
    one.forEach((a, i) => expect(Buffer.from(two[i].buffer).equals(Buffer.from(a.buffer))).toBe(true));
    expect(Buffer.from(one[0].buffer).equals(Buffer.from(fp32Before[0].buffer))).toBe(false);
    cpu.setComputeMode('fp32');
    const fp32After = run();
    fp32After.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(fp32Before[i].buffer))).toBe(true));
  });

  test('with the ISA lowered to avx2 the fp32 kernels run whatever the mode', () => {
    const N = 40, K = 50, M = 60, rand = rng(12);
    const x = cpu.tensor([N, K], randomArray(N * K, rand)), w = cpu.tensor([M, K], randomArray(M * K, rand));
    cpu.setIsa('avx2');
    const y32 = cpu.tensor([N, M]), y16 = cpu.tensor([N, M]);
    cpu.linear(x, w, null, y32);
    cpu.setComputeMode('bf16');
    cpu.linear(x, w, null, y16);
    expect(Buffer.from(cpu.download(y16).buffer).equals(Buffer.from(cpu.download(y32).buffer))).toBe(true);
  });

  test('FAIRTUNE_COMPUTE selects the mode at load; a bad value fails the load with a message', () => {
    const show = `const a = require(${JSON.stringify(loaded.path)}); process.stdout.write(JSON.stringify(a.info()))`;
    const child = (value: string): string => {
      try {
        return execFileSync(process.execPath, ['-e', show], { env: { ...process.env, FAIRTUNE_COMPUTE: value }, encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        return String((e as { stderr?: string }).stderr);
      }
    };
    expect(JSON.parse(child('bf16'))).toMatchObject({ computeMode: 'bf16' });
    expect(child('fp8')).toMatch(/FAIRTUNE_COMPUTE: compute mode must be 'fp32' or 'bf16', got 'fp8'/);
  });
});
