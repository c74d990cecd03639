// PPG-GPT forward and backward as explicit per-layer calls into the engine (llm.c style): one function per
// direction, every buffer taken from a plan made up front. DESIGN.md section 3 is the specification.
import type { Backend, DropoutKey } from '../engine/backend';
import type { Tensor } from '../engine/tensor';
import type { Activations, BlockActs, Grads } from './activations';
import { ModelConfig } from './config';
import { linearBackwardOf, ParamStore } from './param-store';
import { blockParamNames, paramSpecs } from './params';
import { Site, dropoutSite } from './sites';

export interface ForwardOptions {
  /** Seed and step of the dropout masks; ignored unless the plan is for training and dropout > 0. */
  dropout?: { seed: number; step: number };
}

export class PpgGpt {
  readonly store: ParamStore;

  constructor(
    readonly backend: Backend,
    readonly config: ModelConfig,
    readonly heads: { next: boolean; hr: boolean } = { next: true, hr: true },
  ) {
    this.store = new ParamStore(backend, paramSpecs(config, heads));
  }

  private rows(t: Tensor): Tensor {
    const last = t.shape[t.shape.length - 1];
    return this.backend.view(t, [t.size / last, last]);
  }

  private key(opts: ForwardOptions, layer: number, site: Site): DropoutKey {
    const d = opts.dropout ?? { seed: 0, step: 0 };
    return { seed: d.seed, step: d.step, site: dropoutSite(layer, site) };
  }

  private dropoutOn(a: Activations, opts: ForwardOptions): boolean {
    return a.training && this.config.dropout > 0 && opts.dropout !== undefined;
  }

  /** Runs the encoder: x (already uploaded into a.x, min–max scaled windows) → a.hOut. */
  forwardEncoder(a: Activations, opts: ForwardOptions = {}): void {
    const be = this.backend, s = this.store;
    be.patchEmbed(a.x, s.value('patch_embed.weight'), s.value('patch_embed.bias'), a.e);
    be.startToken(a.e, s.value('start_token'), a.blocks[0].hIn);
    for (let i = 0; i < this.config.layers; i++) {
      const next = i + 1 < this.config.layers ? a.blocks[i + 1].hIn : a.hOut;
      this.blockForward(i, a.blocks[i], next, a.loraU, this.dropoutOn(a, opts), opts);
    }
  }

  private blockForward(i: number, b: BlockActs, hOut: Tensor, loraU: Tensor | null, drop: boolean, opts: ForwardOptions): void {
    const be = this.backend, s = this.store, c = this.config, n = blockParamNames(i), r = (t: Tensor) => this.rows(t);
    const p = c.dropout;
    be.rmsNorm(r(b.hIn), s.value(n.norm1), c.rmsEps, r(b.a1), b.rstd1);
    // q, k and v in one call over their stacked weights (adjacent in the arena): a1 is read and packed once.
    const wqkv = s.stackedValue([n.wq, n.wk, n.wv]), bqkv = s.stackedValue([n.bq, n.bk, n.bv]);
    if (wqkv && bqkv) be.linearFanout(r(b.a1), wqkv, bqkv, b.qkv);
    else {
      be.linear(r(b.a1), s.value(n.wq), s.value(n.bq), r(b.q));
      be.linear(r(b.a1), s.value(n.wk), s.value(n.bk), r(b.k));
      be.linear(r(b.a1), s.value(n.wv), s.value(n.bv), r(b.v));
    }
    if (b.loraQ && b.loraV && loraU) {
      // LoRA: q += (alpha/r)·(a1·Aᵀ)·Bᵀ, likewise v; the base weights stay as loaded.
      const scale = c.loraAlpha / c.loraRank;
      for (const [t, A, Bm, out] of [[b.loraQ, n.qA, n.qB, b.q], [b.loraV, n.vA, n.vB, b.v]] as const) {
        be.linear(r(b.a1), s.value(A), null, r(t));
        be.linear(r(t), s.value(Bm), null, r(loraU));
        be.accumulate(loraU, out, scale);
      }
    }
    be.ropeAttention(b.q, b.k, b.v, c.heads, b.att, b.lse, drop ? { p, key: this.key(opts, i, Site.AttnProbs) } : undefined,
      b.attReserve);
    // The residual adds go into the branches' last products (linear's residual: hMid = hIn + drop(proj), in the
    // GEMM's epilogue when no dropout comes between), so neither branch has an output buffer of its own; no
    // dropped copy of a branch is kept either: its backward needs only the mask's key.
    be.linear(r(b.att), s.value(n.wc), s.value(n.bc), r(b.hMid), false, drop ? { p, key: this.key(opts, i, Site.AttnOut) } : undefined,
      r(b.hIn));
    be.rmsNorm(r(b.hMid), s.value(n.norm2), c.rmsEps, r(b.a2), b.rstd2);
    // relu fused into linear1's epilogue (one pass over the [N, 4D] output instead of two); with dropout on,
    // linear applies the dropout in place after it: f1 then holds drop(relu(…)) (no second [N, 4D] buffer),
    // and the backward gates by f1 itself (blockBackward).
    be.linear(r(b.a2), s.value(n.w1), s.value(n.b1), r(b.f1), true, drop ? { p, key: this.key(opts, i, Site.Relu) } : undefined);
    be.linear(r(b.f1), s.value(n.w2), s.value(n.b2), r(hOut), false, drop ? { p, key: this.key(opts, i, Site.MlpOut) } : undefined,
      r(b.hMid));
  }

