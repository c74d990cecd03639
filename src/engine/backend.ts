// The Backend interface: the narrow waist every device implements (tinygrad/ggml style). Every op exists as
// a forward and, where it has one, a backward. Conventions (llm.c style), shared by all backends:
//  - float32, row-major, contiguous tensors; integer inputs (group ids, labels) are float32 holding integers.
//  - Every output is preallocated by the caller; ops never allocate (this is what buffer planning relies on).
//  - Forward ops OVERWRITE their outputs. Backward ops ADD INTO their gradient outputs (dx += …, dW += …),
//    so residual branches and shared parameters need no extra pass; the caller zeroes gradients per step.
//    The exceptions are the elementwise backwards (relu, gelu, dropout): their dx is a temporary of one
//    activation that nothing else adds into, so they OVERWRITE it, which spares a zero pass over it and the
//    read of it that accumulating would cost (8 MB per block of the 19m model at B = 32).
//  - Shapes: B batch, T patches, S = T + 1 tokens, P patch length, D model width, H heads, G groups.
import { Tensor } from './tensor';

/** Identifies one dropout mask: the same key gives the same mask on every backend (Philox4x32-10). */
export interface DropoutKey {
  /** Run seed (integer, 0 ≤ seed < 2^53). */
  seed: number;
  /** Optimiser step (integer, 0 ≤ step < 2^32). */
  step: number;
  /** Where in the network (integer, 0 ≤ site < 2^32): see model/sites.ts for the numbering. */
  site: number;
}

/** Dropout with its probability and key (ropeAttention's probabilities, linear's output). */
export interface AttentionDropout {
  p: number;
  key: DropoutKey;
}

export interface HrLossOptions {
  /** Weight of the logit-Laplace NLL term (DESIGN.md section 3, default 1). */
  lambda: number;
  /** ε of u = (1 − 2ε)·v + ε (0.1 in PPG-GPT). */
  eps: number;
}

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number used for bias correction. */
  step: number;
  /**
   * The gradient is read as gradScale·grad (default 1): clipping by the global norm without a pass that
   * rescales every gradient first. The grad buffer itself is left as it was.
   */
  gradScale?: number;
  /**
   * With a norm tensor: clip to this global norm on the device (the gradient is read as
   * gradScale·min(1, maxNorm/norm)); 0 (the default) does not clip.
   */
  maxNorm?: number;
}

export interface BackendStats {
  /** Tensors allocated since the backend was created (buffer planning tests read this). */
  allocations: number;
  /** Bytes currently held by live tensors. */
  liveBytes: number;
  /**
   * Device backends: blocking device-to-host reads so far (downloads, value checks without a host shadow, and
   * ops that return a number).
   */
  hostReads?: number;
  /** Device backends: host-to-device copies so far (tensor initialisation and uploads). */
  hostWrites?: number;
}

/** The memory half of a backend: one interface, implemented by HostStorage, DeviceStorage and GpuStorage. */
export interface TensorMemory {
  /** A new zero-filled tensor, or one holding `init` (copied). */
  tensor(shape: readonly number[], init?: Float32Array | readonly number[]): Tensor;
  /** A view with another shape over the same storage (same element count). */
  view(t: Tensor, shape: readonly number[]): Tensor;
  /** Rows [start, start + count) of dim 0 as a view over the same storage (micro-batches). */
  slice0(t: Tensor, start: number, count: number): Tensor;
  upload(t: Tensor, data: Float32Array): void;
  /** A host copy of the tensor's contents. */
  download(t: Tensor): Float32Array;
  zero(t: Tensor): void;
  copy(src: Tensor, dst: Tensor): void;
  dispose(t: Tensor): void;
  stats(): BackendStats;
}

/**
 * Every backend: its memory (TensorMemory) and the ops of the table (src/engine/ops/op-table.ts), which
 * declares each op's arguments once; the methods here are their typed faces.
 */
export interface Backend extends TensorMemory {
  readonly name: string;
  /** Human-readable detail: ISA, threads, device. */
  readonly description: string;

