import { modelConfig, MODEL_SIZES } from '../../src/model/config';
import { countParams, paramSpecs } from '../../src/model/params';

describe('model configs', () => {
  it('19m has about 19M parameters in its encoder (the published configuration)', () => {
    const c = modelConfig('19m');
    const enc = paramSpecs(c, { next: false, hr: false });
    const n = countParams(enc);
    expect(n).toBeGreaterThan(18.5e6);
    expect(n).toBeLessThan(19.5e6);
  });

  it('sizes grow in the order of their names', () => {
    const counts = Object.keys(MODEL_SIZES).map((s) => countParams(paramSpecs(modelConfig(s as keyof typeof MODEL_SIZES))));
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1]);
    expect(counts[counts.length - 1]).toBeGreaterThan(0.95e9);
  });

  it('names and layouts follow DESIGN.md section 3', () => {
    const specs = paramSpecs(modelConfig('tiny', { hrPatches: 10 }));
    const byName = new Map(specs.map((s) => [s.name, s.shape]));
    expect(byName.get('patch_embed.weight')).toEqual([64, 40]);
    expect(byName.get('gpt_layers.1.attn.w_concat.weight')).toEqual([64, 64]);
    expect(byName.get('gpt_layers.0.ffn.linear1.weight')).toEqual([256, 64]);
    expect(byName.get('gpt_layers.0.ffn.linear2.weight')).toEqual([64, 256]);
    expect(byName.get('head_next.weight')).toEqual([80, 64]);
    expect(byName.get('head_hr.norm.weight')).toEqual([11 * 64]);
    expect(byName.get('head_hr.linear.weight')).toEqual([2, 11 * 64]);
  });

  it('rejects invalid configurations with a reason', () => {
    expect(() => modelConfig('tiny', { heads: 3 })).toThrow(/divisible/);
    expect(() => modelConfig({ dim: 24, layers: 1, heads: 4 })).toThrow(/multiple of 4/);
    expect(() => modelConfig('tiny', { dropout: 1 })).toThrow(/dropout/);
    expect(() => modelConfig('tiny', { bogus: 1 } as never)).toThrow(/bogus|Unrecognized/);
  });
});