  /** Encoder + HR head: a.hr.out = (μ, log b) per window, a.hr.z the penultimate embedding. */
  forwardHr(a: Activations, opts: ForwardOptions = {}): void {
    if (!a.hr) throw new Error('forwardHr: the activation plan has no HR head');
    this.forwardEncoder(a, opts);
    const be = this.backend, s = this.store, h = a.hr;
    const flat = be.view(a.hOut, [a.B, a.S * this.config.dim]);
    be.layerNorm(flat, s.value('head_hr.norm.weight'), s.value('head_hr.norm.bias'), this.config.lnEps, h.ln, h.lnMean, h.lnRstd);
    be.gelu(h.ln, h.z);
    be.linear(h.z, s.value('head_hr.linear.weight'), s.value('head_hr.linear.bias'), h.out);
  }

  /** Encoder + next-patch head: a.next = [B,S,2P] (μ channels then log b channels). */
  forwardNext(a: Activations, opts: ForwardOptions = {}): void {
    if (!a.next) throw new Error('forwardNext: the activation plan has no next-patch head');
    this.forwardEncoder(a, opts);
    this.backend.linear(this.rows(a.hOut), this.store.value('head_next.weight'), this.store.value('head_next.bias'), this.rows(a.next));
  }

  /**
   * Backward from g.dout (∂loss/∂(μ, log b), filled by the loss) through the HR head and the encoder.
   * `extra` may add further gradient into ∂loss/∂hOut before the encoder's backward (the ADV adversary).
   */
  backwardHr(a: Activations, opts: ForwardOptions = {}, extra?: (dHOut: Tensor) => void): void {
    const g = this.grads(a), h = a.hr;
    if (!h || !g.dz || !g.dln || !g.dout) throw new Error('backwardHr: the activation plan has no HR head');
    const be = this.backend, s = this.store;
    this.linearBackward(g.dout, h.z, 'head_hr.linear.weight', 'head_hr.linear.bias', g.dz, true);
    be.geluBackward(g.dz, h.ln, g.dln);
    const dRes = g.dRes;
    be.zero(dRes);
    const flat = be.view(a.hOut, [a.B, a.S * this.config.dim]);
    be.layerNormBackward(g.dln, flat, s.value('head_hr.norm.weight'), h.lnMean, h.lnRstd, be.view(dRes, flat.shape),
      s.grad('head_hr.norm.weight'), s.grad('head_hr.norm.bias'));
    extra?.(dRes);
    this.backwardEncoder(a, dRes, opts);
  }

  /** Backward from g.dnext (∂loss/∂ next-patch params) through the pretraining head and the encoder. */
  backwardNext(a: Activations, opts: ForwardOptions = {}): void {
    const g = this.grads(a);
    if (!a.next || !g.dnext) throw new Error('backwardNext: the activation plan has no next-patch head');
    // The head's dx is the encoder's first gradient: written, not added into a zeroed buffer.
    const dRes = g.dRes;
    this.linearBackward(this.rows(g.dnext), this.rows(a.hOut), 'head_next.weight', 'head_next.bias', this.rows(dRes), true);
    this.backwardEncoder(a, dRes, opts);
  }

  /** linearBackward of the layer with parameters w and b (linearBackwardOf: fresh gradients are overwritten). */
  private linearBackward(
    dy: Tensor, x: Tensor, w: string, b: string | null, dx: Tensor, overwriteDx = false, reluOf: Tensor | null = null, reluScale = 1,
  ): void {
    linearBackwardOf(this.store, dy, x, w, b, dx, overwriteDx, reluOf, reluScale);
  }

  private grads(a: Activations): Grads {
    if (!a.grads) throw new Error('backward: the activation plan was made for inference (training: false)');
    return a.grads;
  }

  /** Index of the lowest block with a trainable parameter, -1 if the embedding is trainable too. */
  private lowestTrainable(): number {
    const s = this.store;
    if (['patch_embed.weight', 'patch_embed.bias', 'start_token'].some((n) => s.get(n).trainable)) return -1;
    for (let i = 0; i < this.config.layers; i++) {
      if (Object.values(blockParamNames(i)).some((n) => s.params.has(n) && s.get(n).trainable)) return i;
    }
    return this.config.layers;
  }

