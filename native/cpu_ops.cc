// The cpu addon's kernel for every op of the table: run(a, params) with the arguments the generated glue
// (generated/op_glue.h) has read and checked. Host Float32Arrays go straight to the kernels in kernels/cpu.
#include <algorithm>
#include <cmath>

#include "../kernels/cpu/attention.h"
#include "../kernels/cpu/dropout.h"
#include "../kernels/cpu/elementwise.h"
#include "../kernels/cpu/gemm.h"
#include "../kernels/cpu/loss.h"
#include "../kernels/cpu/norm.h"
#include "../kernels/cpu/optim.h"
#include "../kernels/cpu/sequence.h"
#include "adamw_params.h"
#include "generated/op_glue.h"
#include "ops.h"

namespace ftn {

namespace {

ft::DropoutKey dropout_key(int64_t seed, int64_t step, int64_t site) {
  return ft::DropoutKey{(uint64_t)seed, (uint32_t)step, (uint32_t)site};
}

/** Reads a tensor argument as a Float32Array. */
struct HostArrays {
  static F32 tensor(Args& a, const Napi::CallbackInfo&, size_t i, const char* name, std::initializer_list<int64_t> dims,
                    bool optional) {
    return optional ? a.optional_array(i, name, dims) : a.array(i, name, dims);
  }
  static std::vector<F32> tensor_list(Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
    if (!info[i].IsArray()) a.fail(std::string("argument 1 '") + name + "' must be an Array of Float32Array");
    Napi::Array arr = info[i].As<Napi::Array>();
    std::vector<F32> out;
    for (uint32_t j = 0; j < arr.Length(); ++j) {
      Napi::Value v = arr.Get(j);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        a.fail(std::string(name) + "[" + std::to_string(j) + "] must be a Float32Array");
      }
      Napi::Float32Array f = v.As<Napi::Float32Array>();
      out.push_back(F32{f.Data(), (int64_t)f.ElementLength(), name});
    }
    return out;
  }
  static void group_ids(Args& a, const F32& ids, int64_t G) { a.group_ids(ids, G); }
  static void finish(Args&) {}
};

}  // namespace

