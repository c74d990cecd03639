// PPG-GPT's HR fine-tuning step written with tfjs ops (for the wasm backend peer): patch embedding, start
// token, pre-norm blocks with RMSNorm, causal attention with partial interleaved RoPE, ReLU MLP, and the HR
// head (LayerNorm over S·D, exact GELU, Linear → μ, log b) with the L1 + logit-Laplace loss; AdamW with
// clipping by global norm. tfjs's Adam has no decoupled decay, so the decay p ← p·(1 − lr·wd) is applied
// by hand after each update, as torch.optim.AdamW does it (before the Adam step there; the order differs
// by a factor (1 − lr·wd) on one update, irrelevant to the timing this file exists for).
import type * as tfType from '@tensorflow/tfjs';

type Tf = typeof tfType;
type T = tfType.Tensor;

export interface TfjsModelConfig { dim: number; layers: number; heads: number; patch: number; patches: number }

export class TfjsPpgGpt {
  private readonly vars = new Map<string, tfType.Variable>();
  private readonly opt: tfType.AdamOptimizer;
  private readonly mask: T;
  private readonly cos: T;
  private readonly sin: T;
  readonly paramCount: number;

  constructor(private readonly tf: Tf, private readonly c: TfjsModelConfig, seed = 1, private readonly lr = 1e-3, private readonly wd = 0.01) {
    const D = c.dim, F = 4 * D, P = c.patch, S = c.patches + 1, d = D / c.heads, r = d / 2;
    let s = seed;
    const w = (name: string, shape: number[], std = 0.02) => this.vars.set(name, tf.variable(tf.randomNormal(shape, 0, std, 'float32', s++), true, name));
    const z = (name: string, shape: number[], v = 0) => this.vars.set(name, tf.variable(tf.fill(shape, v), true, name));
    w('pe.w', [D, P]); z('pe.b', [D]); w('start', [D]);
    for (let i = 0; i < c.layers; i++) {
      z(`${i}.n1`, [D], 1); z(`${i}.n2`, [D], 1);
      for (const m of ['q', 'k', 'v', 'c']) { w(`${i}.${m}.w`, [D, D]); z(`${i}.${m}.b`, [D]); }
      w(`${i}.f1.w`, [F, D]); z(`${i}.f1.b`, [F]); w(`${i}.f2.w`, [D, F]); z(`${i}.f2.b`, [D]);
    }
    z('hr.ln.g', [S * D], 1); z('hr.ln.b', [S * D]); w('hr.w', [2, S * D]); z('hr.b', [2]);
    this.paramCount = [...this.vars.values()].reduce((a, v) => a + v.size, 0);
    this.opt = tf.train.adam(lr, 0.9, 0.999, 1e-8);
    // Causal mask as an additive constant; RoPE angles pos · 10000^(−2j/r) for j < r/2.
    const maskData = new Float32Array(S * S);
    for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) maskData[i * S + j] = -1e9;
    this.mask = tf.tensor2d(maskData, [S, S]);
    const ang = new Float32Array(S * (r / 2));
    for (let p = 0; p < S; p++) for (let j = 0; j < r / 2; j++) ang[p * (r / 2) + j] = p * Math.pow(10000, (-2 * j) / r);
    const a = tf.tensor3d(ang, [S, r / 2, 1]);
    this.cos = tf.cos(a);
    this.sin = tf.sin(a);
  }

  private v(name: string): tfType.Variable {
    const x = this.vars.get(name);
    if (!x) throw new Error(`tfjs model: no variable ${name}`);
    return x;
  }

  private linear(x2: T, name: string): T {
    return this.tf.add(this.tf.matMul(x2 as tfType.Tensor2D, this.v(`${name}.w`) as tfType.Tensor2D, false, true), this.v(`${name}.b`));
  }

  private rms(x: T, scale: string): T {
    const tf = this.tf;
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-8))), this.v(scale));
  }

  /** x [B,H,S,d]: the first r = d/2 features in interleaved pairs are rotated, the rest pass. */
  private rope(x: T, B: number, S: number): T {
    const tf = this.tf, H = this.c.heads, d = this.c.dim / H, r = d / 2;
    const [rot, pass] = tf.split(x, [r, d - r], 3);
    const pairs = tf.reshape(rot, [B, H, S, r / 2, 2]);
    const [x0, x1] = tf.split(pairs, 2, 4);
    const y0 = tf.sub(tf.mul(x0, this.cos), tf.mul(x1, this.sin));
    const y1 = tf.add(tf.mul(x1, this.cos), tf.mul(x0, this.sin));
    return tf.concat([tf.reshape(tf.concat([y0, y1], 4), [B, H, S, r]), pass], 3);
  }

  private block(i: number, h: T, B: number, S: number): T {
    const tf = this.tf, D = this.c.dim, H = this.c.heads, d = D / H;
    const a = tf.reshape(this.rms(h, `${i}.n1`), [B * S, D]);
    const heads = (t: T) => tf.transpose(tf.reshape(t, [B, S, H, d]), [0, 2, 1, 3]);
    const q = this.rope(heads(this.linear(a, `${i}.q`)), B, S), k = this.rope(heads(this.linear(a, `${i}.k`)), B, S);
    const v = heads(this.linear(a, `${i}.v`));
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)), this.mask);
    const att = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), v), [0, 2, 1, 3]), [B * S, D]);
    const h1 = tf.add(h, tf.reshape(this.linear(att, `${i}.c`), [B, S, D]));
    const a2 = tf.reshape(this.rms(h1, `${i}.n2`), [B * S, D]);
    const f = this.linear(tf.relu(this.linear(a2, `${i}.f1`)), `${i}.f2`);
    return tf.add(h1, tf.reshape(f, [B, S, D]));
  }

  /** The batch loss Σℓ/B (all weights 1) of DESIGN.md section 3. */
  loss(x: T, hr: T): tfType.Scalar {
    const tf = this.tf, B = x.shape[0], T_ = this.c.patches, P = this.c.patch, D = this.c.dim, S = T_ + 1, eps = 0.1;
    const e = tf.reshape(this.linear(tf.reshape(x, [B * T_, P]), 'pe'), [B, T_, D]);
    let h = tf.concat([tf.tile(tf.reshape(this.v('start'), [1, 1, D]), [B, 1, 1]), e], 1);
    for (let i = 0; i < this.c.layers; i++) h = this.block(i, h, B, S);
    const flat = tf.reshape(h, [B, S * D]);
    const { mean, variance } = tf.moments(flat, -1, true);
    const ln = tf.add(tf.mul(tf.mul(tf.sub(flat, mean), tf.rsqrt(tf.add(variance, 1e-5))), this.v('hr.ln.g')), this.v('hr.ln.b'));
    const zz = tf.mul(tf.mul(ln, 0.5), tf.add(1, tf.erf(tf.mul(ln, Math.SQRT1_2))));
    const out = this.linear(zz, 'hr');
    const [mu, logb] = tf.split(out, 2, 1).map((t) => tf.reshape(t, [B]));
    const u = tf.add(tf.mul(tf.div(tf.sub(tf.clipByValue(hr, 30, 230), 30), 200), 1 - 2 * eps), eps);
    const pred = tf.add(30, tf.mul(200 / (1 - 2 * eps), tf.sub(tf.sigmoid(mu), eps)));
    const logitU = tf.sub(tf.log(u), tf.log(tf.sub(1, u)));
    const nll = tf.add(tf.add(tf.add(Math.LN2, logb), tf.log(tf.mul(u, tf.sub(1, u)))), tf.div(tf.abs(tf.sub(logitU, mu)), tf.exp(logb)));
    return tf.mean(tf.add(tf.abs(tf.sub(pred, hr)), nll)) as tfType.Scalar;
  }

  /** Forward, backward, clip to global norm 1, Adam, decoupled decay on matrices; returns the loss. */
  step(x: T, hr: T): number {
    const tf = this.tf;
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => this.loss(x, hr), [...this.vars.values()]);
      const norm = Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]);
      const clip = norm > 1 ? 1 / norm : 1;
      const scaled: Record<string, T> = {};
      for (const [n, g] of Object.entries(grads)) scaled[n] = clip === 1 ? g : tf.mul(g, clip);
      this.opt.applyGradients(scaled as unknown as Parameters<tfType.AdamOptimizer["applyGradients"]>[0]);
      for (const v of this.vars.values()) if (v.rank >= 2) v.assign(tf.mul(v, 1 - this.lr * this.wd));
      const loss = value.dataSync()[0];
      if (!Number.isFinite(loss)) throw new Error(`tfjs step: loss is ${loss}`);
      return loss;
    });
  }
}