  /**
   * dRes holds ∂loss/∂hOut; walks the blocks in reverse (dRes becoming ∂loss/∂ each block's input in turn, in
   * place: blockBackward), then the start token and the patch embedding.
   */
  private backwardEncoder(a: Activations, dRes: Tensor, opts: ForwardOptions): void {
    const g = this.grads(a), be = this.backend, s = this.store;
    const drop = this.dropoutOn(a, opts);
    const stopAt = this.lowestTrainable();
    for (let i = this.config.layers - 1; i >= 0 && i >= stopAt; i--) this.blockBackward(i, a.blocks[i], dRes, g, drop, opts);
    if (stopAt >= 0) return;
    be.zero(g.de);
    be.startTokenBackward(dRes, g.de, s.grad('start_token'));
    // The optimiser skips frozen parameters, so writing a frozen one's gradient buffer is harmless.
    const pw = s.get('patch_embed.weight'), pb = s.get('patch_embed.bias');
    if (pw.trainable || pb.trainable) be.patchEmbedBackward(g.de, a.x, pw.value, pw.grad, pb.grad, null);
  }

  /**
   * One block's backward. dRes holds ∂loss/∂hOut on entry and ∂loss/∂hIn on return: hOut = hMid + mlp(hMid)
   * and hMid = hIn + attn(hIn), so each norm's backward adds its branch's gradient into the stream in place,
   * after the branch has read the stream's gradient as its own dy (no copies between residual buffers).
   */
  private blockBackward(i: number, b: BlockActs, dRes: Tensor, g: Grads, drop: boolean, opts: ForwardOptions): void {
    const be = this.backend, s = this.store, c = this.config, n = blockParamNames(i), r = (t: Tensor) => this.rows(t);
    const p = c.dropout;
    // MLP branch: hOut = hMid + drop(linear2(drop(relu(linear1(rms(hMid)))))).
    let gF2 = dRes;
    if (drop) {
      be.dropoutBackward(dRes, g.df2, p, this.key(opts, i, Site.MlpOut));
      gF2 = g.df2;
    }
    // The relu backward runs in linear2's dx epilogue (no pass over the [N, 4D] gradient to read it back),
    // gated by linear2's own input f1. With dropout on, f1 = keep ? relu(u)/(1 − p) : 0, which is > 0 exactly
    // where the mask kept an element and the relu passed it: gating by it and scaling by 1/(1 − p) gives the
    // dropout's and the relu's backward together, without regenerating the mask (the same product rounded
    // the same way as dropoutBackward then reluBackward; see linearBackward's reluScale).
    this.linearBackward(r(gF2), r(b.f1), n.w2, n.b2, r(g.df1), true, r(b.f1), drop ? 1 / (1 - p) : 1);
    this.linearBackward(r(g.df1), r(b.a2), n.w1, n.b1, r(g.da), true);
    // dRes: ∂/∂hOut (read by the branch above) + the norm's gradient = ∂/∂hMid.
    be.rmsNormBackward(r(g.da), r(b.hMid), s.value(n.norm2), b.rstd2, r(dRes), s.grad(n.norm2));
    // Attention branch: hMid = hIn + drop(w_concat(attention(rope(q), rope(k), v))).
    let gProj = dRes;
    if (drop) {
      be.dropoutBackward(dRes, g.dproj, p, this.key(opts, i, Site.AttnOut));
      gProj = g.dproj;
    }
    this.linearBackward(r(gProj), r(b.att), n.wc, n.bc, r(g.datt), true);
    // dq, dk, dv are fresh: the backward overwrites them (no zero pass).
    be.ropeAttentionBackward(g.datt, b.q, b.k, b.v, b.att, b.lse, c.heads, g.dq, g.dk, g.dv,
      drop ? { p, key: this.key(opts, i, Site.AttnProbs) } : undefined, true, b.attReserve);
    // q, k and v's backward in one call (da overwritten, a1 packed once for the three dW), unless their
    // parameters are not adjacent or only some are frozen; then one by one, the first overwriting da.
    const wqkv = s.stackedValue([n.wq, n.wk, n.wv]);
    const gqkv = wqkv ? s.fanoutGrads([n.wq, n.wk, n.wv], [n.bq, n.bk, n.bv]) : null;
    if (wqkv && gqkv) be.linearFanoutBackward(g.dqkv, r(b.a1), wqkv, r(g.da), gqkv.dw, gqkv.db, true, gqkv.overwrite);
    else {
      this.linearBackward(r(g.dq), r(b.a1), n.wq, n.bq, r(g.da), true);
      this.linearBackward(r(g.dk), r(b.a1), n.wk, n.bk, r(g.da));
      this.linearBackward(r(g.dv), r(b.a1), n.wv, n.bv, r(g.da));
    }
    if (b.loraQ && b.loraV && g.dLoraT && g.dLoraU) {
      const scale = c.loraAlpha / c.loraRank;
      for (const [t, A, Bm, d] of [[b.loraQ, n.qA, n.qB, g.dq], [b.loraV, n.vA, n.vB, g.dv]] as const) {
        be.zero(g.dLoraU);
        be.accumulate(d, g.dLoraU, scale);
        be.zero(g.dLoraT);
        this.linearBackward(r(g.dLoraU), r(t), Bm, null, r(g.dLoraT));
        this.linearBackward(r(g.dLoraT), r(b.a1), A, null, r(g.da));
      }
    }
    // dRes: ∂/∂hMid + the norm's gradient = ∂/∂hIn.
    be.rmsNormBackward(r(g.da), r(b.hIn), s.value(n.norm1), b.rstd1, r(dRes), s.grad(n.norm1));
  }
}