namespace ops {

// ---- layers ----
void run(Args&, const Linear& p) {
  const bool drop = p.p > 0.0;
  // The residual goes into the GEMM's epilogue unless a dropout comes between: that must apply to the product
  // alone, so it takes the add's dropout pass instead.
  const float* addend = drop ? nullptr : p.residual.data;
  ft::gemm(p.N, p.M, p.K, {p.x.data, p.K, 1}, {p.w.data, 1, p.K}, p.y.data, p.M, false, p.b.data, p.relu != 0, nullptr,
           nullptr, 1.0f, addend);
  // Dropout (p > 0): the dropout op's pass, in place over the product (with a residual, add's: residual +
  // dropout(product)). Applied to each tile inside the GEMM instead (while in cache) it measured no faster:
  // see docs/design-notes.md.
  if (drop) {
    const ft::DropoutKey key = dropout_key(p.seed, p.step, p.site);
    if (p.residual.data) {
      ft::dropout_add_forward(p.residual.data, p.y.data, p.y.data, p.N * p.M, p.p, key);
    } else {
      ft::dropout_forward(p.y.data, p.y.data, p.N * p.M, p.p, key);
    }
  }
}
void run(Args&, const LinearBackward& p) {
  // dx += dy·w, or dx = dy·w for a fresh activation gradient (overwriteDx), gated by reluOf > 0 (and times
  // reluScale where it passes) in the GEMM's epilogue when given (the glue has checked that overwriteDx is set
  // then, and that reluScale is 1 without it).
  if (p.dx) {
    ft::gemm(p.N, p.K, p.M, {p.dy.data, p.M, 1}, {p.w.data, p.K, 1}, p.dx.data, p.K, p.overwriteDx == 0, nullptr, false,
             p.reluOf.data, nullptr, (float)p.reluScale);
  }
  // dw (+)= dyᵀ·x, db (+)= Σ_n dy: overwriteDw for the step's first gradient of w and b (no zero pass before,
  // and the GEMM does not read dw).
  // db from the packing of dyᵀ where the GEMM packs it (gemm.h: a_sums), else its own pass over dy.
  const bool acc_w = p.overwriteDw == 0;
  bool db_done = false;
  if (p.dw)
    db_done = ft::gemm(p.M, p.K, p.N, {p.dy.data, 1, p.M}, {p.x.data, p.K, 1}, p.dw.data, p.K, acc_w, nullptr, false,
                       nullptr, nullptr, 1.0f, nullptr, p.db.data, acc_w);
  if (p.db && !db_done) ft::column_sums_add(p.dy.data, p.N, p.M, p.db.data, acc_w);
}
void run(Args&, const LinearFanout& p) {
  // y[g] = x·w[g]ᵀ + b[g]: one GEMM over the stacked weights [G·M, K] (x packed or read once), its columns
  // split into the G output blocks [N, M].
  const ft::Split cols{ft::Split::Cols, p.M, p.N * p.M};
  ft::gemm(p.N, p.G * p.M, p.K, {p.x.data, p.K, 1}, {p.w.data, 1, p.K}, p.y.data, p.M, false, p.b.data, false, nullptr,
           &cols);
}
void run(Args&, const LinearFanoutBackward& p) {
  // dx (+)= Σ_g dy[g]·w[g] = [dy[0] … dy[G-1]]·[w[0]; …; w[G-1]]: one product over k = G·M, A's columns split
  // into the G blocks of dy, the stacked weights as B (dx written once, not G times).
  if (p.dx) {
    const ft::Split depth{ft::Split::Depth, p.M, p.N * p.M};
    ft::gemm(p.N, p.K, p.G * p.M, {p.dy.data, p.M, 1}, {p.w.data, p.K, 1}, p.dx.data, p.K, p.overwriteDx == 0, nullptr,
             false, nullptr, &depth);
  }
  // dw = [dy[0]ᵀ; …; dy[G-1]ᵀ]·x: one GEMM with A's rows split into the G blocks (x packed once), then db[g].
  const bool acc_w = p.overwriteDw == 0;
  bool db_done = false;
  if (p.dw) {
    const ft::Split rows{ft::Split::Rows, p.M, p.N * p.M};
    db_done = ft::gemm(p.G * p.M, p.K, p.N, {p.dy.data, 1, p.M}, {p.x.data, p.K, 1}, p.dw.data, p.K, acc_w, nullptr,
                       false, nullptr, &rows, 1.0f, nullptr, p.db.data, acc_w);
  }
  if (p.db && !db_done) {
    for (int64_t g = 0; g < p.G; ++g) ft::column_sums_add(p.dy.data + g * p.N * p.M, p.N, p.M, p.db.data + g * p.M, acc_w);
  }
}
void run(Args&, const StartToken& p) { ft::start_token_forward(p.e.data, p.token.data, p.h.data, p.B, p.T, p.D); }
void run(Args&, const StartTokenBackward& p) {
  ft::start_token_backward(p.dh.data, p.de.data, p.dtoken.data, p.B, p.T, p.D);
}
void run(Args&, const RmsNorm& p) { ft::rms_norm_forward(p.x.data, p.scale.data, p.eps, p.y.data, p.rstd.data, p.N, p.D); }
void run(Args&, const RmsNormBackward& p) {
  ft::rms_norm_backward(p.dy.data, p.x.data, p.scale.data, p.rstd.data, p.dx.data, p.dscale.data, p.N, p.D);
}
void run(Args&, const LayerNorm& p) {
  ft::layer_norm_forward(p.x.data, p.gamma.data, p.beta.data, p.eps, p.y.data, p.mean.data, p.rstd.data, p.N, p.C);
}
void run(Args&, const LayerNormBackward& p) {
  ft::layer_norm_backward(p.dy.data, p.x.data, p.gamma.data, p.mean.data, p.rstd.data, p.dx.data, p.dgamma.data,
                          p.dbeta.data, p.N, p.C);
}
void run(Args&, const MeanPool& p) { ft::mean_pool_forward(p.h.data, p.z.data, p.B, p.S, p.D); }
void run(Args&, const MeanPoolBackward& p) { ft::mean_pool_backward(p.dz.data, p.dh.data, p.B, p.S, p.D); }

// ---- elementwise ----
void run(Args&, const Relu& p) { ft::relu_forward(p.x.data, p.y.data, p.n); }
void run(Args&, const ReluBackward& p) { ft::relu_backward(p.dy.data, p.y.data, p.dx.data, p.n); }
void run(Args&, const Gelu& p) { ft::gelu_forward(p.x.data, p.y.data, p.n); }
void run(Args&, const GeluBackward& p) { ft::gelu_backward(p.dy.data, p.x.data, p.dx.data, p.n); }
void run(Args&, const Dropout& p) {
  ft::dropout_forward(p.x.data, p.y.data, p.n, p.p, dropout_key(p.seed, p.step, p.site));
}
void run(Args&, const DropoutBackward& p) {
  ft::dropout_backward(p.dy.data, p.dx.data, p.n, p.p, dropout_key(p.seed, p.step, p.site));
}
void run(Args&, const Add& p) {
  // With dropout (p > 0): y = a + dropout(b) in one pass (the dropout kernels' Add form).
  if (p.p > 0.0) ft::dropout_add_forward(p.a.data, p.b.data, p.y.data, p.n, p.p, dropout_key(p.seed, p.step, p.site));
  else ft::add_forward(p.a.data, p.b.data, p.y.data, p.n);
}
void run(Args&, const Accumulate& p) { ft::axpy(p.src.data, p.dst.data, (float)p.alpha, p.n); }
void run(Args&, const Scale& p) { ft::scale_inplace(p.x.data, (float)p.s, p.n); }
void run(Args&, const GradReverse& p) { ft::axpy(p.dy.data, p.dx.data, (float)-p.lambda, p.n); }

// ---- attention: dropout on the probabilities only when p > 0 ----
static ft::AttnDropout attn_dropout(double p, int64_t seed, int64_t step, int64_t site) {
  return ft::AttnDropout{(float)p, ft::dropout_threshold(p), dropout_key(seed, step, site)};
}
void run(Args&, const RopeAttention& p) {
  const ft::AttnDropout drop = attn_dropout(p.p, p.seed, p.step, p.site);
  ft::rope_attention_forward(p.q.data, p.k.data, p.v.data, p.out.data, p.lse.data, p.B, p.S, p.H, p.D,
                             p.p > 0.0 ? &drop : nullptr, p.reserve.data);
}
void run(Args&, const RopeAttentionBackward& p) {
  const ft::AttnDropout drop = attn_dropout(p.p, p.seed, p.step, p.site);
  ft::rope_attention_backward(p.dout.data, p.q.data, p.k.data, p.v.data, p.out.data, p.lse.data, p.dq.data, p.dk.data,
                              p.dv.data, p.B, p.S, p.H, p.D, p.p > 0.0 ? &drop : nullptr, p.overwrite != 0,
                              p.reserve.data);
}

// ---- losses ----
void run(Args&, const HrLoss& p) {
  ft::hr_loss_forward(p.out.data, p.hr.data, p.w.data, p.group.data, ft::HrLossParams{p.lambda, p.eps}, p.pred.data,
                      p.sampleLoss.data, p.loss.data, p.groupLossSum.data, p.groupCount.data, p.B, p.G);
}
void run(Args&, const HrLossBackward& p) {
  ft::hr_loss_backward(p.out.data, p.hr.data, p.w.data, ft::HrLossParams{p.lambda, p.eps}, p.dout.data, p.scale, p.B);
}
void run(Args&, const NextPatchNll& p) {
  ft::next_patch_nll_forward(p.params.data, p.x.data, p.eps, p.loss.data, p.B, p.S, p.T, p.P);
}
void run(Args&, const NextPatchNllBackward& p) {
  ft::next_patch_nll_backward(p.params.data, p.x.data, p.eps, p.dparams.data, p.scale, p.B, p.S, p.T, p.P);
}
void run(Args&, const BceWithLogits& p) { ft::bce_with_logits_forward(p.logits.data, p.targets.data, p.loss.data, p.N * p.C); }
void run(Args&, const BceWithLogitsBackward& p) {
  ft::bce_with_logits_backward(p.logits.data, p.targets.data, p.dlogits.data, p.scale, p.N * p.C);
}

void run(Args&, const SoftmaxCrossEntropy& p) { ft::softmax_ce_forward(p.logits.data, p.targets.data, p.loss.data, p.N, p.C); }
void run(Args&, const SoftmaxCrossEntropyBackward& p) {
  ft::softmax_ce_backward(p.logits.data, p.targets.data, p.dlogits.data, p.scale, p.N, p.C);
}

// ---- fairness and optimisation ----
void run(Args&, const GroupDroUpdate& p) {
  ft::group_dro_update(p.q.data, p.groupLossSum.data, p.groupCount.data, p.eta, p.group.data, p.w.data, p.G, p.B);
}
void run(Args&, const GroupLossReweight& p) {
  ft::group_loss_reweight(p.groupLossSum.data, p.groupCount.data, p.eta, p.group.data, p.gw.data, p.w.data, p.G, p.B);
}
void run(Args&, const Adamw& p) {
  ft::AdamWParams prm = adamw_params<ft::AdamWParams>(p);
  if (p.norm) {
    const double scale = clipped_scale(p.gradScale, p.maxNorm, p.norm.data[0]);
    if (std::isnan(scale)) return;  // the norm is not finite: no update (the caller refuses the step)
    prm.grad_scale = (float)scale;
  }
  ft::adamw_update(p.param.data, p.grad.data, p.m.data, p.v.data, p.n, prm);
}
static double sum_squares_of(const std::vector<F32>& tensors) {
  double total = 0;
  for (const F32& t : tensors) {
    if (t.len > 0) total += ft::sum_squares(t.data, t.len);
  }
  return total;
}
double run(Args&, const SumSquares& p) { return sum_squares_of(p.tensors); }
// The ids were checked natively (Dev::group_ids): every one indexes its row.
void run(Args&, const OneHot& p) {
  std::fill(p.out.data, p.out.data + p.B * p.G, 0.0f);
  for (int64_t i = 0; i < p.B; ++i) p.out.data[i * p.G + (int64_t)p.ids.data[i]] = 1.0f;
}
void run(Args&, const GlobalNorm& p) { p.norm.data[0] = (float)std::sqrt(sum_squares_of(p.tensors)); }

}  // namespace ops

void register_table_ops(Napi::Env env, Napi::Object exports) { register_ops<HostArrays>(env, exports); }

}  // namespace ftn