  // ---- layers ----
  /**
   * y[N,M] = x[N,K]·w[M,K]ᵀ + b[M] (b may be null); with relu, y = relu(…) as the relu op computes it
   * (x > 0 ? x : 0), fused into the GEMM's epilogue so the output is not read and written a second time.
   * With dropout (p > 0), y = dropout(…) after that, exactly as the dropout op with that p and key over y
   * would give, in place (the MLP's linear1 with dropout on needs no second [N, 4D] buffer; its backward
   * gates by y itself, see linearBackward's reluScale).
   * With residual ([N, M], not y's storage), y = residual + (all the above), as add(residual, product, y,
   * dropout) would give: a pre-norm block's residual add fused into the product's epilogue (no output buffer
   * of its own for the branch, and no pass that reads it back). Its gradient is dy itself.
   */
  linear(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, relu?: boolean, dropout?: AttentionDropout, residual?: Tensor | null): void;
  /**
   * dx[N,K] += dy·w, dw[M,K] += dyᵀ·x, db[M] += Σ_n dy. Any of dx, dw, db may be null (not wanted).
   * overwriteDx: dx = dy·w instead (a fresh activation gradient: no zero pass, no read of dx).
   * reluOf (needs overwriteDx): the output y of the ReLU that x came from (x itself when nothing lies between
   * them, as in the MLP without dropout); dx = y > 0 ? dy·w : 0 is then the gradient at that ReLU's input: the
   * relu backward (as reluBackward gates) fused into the GEMM's epilogue, instead of a pass that reads dx back.
   * overwriteDw: dw = dyᵀ·x and db = Σ_n dy instead (the step's first gradient of these parameters: the
   * gradient arena then needs no zero pass for them, and the dW GEMM does not read dw back).
   * reluScale (default 1; other values need reluOf): dx = reluOf > 0 ? reluScale·(dy·w) : 0. With dropout
   * between the ReLU and this layer (x = dropout(relu(u)) = keep ? relu(u)/(1 − p) : 0), reluOf = x and
   * reluScale = 1/(1 − p) give the gradient at u in the epilogue, without the dropout's mask: x > 0 exactly
   * where the mask kept an element and the ReLU passed it, and the gradient is 0 everywhere else either way
   * (as dropoutBackward then reluBackward compute it, the same product rounded the same way).
   */
  linearBackward(
    dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null, overwriteDx?: boolean, reluOf?: Tensor | null,
    overwriteDw?: boolean, reluScale?: number,
  ): void;

  /**
   * G linear layers over the same input: y[g] = x[N,K]·w[g]ᵀ + b[g] for g < G (w [G,M,K], b [G,M] or null,
   * y [G,N,M]). The attention's q, k and v from one activation, their weights adjacent in the parameter arena:
   * the CPU runs it as one GEMM over the stacked weights [G·M, K], reading and packing x once.
   */
  linearFanout(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor): void;
  /**
   * The backward of linearFanout: dx[N,K] += Σ_g dy[g]·w[g], dw[g] += dy[g]ᵀ·x, db[g] += Σ_n dy[g] (each may
   * be null); overwriteDx and overwriteDw as in linearBackward (dx = …, dw = … and db = … instead).
   */
  linearFanoutBackward(
    dy: Tensor, x: Tensor, w: Tensor, dx: Tensor | null, dw: Tensor | null, db: Tensor | null, overwriteDx?: boolean, overwriteDw?: boolean,
  ): void;

  /** e[B,T,D] = x[B,T·P] viewed as [B,T,P] · w[D,P]ᵀ + b[D]. */
  patchEmbed(x: Tensor, w: Tensor, b: Tensor, e: Tensor): void;
  patchEmbedBackward(de: Tensor, x: Tensor, w: Tensor, dw: Tensor, db: Tensor, dx: Tensor | null): void;

  /** h[B,S,D]: h[:,0] = token[D], h[:,1:] = e[B,T,D]. */
  startToken(e: Tensor, token: Tensor, h: Tensor): void;
  startTokenBackward(dh: Tensor, de: Tensor | null, dtoken: Tensor | null): void;

  /** y = x·rsqrt(mean(x²) + ε)·scale over the last dim D of x[N,D]; rstd[N] is saved for the backward. */
  rmsNorm(x: Tensor, scale: Tensor, eps: number, y: Tensor, rstd: Tensor): void;
  rmsNormBackward(dy: Tensor, x: Tensor, scale: Tensor, rstd: Tensor, dx: Tensor, dscale: Tensor | null): void;

