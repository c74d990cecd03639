// Glue for the fused RoPE attention (forward and backward).
#include <sstream>

#include "../../kernels/cuda/ops.h"
#include "device.h"
#include "dropout_args.h"
#include "ops.h"

namespace ftcn {
namespace {

void head_dims(Args& a, int64_t D, int64_t H) {
  if (D % H != 0) a.fail("model width D must be divisible by heads H");
  const int64_t d = D / H;
  if (d % 4 != 0) a.fail("head dim D/H must be a multiple of 4 (RoPE rotates d/2 features in pairs)");
  if (d > ftc::ATTN_MAX_HEAD_DIM) {
    std::ostringstream s;
    s << "head dim D/H = " << d << " exceeds " << ftc::ATTN_MAX_HEAD_DIM
      << ", the largest the CUDA attention kernels are built for";
    a.fail(s.str());
  }
}

// ropeAttention(q, k, v, out, lse, B, S, D, H, p, seed, step, site)
Napi::Value ropeAttention(const Napi::CallbackInfo& info) {
  Args a(info, "ropeAttention", 13);
  const int64_t B = a.dim(5, "B"), S = a.dim(6, "S"), D = a.dim(7, "D"), H = a.dim(8, "H");
  head_dims(a, D, H);
  F32 q = view_arg(a, info, 0, "q", {B, S, D}), k = view_arg(a, info, 1, "k", {B, S, D});
  F32 v = view_arg(a, info, 2, "v", {B, S, D}), out = view_arg(a, info, 3, "out", {B, S, D});
  F32 lse = view_arg(a, info, 4, "lse", {B, H, S});
  const ftc::DropKey drop = read_drop(a, 9);
  a.outputs_disjoint({&out, &lse}, {&q, &k, &v});
  float* scratch = workspace(a, ftc::attention_forward_scratch(S, D, H));
  ftc::attention_forward(q.data, k.data, v.data, out.data, lse.data, scratch, B, S, D, H, drop);
  check_launch(a);
  return a.env().Undefined();
}

// ropeAttentionBackward(dout, q, k, v, out, lse, dq, dk, dv, B, S, D, H, p, seed, step, site)
Napi::Value ropeAttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "ropeAttentionBackward", 17);
  const int64_t B = a.dim(9, "B"), S = a.dim(10, "S"), D = a.dim(11, "D"), H = a.dim(12, "H");
  head_dims(a, D, H);
  F32 dout = view_arg(a, info, 0, "dout", {B, S, D}), q = view_arg(a, info, 1, "q", {B, S, D});
  F32 k = view_arg(a, info, 2, "k", {B, S, D}), v = view_arg(a, info, 3, "v", {B, S, D});
  F32 out = view_arg(a, info, 4, "out", {B, S, D}), lse = view_arg(a, info, 5, "lse", {B, H, S});
  F32 dq = view_arg(a, info, 6, "dq", {B, S, D}), dk = view_arg(a, info, 7, "dk", {B, S, D});
  F32 dv = view_arg(a, info, 8, "dv", {B, S, D});
  const ftc::DropKey drop = read_drop(a, 13);
  a.outputs_disjoint({&dq, &dk, &dv}, {&dout, &q, &k, &v, &out, &lse});
  float* scratch = workspace(a, ftc::attention_backward_scratch(B, S, D, H));
  ftc::attention_backward(dout.data, q.data, k.data, v.data, out.data, lse.data, dq.data, dk.data, dv.data, scratch,
                          B, S, D, H, drop);
  check_launch(a);
  return a.env().Undefined();
}

}  // namespace

void register_attention_ops(Napi::Env env, Napi::Object exports) {
  FTCN_EXPORT(exports, env, ropeAttention);
  FTCN_EXPORT(exports, env, ropeAttentionBackward);
}

}  // namespace ftcn
