// Glue for linear, the norms and the token-row ops: validate, then call the kernel.
#include "../kernels/cpu/gemm.h"
#include "../kernels/cpu/norm.h"
#include "../kernels/cpu/sequence.h"
#include "args.h"
#include "ops.h"

namespace ftn {
namespace {

// linear(x[N,K], w[M,K], b[M] | null, y[N,M], N, K, M): y = x·wᵀ + b.
Napi::Value linear(const Napi::CallbackInfo& info) {
  Args a(info, "linear", 7);
  const int64_t N = a.dim(4, "N"), K = a.dim(5, "K"), M = a.dim(6, "M");
  F32 x = a.array(0, "x", {N, K}), w = a.array(1, "w", {M, K}), b = a.optional_array(2, "b", {M});
  F32 y = a.array(3, "y", {N, M});
  a.outputs_disjoint({&y}, {&x, &w, &b});
  ft::gemm(N, M, K, {x.data, K, 1}, {w.data, 1, K}, y.data, M, false, b.data);
  return a.env().Undefined();
}

// linearBackward(dy[N,M], x[N,K], w[M,K], dx[N,K] | null, dw[M,K] | null, db[M] | null, N, K, M).
Napi::Value linearBackward(const Napi::CallbackInfo& info) {
  Args a(info, "linearBackward", 9);
  const int64_t N = a.dim(6, "N"), K = a.dim(7, "K"), M = a.dim(8, "M");
  F32 dy = a.array(0, "dy", {N, M}), x = a.array(1, "x", {N, K}), w = a.array(2, "w", {M, K});
  F32 dx = a.optional_array(3, "dx", {N, K}), dw = a.optional_array(4, "dw", {M, K}), db = a.optional_array(5, "db", {M});
  a.outputs_disjoint({&dx, &dw, &db}, {&dy, &x, &w});
  if (dx) ft::gemm(N, K, M, {dy.data, M, 1}, {w.data, K, 1}, dx.data, K, true, nullptr);  // dx += dy·w
  if (dw) ft::gemm(M, K, N, {dy.data, 1, M}, {x.data, K, 1}, dw.data, K, true, nullptr);  // dw += dyᵀ·x
  if (db) ft::column_sums_add(dy.data, N, M, db.data);
  return a.env().Undefined();
}

// rmsNorm(x[N,D], scale[D], eps, y[N,D], rstd[N], N, D).
Napi::Value rmsNorm(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNorm", 7);
  const int64_t N = a.dim(5, "N"), D = a.dim(6, "D");
  F32 x = a.array(0, "x", {N, D}), scale = a.array(1, "scale", {D});
  const double eps = a.number_in(2, "eps", 0, 1e300);
  F32 y = a.array(3, "y", {N, D}), rstd = a.array(4, "rstd", {N});
  a.outputs_disjoint({&y, &rstd}, {&x, &scale});
  ft::rms_norm_forward(x.data, scale.data, eps, y.data, rstd.data, N, D);
  return a.env().Undefined();
}

// rmsNormBackward(dy[N,D], x[N,D], scale[D], rstd[N], dx[N,D], dscale[D] | null, N, D).
Napi::Value rmsNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormBackward", 8);
  const int64_t N = a.dim(6, "N"), D = a.dim(7, "D");
  F32 dy = a.array(0, "dy", {N, D}), x = a.array(1, "x", {N, D}), scale = a.array(2, "scale", {D});
  F32 rstd = a.array(3, "rstd", {N}), dx = a.array(4, "dx", {N, D}), dscale = a.optional_array(5, "dscale", {D});
  a.outputs_disjoint({&dx, &dscale}, {&dy, &x, &scale, &rstd});
  ft::rms_norm_backward(dy.data, x.data, scale.data, rstd.data, dx.data, dscale.data, N, D);
  return a.env().Undefined();
}

// layerNorm(x[N,C], gamma[C], beta[C], eps, y[N,C], mean[N], rstd[N], N, C).
Napi::Value layerNorm(const Napi::CallbackInfo& info) {
  Args a(info, "layerNorm", 9);
  const int64_t N = a.dim(7, "N"), C = a.dim(8, "C");
  F32 x = a.array(0, "x", {N, C}), gamma = a.array(1, "gamma", {C}), beta = a.array(2, "beta", {C});
  const double eps = a.number_in(3, "eps", 0, 1e300);
  F32 y = a.array(4, "y", {N, C}), mean = a.array(5, "mean", {N}), rstd = a.array(6, "rstd", {N});
  a.outputs_disjoint({&y, &mean, &rstd}, {&x, &gamma, &beta});
  ft::layer_norm_forward(x.data, gamma.data, beta.data, eps, y.data, mean.data, rstd.data, N, C);
  return a.env().Undefined();
}

// layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma | null, dbeta | null, N, C).
Napi::Value layerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward", 10);
  const int64_t N = a.dim(8, "N"), C = a.dim(9, "C");
  F32 dy = a.array(0, "dy", {N, C}), x = a.array(1, "x", {N, C}), gamma = a.array(2, "gamma", {C});
  F32 mean = a.array(3, "mean", {N}), rstd = a.array(4, "rstd", {N}), dx = a.array(5, "dx", {N, C});
  F32 dgamma = a.optional_array(6, "dgamma", {C}), dbeta = a.optional_array(7, "dbeta", {C});
  a.outputs_disjoint({&dx, &dgamma, &dbeta}, {&dy, &x, &gamma, &mean, &rstd});
  ft::layer_norm_backward(dy.data, x.data, gamma.data, mean.data, rstd.data, dx.data, dgamma.data, dbeta.data, N, C);
  return a.env().Undefined();
}

