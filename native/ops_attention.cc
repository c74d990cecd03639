// Glue for the fused RoPE causal attention (kernels/cpu/attention.h). Dropout on the attention
// probabilities is requested with p > 0; p = 0 passes no dropout to the kernel.
#include "../kernels/cpu/attention.h"
#include "args.h"
#include "dropout_args.h"
#include "ops.h"

namespace ftn {
namespace {

struct AttnDims {
  int64_t B, S, D, H;
};

AttnDims attn_dims(Args& a, size_t first) {
  AttnDims d;
  d.B = a.dim(first, "B");
  d.S = a.dim(first + 1, "S");
  d.D = a.dim(first + 2, "D");
  d.H = a.dim(first + 3, "H");
  if (d.D % d.H != 0) a.fail("D must be divisible by the number of heads H");
  if ((d.D / d.H) % 4 != 0) a.fail("the head width D / H must be a multiple of 4 (the rotary pairs of partial RoPE)");
  return d;
}

ft::AttnDropout attn_dropout(const DropoutArgs& d) {
  ft::AttnDropout o;
  o.p = (float)d.p;
  o.threshold = ft::dropout_threshold(d.p);
  o.key = d.key;
  return o;
}

// ropeAttention(q, k, v, out [B,S,D], lse [B,H,S], B, S, D, H, p, seed, step, site)
Napi::Value ropeAttention(const Napi::CallbackInfo& info) {
  Args a(info, "ropeAttention", 13);
  const AttnDims d = attn_dims(a, 5);
  F32 q = a.array(0, "q", {d.B, d.S, d.D}), k = a.array(1, "k", {d.B, d.S, d.D}), v = a.array(2, "v", {d.B, d.S, d.D});
  F32 out = a.array(3, "out", {d.B, d.S, d.D}), lse = a.array(4, "lse", {d.B, d.H, d.S});
  const DropoutArgs dr = read_dropout(a, 9);
  a.outputs_disjoint({&out, &lse}, {&q, &k, &v});
  const ft::AttnDropout drop = attn_dropout(dr);
  ft::rope_attention_forward(q.data, k.data, v.data, out.data, lse.data, d.B, d.S, d.H, d.D,
                             dr.p > 0.0 ? &drop : nullptr);
  return a.env().Undefined();
}

// ropeAttentionBackward(dout, q, k, v, out, lse, dq, dk, dv, B, S, D, H, p, seed, step, site)
Napi::Value ropeAttentionBackward(const Napi::CallbackInfo& info) {
  Args a(info, "ropeAttentionBackward", 17);
  const AttnDims d = attn_dims(a, 9);
  const std::initializer_list<int64_t> bsd = {d.B, d.S, d.D};
  F32 dout = a.array(0, "dout", bsd), q = a.array(1, "q", bsd), k = a.array(2, "k", bsd), v = a.array(3, "v", bsd);
  F32 out = a.array(4, "out", bsd), lse = a.array(5, "lse", {d.B, d.H, d.S});
  F32 dq = a.array(6, "dq", bsd), dk = a.array(7, "dk", bsd), dv = a.array(8, "dv", bsd);
  const DropoutArgs dr = read_dropout(a, 13);
  a.outputs_disjoint({&dq, &dk, &dv}, {&dout, &q, &k, &v, &out, &lse});
  const ft::AttnDropout drop = attn_dropout(dr);
  ft::rope_attention_backward(dout.data, q.data, k.data, v.data, out.data, lse.data, dq.data, dk.data, dv.data, d.B,
                              d.S, d.H, d.D, dr.p > 0.0 ? &drop : nullptr);
  return a.env().Undefined();
}

}  // namespace

void register_attention_ops(Napi::Env env, Napi::Object exports) {
  FTN_EXPORT(exports, env, ropeAttention);
  FTN_EXPORT(exports, env, ropeAttentionBackward);
}

}  // namespace ftn