  /** y = (x − mean)·rstd·γ + β over the last dim C of x[N,C]; mean[N], rstd[N] saved. */
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number, y: Tensor, mean: Tensor, rstd: Tensor): void;
  layerNormBackward(
    dy: Tensor, x: Tensor, gamma: Tensor, mean: Tensor, rstd: Tensor,
    dx: Tensor, dgamma: Tensor | null, dbeta: Tensor | null,
  ): void;

  relu(x: Tensor, y: Tensor): void;
  /** dx = dy where y > 0, else 0 (overwritten). Uses the forward OUTPUT y (y > 0 ⇔ x > 0), so relu may run in place. */
  reluBackward(dy: Tensor, y: Tensor, dx: Tensor): void;
  /** GELU with the exact (erf) form, x·Φ(x) = x·(1 + erf(x/√2))/2, not the tanh approximation; backends compute Φ to
   *  float precision (the CPU kernel from a fitted erfc, relative error below 2e-6: kernels/cpu/elementwise.cc). */
  gelu(x: Tensor, y: Tensor): void;
  /** dx = dy·(Φ(x) + x·φ(x)) (overwritten). */
  geluBackward(dy: Tensor, x: Tensor, dx: Tensor): void;

  /** y = x·mask/(1 − p), mask from Philox(key, element index); p = 0 copies. */
  dropout(x: Tensor, y: Tensor, p: number, key: DropoutKey): void;
  /** dx = dy·mask/(1 − p) (overwritten), the forward's mask. */
  dropoutBackward(dy: Tensor, dx: Tensor, p: number, key: DropoutKey): void;

  /**
   * Causal multi-head attention with partial interleaved RoPE on q and k (DESIGN.md section 3), fused:
   * q, k, v [B,S,D] (heads of d = D/H side by side) → out[B,S,D], lse[B,H,S] (natural-log logsumexp of the
   * scaled scores of each row, kept for the backward). Optional dropout on the attention probabilities.
   * reserve [B,H,S,S] (optional): room for what the forward may keep so that the backward given the same
   * tensor need not recompute it (cuDNN's "reserve space"). Its contents are the backend's own and not a
   * result: the CPU backend keeps the probabilities there (one of its backward's five products fewer); the
   * other backends leave it untouched. See keepsAttentionReserve (src/model/attention-reserve.ts) for when
   * the model passes one.
   */
  ropeAttention(
    q: Tensor, k: Tensor, v: Tensor, heads: number, out: Tensor, lse: Tensor, dropout?: AttentionDropout,
    reserve?: Tensor | null,
  ): void;
  /**
   * Adds the gradients into dq, dk, dv; with overwrite, writes them instead (fresh gradients: no zero pass
   * before, and the old contents are never read, so they may be anything, NaN included).
   * reserve: null, or the tensor the forward of these q, k, v (and dropout key) was given; like lse it is
   * trusted, not checked.
   */
  ropeAttentionBackward(
    dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor, heads: number,
    dq: Tensor, dk: Tensor, dv: Tensor, dropout?: AttentionDropout, overwrite?: boolean, reserve?: Tensor | null,
  ): void;

  /**
   * y = a + b (the residual). Its backward is accumulate(dy, da) and accumulate(dy, db). With dropout (p > 0),
   * y = a + dropout(b), exactly as the dropout op into a buffer and then the add would give, in one pass and
   * without that buffer (the residual after a dropped branch; b's gradient is then dropoutBackward(dy)).
   */
  add(a: Tensor, b: Tensor, y: Tensor, dropout?: AttentionDropout): void;
  /** dst += alpha·src. */
  accumulate(src: Tensor, dst: Tensor, alpha?: number): void;
  /** x *= s in place (gradient clipping, accumulation averaging). */
  scale(x: Tensor, s: number): void;

  /** z[B,D] = mean over S of h[B,S,D]. */
  meanPool(h: Tensor, z: Tensor): void;
  meanPoolBackward(dz: Tensor, dh: Tensor): void;

  /** −λ·dy is added into dx; the forward is the identity (use copy or the tensor itself). */
  gradReverse(dy: Tensor, dx: Tensor, lambda: number): void;

  // ---- losses ----
  /**
   * The HR fine-tuning loss (weightedL1 and logitLaplaceNll of DESIGN.md section 2, fused). out[B,2] holds
   * (μ, log b) per window, hr[B] the label in bpm, w[B] per-sample weights, group[B] group ids in [0, G).
   * Per sample ℓ = |pred − hr| + λ·NLL with pred = 30 + 200·(sigmoid(μ) − ε)/(1 − 2ε). Writes pred[B],
   * sampleLoss[B], loss[1] = Σ w·ℓ, groupLossSum[G] = Σ_{i∈g} ℓ_i and groupCount[G]. The weights are the
   * caller's: 1/B each for the mean, GroupDRO's q_g/count_g for Σ_g q_g·L_g (an absent group adds nothing).
   */
  hrLoss(
    out: Tensor, hr: Tensor, w: Tensor, group: Tensor, opts: HrLossOptions,
    pred: Tensor, sampleLoss: Tensor, loss: Tensor, groupLossSum: Tensor, groupCount: Tensor,
  ): void;
  /** dout[B,2] += scale·∂(Σ w·ℓ)/∂out, with the weights w given now (GroupDRO sets them after the forward). */
  hrLossBackward(out: Tensor, hr: Tensor, w: Tensor, opts: HrLossOptions, dout: Tensor, scale: number): void;

  /**
   * Next-patch pretraining loss: params[B,S,2P] (channels [0,P) μ, [P,2P) log b), x[B,T·P] the window in
   * [0,1] (T ≤ S − 1 patches). Token t predicts patch t. loss[1] = mean logit-Laplace NLL over B·T·P.
   */
  nextPatchNll(params: Tensor, x: Tensor, eps: number, loss: Tensor): void;
  nextPatchNllBackward(params: Tensor, x: Tensor, eps: number, dparams: Tensor, scale: number): void;

  /** loss[1] = mean over N·C of BCE(sigmoid(logits), targets); targets in [0,1]. */
  bceWithLogits(logits: Tensor, targets: Tensor, loss: Tensor): void;
  bceWithLogitsBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void;

  /**
   * loss[1] = mean over the N rows of the cross-entropy −Σ_c t_c·log softmax(z)_c between logits[N,C] and
   * target distributions targets[N,C] (one-hot rows for class labels; the ADV adversary over G groups).
   */
  softmaxCrossEntropy(logits: Tensor, targets: Tensor, loss: Tensor): void;
  /** dlogits += scale·((Σ_c t_c)·softmax(z) − t)/N. */
  softmaxCrossEntropyBackward(logits: Tensor, targets: Tensor, dlogits: Tensor, scale: number): void;

  // ---- fairness and optimisation ----
  /**
   * Online GroupDRO (Sagawa et al. 2020): for every group present (count > 0), q_g ← q_g·exp(η·sum_g/count_g);
   * q renormalised; then per-sample weights w_i = q_{g_i}/count_{g_i}, so that the HR loss Σ w·ℓ is
   * Σ_g q_g·L_g with L_g = 0 for a group absent from the batch, as in the reference implementation.
   */
  groupDroUpdate(q: Tensor, groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, w: Tensor): void;

  /**
   * The FairTune paper's loss reweighting: the present groups' mean losses L_g = sum_g/count_g, normalised
   * to L̂_g = L_g / Σ_present L, set gw_g = 1 + η·L̂_g (an absent group keeps its gw_g); then per-sample
   * weights w_i = gw_{g_i} / Σ_j gw_{g_j}, so the HR loss Σ w·ℓ is a gw-weighted mean over the batch.
   */
  groupLossReweight(groupLossSum: Tensor, groupCount: Tensor, eta: number, group: Tensor, gw: Tensor, w: Tensor): void;

  /** out[B,G]: row i is the one-hot vector of the integer id ids[i] ∈ [0, G). */
  oneHot(ids: Tensor, out: Tensor): void;

  /** Fused AdamW (PyTorch semantics: decoupled decay p ← p·(1 − lr·wd), then the Adam step). */
  /**
   * With `norm` (a [1] tensor globalNorm wrote), the clip factor is computed on the device from it, and a
   * norm that is not finite leaves param, m and v untouched (the caller reads the norm and refuses the step).
   */
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, opts: AdamWOptions, norm?: Tensor | null): void;

  /** Σ x² over all the tensors (the square of the global norm), returned to the host as a scalar. */
  sumSquares(tensors: readonly Tensor[]): number;

  /** norm[0] = sqrt(Σ x²) over all the tensors (summed in float64 where the device has it), left on the device. */
  globalNorm(tensors: readonly Tensor[], norm: Tensor): void;
}
