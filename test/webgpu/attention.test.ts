// The fused RoPE causal attention (WGSL: tiled forward with online softmax; backward as a Δ pass, a dq pass
// over query rows and a dk/dv pass over key rows) against the reference, which forms the whole probability
// matrix in float64. Shapes cover S = 1, S not a multiple of the 32-row tiles, several key tiles, head dims
// 4 to 64 (D = 12 with H = 3), and dropout on the probabilities with the shared Philox mask.
import type { AttentionDropout } from '../../src/engine/backend';
import { expectClose, pair, rand2, ref, rng, useWebGpu } from './helpers';

const gpu = useWebGpu();

const shapes: [number, number, number, number][] = [
  // B, S, D, H
  [1, 1, 12, 3], [2, 5, 12, 3], [2, 31, 64, 4], [1, 33, 16, 2], [3, 7, 48, 3], [1, 70, 128, 2], [2, 40, 16, 4],
];

describe('webgpu ropeAttention against the reference', () => {
  test.each(shapes)('B=%i S=%i D=%i H=%i, forward and backward', (B, S, D, H) => {
    const g = gpu();
    for (const dropout of [undefined, { p: 0.2, key: { seed: 2 ** 33 + 5, step: 9, site: 4 } }] as (AttentionDropout | undefined)[]) {
      const rand = rng(B * 1000 + S * 10 + D + (dropout ? 1 : 0));
      const q = rand2(g, [B, S, D], rand, -2, 2), k = rand2(g, [B, S, D], rand, -2, 2), v = rand2(g, [B, S, D], rand);
      const out = pair(g, [B, S, D], new Float32Array(B * S * D)), lse = pair(g, [B, H, S], new Float32Array(B * H * S));
      g.ropeAttention(q.g, k.g, v.g, H, out.g, lse.g, dropout);
      ref.ropeAttention(q.r, k.r, v.r, H, out.r, lse.r, dropout);
      const tag = dropout ? ' with dropout' : '';
      expectClose(g, out, `out${tag}`, 2e-4);
      expectClose(g, lse, `lse${tag}`, 1e-5);
      const dout = rand2(g, [B, S, D], rand);
      const dq = rand2(g, [B, S, D], rand), dk = rand2(g, [B, S, D], rand), dv = rand2(g, [B, S, D], rand);
      g.ropeAttentionBackward(dout.g, q.g, k.g, v.g, out.g, lse.g, H, dq.g, dk.g, dv.g, dropout);
      ref.ropeAttentionBackward(dout.r, q.r, k.r, v.r, out.r, lse.r, H, dq.r, dk.r, dv.r, dropout);
      expectClose(g, dq, `dq${tag}`, 3e-4);
      expectClose(g, dk, `dk${tag}`, 3e-4);
      expectClose(g, dv, `dv${tag}`, 3e-4);
    }
  });

  test('q, k, v as row slices of one buffer (element offsets per tensor)', () => {
    const g = gpu(), rand = rng(99), B = 2, S = 6, D = 12, H = 3;
    const qkv = rand2(g, [3 * B, S, D], rand, -2, 2);
    const sl = (i: number) => ({ g: g.slice0(qkv.g, i * B, B), r: ref.slice0(qkv.r, i * B, B) });
    const q = sl(0), k = sl(1), v = sl(2);
    const out = pair(g, [B, S, D], new Float32Array(B * S * D)), lse = pair(g, [B, H, S], new Float32Array(B * H * S));
    g.ropeAttention(q.g, k.g, v.g, H, out.g, lse.g);
    ref.ropeAttention(q.r, k.r, v.r, H, out.r, lse.r);
    expectClose(g, out, 'out', 2e-4);
  });
});