// startToken(e[B,T,D], token[D], h[B,T+1,D], B, T, D).
Napi::Value startToken(const Napi::CallbackInfo& info) {
  Args a(info, "startToken", 6);
  const int64_t B = a.dim(3, "B"), T = a.count(4, "T"), D = a.dim(5, "D");
  F32 e = a.array(0, "e", {B, T, D}), token = a.array(1, "token", {D}), h = a.array(2, "h", {B, T + 1, D});
  a.outputs_disjoint({&h}, {&e, &token});
  ft::start_token_forward(e.data, token.data, h.data, B, T, D);
  return a.env().Undefined();
}

// startTokenBackward(dh[B,T+1,D], de[B,T,D] | null, dtoken[D] | null, B, T, D).
Napi::Value startTokenBackward(const Napi::CallbackInfo& info) {
  Args a(info, "startTokenBackward", 6);
  const int64_t B = a.dim(3, "B"), T = a.count(4, "T"), D = a.dim(5, "D");
  F32 dh = a.array(0, "dh", {B, T + 1, D}), de = a.optional_array(1, "de", {B, T, D});
  F32 dtoken = a.optional_array(2, "dtoken", {D});
  a.outputs_disjoint({&de, &dtoken}, {&dh});
  ft::start_token_backward(dh.data, de.data, dtoken.data, B, T, D);
  return a.env().Undefined();
}

// meanPool(h[B,S,D], z[B,D], B, S, D).
Napi::Value meanPool(const Napi::CallbackInfo& info) {
  Args a(info, "meanPool", 5);
  const int64_t B = a.dim(2, "B"), S = a.dim(3, "S"), D = a.dim(4, "D");
  F32 h = a.array(0, "h", {B, S, D}), z = a.array(1, "z", {B, D});
  a.outputs_disjoint({&z}, {&h});
  ft::mean_pool_forward(h.data, z.data, B, S, D);
  return a.env().Undefined();
}

// meanPoolBackward(dz[B,D], dh[B,S,D], B, S, D).
Napi::Value meanPoolBackward(const Napi::CallbackInfo& info) {
  Args a(info, "meanPoolBackward", 5);
  const int64_t B = a.dim(2, "B"), S = a.dim(3, "S"), D = a.dim(4, "D");
  F32 dz = a.array(0, "dz", {B, D}), dh = a.array(1, "dh", {B, S, D});
  a.outputs_disjoint({&dh}, {&dz});
  ft::mean_pool_backward(dz.data, dh.data, B, S, D);
  return a.env().Undefined();
}

}  // namespace

void register_layer_ops(Napi::Env env, Napi::Object exports) {
  FTN_EXPORT(exports, env, linear);
  FTN_EXPORT(exports, env, linearBackward);
  FTN_EXPORT(exports, env, rmsNorm);
  FTN_EXPORT(exports, env, rmsNormBackward);
  FTN_EXPORT(exports, env, layerNorm);
  FTN_EXPORT(exports, env, layerNormBackward);
  FTN_EXPORT(exports, env, startToken);
  FTN_EXPORT(exports, env, startTokenBackward);
  FTN_EXPORT(exports, env, meanPool);
  FTN_EXPORT(exports, env, meanPoolBackward);
}

}  // namespace ftn
