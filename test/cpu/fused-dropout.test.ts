// The ops that take a dropout in their own pass must give what the dropout op and the plain op give in
// sequence, bit for bit: linear's (in place over the product) on every ISA path, in both compute modes and at
// one thread and two; add's (y = a + dropout(b), the residual after a dropped branch) on every ISA path, with y
// a third tensor, a or b; linear's residual likewise against the product then the add.
import { hostData } from '../../src/engine/host-storage';
import { cpu, isaPaths, randomArray, rng } from './helpers';

const start = cpu.info();
afterAll(() => {
  cpu.setIsa(start.isa);
  cpu.setThreads(start.threads);
  cpu.setComputeMode(start.computeMode);
});

const KEY = { seed: 5, step: 9, site: 4 };
// Odd M puts tile rows at every offset within a Philox block; K = 2100 runs several KC blocks; the 19m linear1.
const SHAPES: [number, number, number][] = [[1, 1, 1], [37, 45, 77], [13, 2100, 33], [62, 512, 2048]];

function bits(t: Parameters<typeof hostData>[0]): Buffer {
  return Buffer.from(hostData(t).slice().buffer);
}

const modes: ('fp32' | 'bf16')[] = cpu.info().bf16Supported ? ['fp32', 'bf16'] : ['fp32'];
const cases = isaPaths().flatMap((isa) => modes.filter((m) => m === 'fp32' || isa === 'avx512').map((m) => [isa, m] as const));

test.each(cases)('fused dropout equals the product then the dropout op (%s, %s)', (isa, mode) => {
  cpu.setIsa(isa);
  cpu.setComputeMode(mode);
  const rand = rng(3);
  for (const [N, K, M] of SHAPES) {
    const x = cpu.tensor([N, K], randomArray(N * K, rand)), w = cpu.tensor([M, K], randomArray(M * K, rand, -0.2, 0.2));
    const b = cpu.tensor([M], randomArray(M, rand));
    for (const relu of [true, false]) {
      for (const p of [0.1, 0.5]) {
        const plain = cpu.tensor([N, M]), want = cpu.tensor([N, M]);
        cpu.linear(x, w, b, plain, relu);
        cpu.dropout(plain, want, p, KEY);
        for (const threads of [1, 2]) {
          cpu.setThreads(threads);
          const got = cpu.tensor([N, M], new Float32Array(N * M).fill(NaN));
          cpu.linear(x, w, b, got, relu, { p, key: KEY });
          expect(bits(got).equals(bits(want))).toBe(true);
          // The mask is live: some elements dropped, some kept (the 1-element product aside).
          if (N * M > 100) expect(hostData(got).some((v) => v === 0) && hostData(got).some((v) => v !== 0)).toBe(true);
        }
        cpu.setThreads(start.threads);
      }
    }
  }
});

test('dropout p = 0 is no dropout', () => {
  cpu.setIsa(start.isa);
  const rand = rng(4);
  const x = cpu.tensor([9, 20], randomArray(180, rand)), w = cpu.tensor([30, 20], randomArray(600, rand));
  const a = cpu.tensor([9, 30]), c = cpu.tensor([9, 30]);
  cpu.linear(x, w, null, a, true);
  cpu.linear(x, w, null, c, true, { p: 0, key: KEY });
  expect(bits(c).equals(bits(a))).toBe(true);
});

test.each(isaPaths())('add with dropout equals the dropout op then the add (%s), y apart or in place', (isa) => {
  cpu.setIsa(isa);
  const rand = rng(6);
  // Odd lengths leave a partial Philox block and a partial vector; 63488 is the 19m residual at B = 4.
  for (const n of [1, 37, 1001, 63488]) {
    for (const p of [0.1, 0.5]) {
      const a = cpu.tensor([n], randomArray(n, rand)), b = cpu.tensor([n], randomArray(n, rand));
      const dropped = cpu.tensor([n]), want = cpu.tensor([n]);
      cpu.dropout(b, dropped, p, KEY);
      cpu.add(a, dropped, want);
      const apart = cpu.tensor([n]);
      cpu.add(a, b, apart, { p, key: KEY });
      expect(bits(apart).equals(bits(want))).toBe(true);
      for (const which of ['a', 'b'] as const) {
        const a2 = cpu.tensor([n], hostData(a).slice()), b2 = cpu.tensor([n], hostData(b).slice());
        const y = which === 'a' ? a2 : b2;
        cpu.add(a2, b2, y, { p, key: KEY });
        expect(bits(y).equals(bits(want))).toBe(true);
      }
      if (n > 100) expect(hostData(apart).some((v, i) => v === hostData(a)[i]) && hostData(apart).some((v, i) => v !== hostData(a)[i])).toBe(true);
    }
  }
  cpu.setIsa(start.isa);
});

// linear's residual (y = residual + the product, after its relu and dropout): in the GEMM's epilogue without a
// dropout, in add's dropout pass with one; bit for bit what the product then add (with add's dropout) give.
// Shapes as above plus the 19m projection and linear2 (K = 2048: two KC blocks before the epilogue).
test.each(cases)('linear with a residual equals the product then the add (%s, %s)', (isa, mode) => {
  cpu.setIsa(isa);
  cpu.setComputeMode(mode);
  const rand = rng(8);
  for (const [N, K, M] of [...SHAPES, [62, 512, 512], [62, 2048, 512]] as [number, number, number][]) {
    const x = cpu.tensor([N, K], randomArray(N * K, rand)), w = cpu.tensor([M, K], randomArray(M * K, rand, -0.2, 0.2));
    const b = cpu.tensor([M], randomArray(M, rand)), r = cpu.tensor([N, M], randomArray(N * M, rand, -3, 3));
    for (const relu of [true, false]) {
      for (const p of [0, 0.1]) {
        const dropout = p > 0 ? { p, key: KEY } : undefined;
        const plain = cpu.tensor([N, M]), want = cpu.tensor([N, M]);
        cpu.linear(x, w, b, plain, relu);
        cpu.add(r, plain, want, dropout);
        for (const threads of [1, 2]) {
          cpu.setThreads(threads);
          const got = cpu.tensor([N, M], new Float32Array(N * M).fill(NaN));
          cpu.linear(x, w, b, got, relu, dropout, r);
          expect(bits(got).equals(bits(want))).toBe(true);
        }
        cpu.setThreads(start.threads);
      }
    }
  }
});
