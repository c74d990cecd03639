// One ISA policy for every cpu kernel: lowering the level (setIsa, as FAIRTUNE_ISA does at load) changes the
// code that runs in the fused attention too, not only in the GEMM. The scalar path takes exp from libm and the
// vector paths a polynomial, so their outputs differ in the last bits, while one path run twice is
// bit-identical: a test labelled "scalar" therefore ran the scalar attention.
import type { IsaName } from '../../src/engine/cpu/native-api';
import { cpu, isaPaths, rand2, rng } from './helpers';

const detected = cpu.info().detectedIsa;
afterAll(() => cpu.setIsa(detected));

function attention(isa: IsaName): Float32Array {
  cpu.setIsa(isa);
  const rand = rng(42), [B, S, D, H] = [2, 31, 64, 2];
  const q = rand2([B, S, D], rand, -2, 2), k = rand2([B, S, D], rand, -2, 2), v = rand2([B, S, D], rand);
  const out = cpu.tensor([B, S, D]), lse = cpu.tensor([B, H, S]);
  cpu.ropeAttention(q.c, k.c, v.c, H, out, lse);
  return cpu.download(out);
}

test('every path this CPU has gives repeatable attention output, and the paths differ from one another', () => {
  const paths = isaPaths();
  const outs = paths.map((isa) => attention(isa));
  paths.forEach((isa, i) => expect([isa, Buffer.from(attention(isa).buffer).equals(Buffer.from(outs[i].buffer))]).toEqual([isa, true]));
  const scalar = outs[paths.indexOf('scalar')];
  for (const [i, isa] of paths.entries()) {
    if (isa !== 'scalar') expect([isa, Buffer.from(outs[i].buffer).equals(Buffer.from(scalar.buffer))]).toEqual([isa, false]);
  }
});

test('the active level is what info() reports after setIsa', () => {
  for (const isa of isaPaths()) {
    cpu.setIsa(isa);
    expect(cpu.info().isa).toBe(isa);
    expect(cpu.description).toContain(isa);
  }
});
