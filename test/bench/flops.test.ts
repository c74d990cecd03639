// The analytic step FLOPs of src/profile/flops.ts against a count written out by hand for the tiny model
// (D = 64, 2 layers, 4 heads, P = 40, FFN 256) at B = 2, T = 10 (S = 11, N = 22 tokens).
import { modelConfig } from '../../src/model/config';
import { stepFlops } from '../../src/profile/flops';

describe('stepFlops', () => {
  it('matches a hand count for the tiny model', () => {
    const c = modelConfig('tiny', { hrPatches: 10 });
    // Forward, layer by layer (2 FLOPs per multiply-add):
    const patchEmbed = 2 * (2 * 10) * 40 * 64; //          20 patches × [40 → 64]        = 102 400
    const qkvc = 4 * (2 * 22 * 64 * 64); //                 4 Linears 64 → 64 on 22 tokens = 720 896 per layer
    const mlp = 2 * 22 * 64 * 256 + 2 * 22 * 256 * 64; //   64 → 256 → 64                = 1 441 792 per layer
    // Causal attention: query i sees keys 0..i, 1 + 2 + … + 11 = 66 pairs per window and head; QKᵀ and PV
    // each cost 2·d per pair, over 4 heads of d = 16 (= 2·64 per pair), for 2 windows.
    const attn = 2 * (66 * 2 * 64 * 2); //                                                  = 33 792 per layer
    const head = 2 * 2 * (11 * 64) * 2; //                  [704 → 2] on 2 windows        = 5 632
    expect(patchEmbed).toBe(102400);
    expect(qkvc).toBe(720896);
    expect(mlp).toBe(1441792);
    expect(attn).toBe(33792);
    const forward = patchEmbed + 2 * (qkvc + mlp + attn) + head;
    const backward = patchEmbed + 2 * (2 * (qkvc + mlp + attn) + head);
    const f = stepFlops(c, 2, 10);
    expect(f.forward).toBe(forward);
    expect(f.backward).toBe(backward);
    expect(f.total).toBe(forward + backward);
    expect(f.total).toBe(13_400_576);
  });

  it('grows linearly in the batch size', () => {
    const c = modelConfig('19m', { hrPatches: 30 });
    expect(stepFlops(c, 32, 30).total).toBeCloseTo(32 * stepFlops(c, 1, 30).total, -3);
  });

  it('rejects a bad batch size or patch count', () => {
    const c = modelConfig('tiny');
    expect(() => stepFlops(c, 0, 10)).toThrow(/batch size/);
    expect(() => stepFlops(c, 2, 1.5)).toThrow(/patches T/);
  });
});
