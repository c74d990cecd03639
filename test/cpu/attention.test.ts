// The fused RoPE attention through the cpu backend's glue, against the reference backend: shapes, heads,
// S = 1 and 2, causal masking, dropout on the probabilities (same Philox mask), backward accumulation.
import { cpu, expectClose, isaPaths, pair, rand2, ref, rng } from './helpers';

const detected = cpu.info().detectedIsa;
afterAll(() => cpu.setIsa(detected));

describe.each(isaPaths())('ropeAttention on the %s path', (isa) => {
  beforeAll(() => cpu.setIsa(isa));

  test.each([
    [1, 1, 4, 1], [1, 2, 8, 1], [2, 7, 24, 2], [2, 31, 32, 4], [1, 5, 20, 5],
  ])('B=%i S=%i D=%i H=%i, with and without dropout', (B, S, D, H) => {
    const rand = rng(B * 100 + S * 10 + D + H);
    for (const dropout of [undefined, { p: 0.2, key: { seed: 11, step: 3, site: 9 } }]) {
      const q = rand2([B, S, D], rand, -2, 2), k = rand2([B, S, D], rand, -2, 2), v = rand2([B, S, D], rand);
      const out = pair([B, S, D], new Float32Array(B * S * D)), lse = pair([B, H, S], new Float32Array(B * H * S));
      cpu.ropeAttention(q.c, k.c, v.c, H, out.c, lse.c, dropout);
      ref.ropeAttention(q.r, k.r, v.r, H, out.r, lse.r, dropout);
      expectClose(out.c, out.r, 'out', 2e-4);
      expectClose(lse.c, lse.r, 'lse');
      const dout = rand2([B, S, D], rand), dq = rand2([B, S, D], rand), dk = rand2([B, S, D], rand), dv = rand2([B, S, D], rand);
      cpu.ropeAttentionBackward(dout.c, q.c, k.c, v.c, out.c, lse.c, H, dq.c, dk.c, dv.c, dropout);
      ref.ropeAttentionBackward(dout.r, q.r, k.r, v.r, out.r, lse.r, H, dq.r, dk.r, dv.r, dropout);
      expectClose(dq.c, dq.r, 'dq', 2e-4);
      expectClose(dk.c, dk.r, 'dk', 2e-4);
      expectClose(dv.c, dv.r, 'dv', 2e-4);
    }
  });
});

test('attention rejects a head width that is not a multiple of 4', () => {
  const q = cpu.tensor([1, 2, 12]), lse = cpu.tensor([1, 2, 2]);
  expect(() => cpu.ropeAttention(q, q, q, 2, cpu.tensor([1, 2, 12]), lse)).toThrow(/multiple of 4/);
});
