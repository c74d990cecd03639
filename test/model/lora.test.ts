// LoRA on w_q and w_v checked against its definition: a model with adapters computes what the plain model
// computes with merged weights W + (α/r)·B·A, and the adapters' gradients are (α/r)·Bᵀ·G and (α/r)·G·Aᵀ
// where G is ∂loss/∂W (the same in both models).
import { getBackend } from '../../src/engine/registry';
import { applyFinetuneMode, parseFinetuneMode } from '../../src/model/finetune-mode';
import { modelConfig } from '../../src/model/config';
import { PpgGpt } from '../../src/model/ppg-gpt';
import { HrStep } from '../../src/train/hr-step';
import { Rng } from '../../src/util/random';

function matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number, ta = false, tb = false): Float64Array {
  // C[n,m] = op(A)[n,k]·op(B)[k,m]
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += (ta ? a[p * n + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * m + j]);
    c[i * m + j] = s;
  }
  return c;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / Math.max(scale, 1e-30);
}

describe.each(['cpu', 'reference'])('LoRA on %s', (name) => {
  const be = getBackend(name);
  const r = 4, alpha = 8, scale = alpha / r, D = 64, B = 3;
  const cfgL = modelConfig('tiny', { hrPatches: 4, dropout: 0, loraRank: r, loraAlpha: alpha });
  const cfgM = modelConfig('tiny', { hrPatches: 4, dropout: 0 });
  const lora = new PpgGpt(be, cfgL, { next: false, hr: true });
  lora.store.initialise(cfgL, 3);
  const rng = new Rng(9);
  // B starts at zero (a no-op adapter); give it values so the test sees the update.
  for (const p of lora.store.list()) if (p.spec.name.endsWith('lora_B.weight')) be.upload(p.value, rng.fillNormal(new Float32Array(p.value.size), 0.05));
  const merged = new PpgGpt(be, cfgM, { next: false, hr: true });
  for (const p of merged.store.list()) {
    const v = be.download(lora.store.value(p.spec.name));
    const m = /^(gpt_layers\.\d+\.attn\.w_[qv])\.weight$/.exec(p.spec.name);
    if (m) {
      const A = be.download(lora.store.value(`${m[1]}.lora_A.weight`)), Bw = be.download(lora.store.value(`${m[1]}.lora_B.weight`));
      const ba = matmul(Bw, A, D, r, D);
      for (let i = 0; i < v.length; i++) v[i] += scale * ba[i];
    }
    be.upload(p.value, v);
  }
  const batch = { x: rng.fillUniform(new Float32Array(B * 160)), hr: new Float32Array([55, 90, 140]) };
  const run = (m: PpgGpt) => {
    const s = new HrStep(m, B, 1);
    s.forward(batch);
    s.backward();
    return be.download(s.acts.hr!.out);
  };
  const outL = run(lora), outM = run(merged);

  it('computes the merged model', () => {
    expect(relErr(outL, outM)).toBeLessThan(1e-5);
  });

  it('gives the adapters (α/r)·Bᵀ·G and (α/r)·G·Aᵀ', () => {
    for (const layer of [0, 1]) for (const w of ['q', 'v']) {
      const base = `gpt_layers.${layer}.attn.w_${w}`;
      const G = be.download(merged.store.get(`${base}.weight`).grad);
      expect(relErr(be.download(lora.store.get(`${base}.weight`).grad), G)).toBeLessThan(1e-4);
      const A = be.download(lora.store.value(`${base}.lora_A.weight`)), Bw = be.download(lora.store.value(`${base}.lora_B.weight`));
      const dA = matmul(Bw, G, r, D, D, true).map((v) => v * scale);
      const dB = matmul(G, A, D, D, r, false, true).map((v) => v * scale);
      expect(relErr(be.download(lora.store.get(`${base}.lora_A.weight`).grad), dA)).toBeLessThan(1e-4);
      expect(relErr(be.download(lora.store.get(`${base}.lora_B.weight`).grad), dB)).toBeLessThan(1e-4);
    }
  });

  it("mode 'lora' trains only the adapters and the HR head", () => {
    applyFinetuneMode(lora.store, cfgL.layers, parseFinetuneMode('lora'));
    const trainable = lora.store.list().filter((p) => p.trainable).map((p) => p.spec.name);
    expect(trainable.every((n) => n.includes('.lora_') || n.startsWith('head_hr'))).toBe(true);
    expect(trainable.filter((n) => n.includes('.lora_'))).toHaveLength(8);
    expect(() => applyFinetuneMode(merged.store, cfgM.layers, parseFinetuneMode('lora'))).toThrow(/no LoRA adapters/);
    expect(() => parseFinetuneMode('adapters')).toThrow(/unknown fine-tuning mode/);
  });
});
