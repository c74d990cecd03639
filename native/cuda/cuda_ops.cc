// The CUDA addons' kernel for every op of the table: run(a, params) with the device views the generated
// glue (../generated/op_glue.h) has read and checked, then a check that the launches succeeded. The same
// file serves the real GPU (fairtune_cuda) and the emulator (fairtune_cuda_emu).
#include <cmath>
#include <sstream>

#include "../../kernels/cuda/ops.h"
#include "../adamw_params.h"
#include "../generated/op_glue.h"
#include "device.h"
#include "ops.h"

namespace ftn {
namespace {

using ftcn::check_launch;

/** Reads a tensor argument as a device view {buf, offset, length}. */
struct DeviceViews {
  static F32 tensor(Args& a, const Napi::CallbackInfo& info, size_t i, const char* name, std::initializer_list<int64_t> dims,
                    bool optional) {
    return ftcn::view_arg(a, info, i, name, dims, optional);
  }
  static std::vector<F32> tensor_list(Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
    if (!info[i].IsArray()) a.fail(std::string("argument 1 '") + name + "' must be an Array of device views");
    Napi::Array arr = info[i].As<Napi::Array>();
    std::vector<F32> out;
    for (uint32_t j = 0; j < arr.Length(); ++j) out.push_back(ftcn::view_list_item(a, arr.Get(j), name, j));
    return out;
  }
  // Group ids index device arrays, but reading them here would cost a blocking copy per op: the kernels
  // guard every id themselves (kernels/cuda/optim.cu group_index; hrLoss only compares ids), and the
  // TypeScript layer checks their values on the host shadow of the uploaded batch.
  static void group_ids(Args&, const F32&, int64_t) {}
  // After the launches of an op: launch errors (invalid configuration, emulated deadlock) become JS errors.
  static void finish(Args& a) { check_launch(a); }
};

ftc::DropKey drop_key(double p, int64_t seed, int64_t step, int64_t site) {
  return ftc::make_drop_key(p, (uint64_t)seed, (uint32_t)step, (uint32_t)site);
}

// The attention kernels are built for head dims up to ATTN_MAX_HEAD_DIM (a limit of this backend, not of the op).
void head_dim_supported(Args& a, int64_t D, int64_t H) {
  if (D / H > ftc::ATTN_MAX_HEAD_DIM) {
    std::ostringstream s;
    s << "head dim D/H = " << D / H << " exceeds " << ftc::ATTN_MAX_HEAD_DIM
      << ", the largest the CUDA attention kernels are built for";
    a.fail(s.str());
  }
}

}  // namespace

namespace ops {

// ---- layers ----
void run(Args&, const Linear& p) {
  // The residual in the GEMMs' epilogue (store_c) unless a dropout comes between: that applies to the product
  // alone, so with one the product is written and the dropout kernel runs in place over it (as the CPU
  // backend applies it), add's form with a residual (y = residual + dropout(product)).
  const bool drop = p.p > 0.0;
  ftc::linear_forward(p.x.data, p.w.data, p.b.data, p.y.data, p.N, p.K, p.M, p.relu != 0, drop ? nullptr : p.residual.data);
  if (!drop) return;
  const int64_t n = p.N * p.M;
  if (p.residual.data) ftc::add_dropout(p.residual.data, p.y.data, p.y.data, n, drop_key(p.p, p.seed, p.step, p.site));
  else ftc::dropout_forward(p.y.data, p.y.data, n, drop_key(p.p, p.seed, p.step, p.site));
}
void run(Args&, const LinearBackward& p) {
  ftc::linear_backward(p.dy.data, p.x.data, p.w.data, p.dx.data, p.dw.data, p.db.data, p.N, p.K, p.M, p.overwriteDx != 0,
                       p.reluOf.data, p.overwriteDw != 0, (float)p.reluScale);
}
// linearFanout as G launches of the linear kernels on the blocks' device pointers (the CPU fuses the G GEMMs
// to pack the shared input once; the device GEMMs read it from global memory per tile either way).
void run(Args&, const LinearFanout& p) {
  for (int64_t g = 0; g < p.G; ++g) {
    ftc::linear_forward(p.x.data, p.w.data + g * p.M * p.K, p.b.data ? p.b.data + g * p.M : nullptr,
                        p.y.data + g * p.N * p.M, p.N, p.K, p.M);
  }
}
void run(Args&, const LinearFanoutBackward& p) {
  auto at = [](float* t, int64_t offset) { return t ? t + offset : nullptr; };
  for (int64_t g = 0; g < p.G; ++g) {
    ftc::linear_backward(p.dy.data + g * p.N * p.M, p.x.data, p.w.data + g * p.M * p.K, p.dx.data, at(p.dw.data, g * p.M * p.K),
                         at(p.db.data, g * p.M), p.N, p.K, p.M, p.overwriteDx != 0 && g == 0, nullptr, p.overwriteDw != 0);
  }
}
void run(Args&, const StartToken& p) { ftc::start_token_forward(p.e.data, p.token.data, p.h.data, p.B, p.T, p.D); }
void run(Args&, const StartTokenBackward& p) {
  ftc::start_token_backward(p.dh.data, p.de.data, p.dtoken.data, p.B, p.T, p.D);
}
void run(Args&, const RmsNorm& p) {
  ftc::rms_norm_forward(p.x.data, p.scale.data, (float)p.eps, p.y.data, p.rstd.data, p.N, p.D);
}
void run(Args&, const RmsNormBackward& p) {
  ftc::rms_norm_backward(p.dy.data, p.x.data, p.scale.data, p.rstd.data, p.dx.data, p.dscale.data, p.N, p.D);
}
void run(Args&, const LayerNorm& p) {
  ftc::layer_norm_forward(p.x.data, p.gamma.data, p.beta.data, (float)p.eps, p.y.data, p.mean.data, p.rstd.data, p.N, p.C);
}
void run(Args&, const LayerNormBackward& p) {
  ftc::layer_norm_backward(p.dy.data, p.x.data, p.gamma.data, p.mean.data, p.rstd.data, p.dx.data, p.dgamma.data,
                           p.dbeta.data, p.N, p.C);
}
void run(Args&, const MeanPool& p) { ftc::mean_pool_forward(p.h.data, p.z.data, p.B, p.S, p.D); }
void run(Args&, const MeanPoolBackward& p) { ftc::mean_pool_backward(p.dz.data, p.dh.data, p.B, p.S, p.D); }

// ---- elementwise ----
void run(Args&, const Relu& p) { ftc::relu_forward(p.x.data, p.y.data, p.n); }
void run(Args&, const ReluBackward& p) { ftc::relu_backward(p.dy.data, p.y.data, p.dx.data, p.n); }
void run(Args&, const Gelu& p) { ftc::gelu_forward(p.x.data, p.y.data, p.n); }
void run(Args&, const GeluBackward& p) { ftc::gelu_backward(p.dy.data, p.x.data, p.dx.data, p.n); }
void run(Args&, const Dropout& p) {
  ftc::dropout_forward(p.x.data, p.y.data, p.n, drop_key(p.p, p.seed, p.step, p.site));
}
void run(Args&, const DropoutBackward& p) {
  ftc::dropout_backward(p.dy.data, p.dx.data, p.n, drop_key(p.p, p.seed, p.step, p.site));
}
void run(Args&, const Add& p) {
  if (p.p > 0.0) ftc::add_dropout(p.a.data, p.b.data, p.y.data, p.n, drop_key(p.p, p.seed, p.step, p.site));
  else ftc::add(p.a.data, p.b.data, p.y.data, p.n);
}
void run(Args&, const Accumulate& p) { ftc::accumulate(p.src.data, p.dst.data, (float)p.alpha, p.n); }
void run(Args&, const Scale& p) { ftc::scale(p.x.data, (float)p.s, p.n); }
void run(Args&, const GradReverse& p) { ftc::accumulate(p.dy.data, p.dx.data, (float)-p.lambda, p.n); }

// ---- attention ----
// The reserve (p.reserve) is left untouched: these kernels recompute the probabilities in the backward from lse,
// which the op allows (Backend.ropeAttention).
void run(Args& a, const RopeAttention& p) {
  head_dim_supported(a, p.D, p.H);
  float* scratch = ftcn::workspace(a, ftc::attention_forward_scratch(p.B, p.S, p.D, p.H));
  ftc::attention_forward(p.q.data, p.k.data, p.v.data, p.out.data, p.lse.data, scratch, p.B, p.S, p.D, p.H,
                         drop_key(p.p, p.seed, p.step, p.site));
}
void run(Args& a, const RopeAttentionBackward& p) {
  head_dim_supported(a, p.D, p.H);
  float* scratch = ftcn::workspace(a, ftc::attention_backward_scratch(p.B, p.S, p.D, p.H));
  ftc::attention_backward(p.dout.data, p.q.data, p.k.data, p.v.data, p.out.data, p.lse.data, p.dq.data, p.dk.data,
                          p.dv.data, scratch, p.B, p.S, p.D, p.H, drop_key(p.p, p.seed, p.step, p.site), p.overwrite != 0);
}

// ---- losses ----
void run(Args&, const HrLoss& p) {
  ftc::hr_loss_forward(p.out.data, p.hr.data, p.w.data, p.group.data, ftc::HrParams{(float)p.lambda, (float)p.eps},
                       p.pred.data, p.sampleLoss.data, p.loss.data, p.groupLossSum.data, p.groupCount.data, p.B, p.G);
}
void run(Args&, const HrLossBackward& p) {
  ftc::hr_loss_backward(p.out.data, p.hr.data, p.w.data, ftc::HrParams{(float)p.lambda, (float)p.eps}, p.dout.data,
                        (float)p.scale, p.B);
}
void run(Args&, const NextPatchNll& p) {
  ftc::next_patch_nll_forward(p.params.data, p.x.data, (float)p.eps, p.loss.data, p.B, p.S, p.T, p.P);
}
void run(Args&, const NextPatchNllBackward& p) {
  ftc::next_patch_nll_backward(p.params.data, p.x.data, (float)p.eps, p.dparams.data, (float)p.scale, p.B, p.S, p.T, p.P);
}
void run(Args&, const BceWithLogits& p) { ftc::bce_forward(p.logits.data, p.targets.data, p.loss.data, p.N * p.C); }
void run(Args&, const BceWithLogitsBackward& p) {
  ftc::bce_backward(p.logits.data, p.targets.data, p.dlogits.data, (float)p.scale, p.N * p.C);
}

void run(Args&, const SoftmaxCrossEntropy& p) {
  ftc::softmax_ce_forward(p.logits.data, p.targets.data, p.loss.data, p.N, p.C);
}
void run(Args&, const SoftmaxCrossEntropyBackward& p) {
  ftc::softmax_ce_backward(p.logits.data, p.targets.data, p.dlogits.data, (float)p.scale, p.N, p.C);
}

// ---- fairness and optimisation ----
void run(Args&, const GroupDroUpdate& p) {
  ftc::group_dro_update(p.q.data, p.groupLossSum.data, p.groupCount.data, (float)p.eta, p.group.data, p.w.data, p.G, p.B);
}
void run(Args&, const GroupLossReweight& p) {
  ftc::group_loss_reweight(p.groupLossSum.data, p.groupCount.data, (float)p.eta, p.group.data, p.gw.data, p.w.data, p.G, p.B);
}
void run(Args&, const Adamw& p) {
  ftc::AdamWParams prm = adamw_params<ftc::AdamWParams>(p);
  prm.max_norm = (float)p.maxNorm;  // read by the kernel with the device norm (the cpu resolves it on the host)
  ftc::adamw(p.param.data, p.grad.data, p.m.data, p.v.data, p.n, prm, p.norm ? p.norm.data : nullptr);
}
void run(Args&, const OneHot& p) { ftc::one_hot(p.ids.data, p.out.data, p.B, p.G); }
// Σ x² over the tensors into one device double (zeroed first), in a fixed order.
static double* sum_squares_on_device(Args& a, const std::vector<F32>& tensors) {
  double* acc = ftcn::sum_accumulator(a);
  ftcn::check(a, cudaMemsetAsync(acc, 0, sizeof(double), ftc::stream()), "cudaMemsetAsync");
  for (const F32& t : tensors) {
    if (t.len > 0) ftc::sum_squares_add(t.data, t.len, acc);
  }
  return acc;
}
// The global norm stays on the device for AdamW's clipping: no copy back.
void run(Args& a, const GlobalNorm& p) { ftc::store_norm(sum_squares_on_device(a, p.tensors), p.norm.data); }
// The one op that returns a number: one device double, zeroed once and read back once per call.
double run(Args& a, const SumSquares& p) {
  double* acc = sum_squares_on_device(a, p.tensors);
  check_launch(a);
  double total = 0;
  ftcn::check(a, cudaMemcpyAsync(&total, acc, sizeof(double), cudaMemcpyDeviceToHost, ftc::stream()), "cudaMemcpyAsync");
  ftcn::check(a, cudaStreamSynchronize(ftc::stream()), "cudaStreamSynchronize");
  return total;
}

}  // namespace ops
}  // namespace ftn

namespace ftcn {
void register_table_ops(Napi::Env env, Napi::Object exports) { ftn::register_ops<ftn::DeviceViews>(env, exports); }
}  // namespace ftcn
