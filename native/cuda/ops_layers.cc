// Glue for linear, the norms and the token-row ops: validate the device views, then launch.
#include "../../kernels/cuda/ops.h"
#include "device.h"
#include "ops.h"

namespace ftcn {
namespace {

// linear(x[N,K], w[M,K], b[M] | null, y[N,M], N, K, M)
Napi::Value linear(const Napi::CallbackInfo& info) {
  Args a(info, "linear", 7);
  const int64_t N = a.dim(4, "N"), K = a.dim(5, "K"), M = a.dim(6, "M");
  F32 x = view_arg(a, info, 0, "x", {N, K}), w = view_arg(a, info, 1, "w", {M, K});
  F32 b = view_arg(a, info, 2, "b", {M}, true), y = view_arg(a, info, 3, "y", {N, M});
  a.outputs_disjoint({&y}, {&x, &w, &b});
  ftc::linear_forward(x.data, w.data, b.data, y.data, N, K, M);
  check_launch(a);
  return a.env().Undefined();
}

// linearBackward(dy[N,M], x[N,K], w[M,K], dx | null, dw | null, db | null, N, K, M)
Napi::Value linearBackward(const Napi::CallbackInfo& info) {
  Args a(info, "linearBackward", 9);
  const int64_t N = a.dim(6, "N"), K = a.dim(7, "K"), M = a.dim(8, "M");
  F32 dy = view_arg(a, info, 0, "dy", {N, M}), x = view_arg(a, info, 1, "x", {N, K}), w = view_arg(a, info, 2, "w", {M, K});
  F32 dx = view_arg(a, info, 3, "dx", {N, K}, true), dw = view_arg(a, info, 4, "dw", {M, K}, true);
  F32 db = view_arg(a, info, 5, "db", {M}, true);
  a.outputs_disjoint({&dx, &dw, &db}, {&dy, &x, &w});
  ftc::linear_backward(dy.data, x.data, w.data, dx.data, dw.data, db.data, N, K, M);
  check_launch(a);
  return a.env().Undefined();
}

// rmsNorm(x[N,D], scale[D], eps, y[N,D], rstd[N], N, D)
Napi::Value rmsNorm(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNorm", 7);
  const int64_t N = a.dim(5, "N"), D = a.dim(6, "D");
  F32 x = view_arg(a, info, 0, "x", {N, D}), scale = view_arg(a, info, 1, "scale", {D});
  const double eps = a.number_in(2, "eps", 0, 1e300);
  F32 y = view_arg(a, info, 3, "y", {N, D}), rstd = view_arg(a, info, 4, "rstd", {N});
  a.outputs_disjoint({&y, &rstd}, {&x, &scale});
  ftc::rms_norm_forward(x.data, scale.data, (float)eps, y.data, rstd.data, N, D);
  check_launch(a);
  return a.env().Undefined();
}

// rmsNormBackward(dy, x, scale, rstd, dx, dscale | null, N, D)
Napi::Value rmsNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "rmsNormBackward", 8);
  const int64_t N = a.dim(6, "N"), D = a.dim(7, "D");
  F32 dy = view_arg(a, info, 0, "dy", {N, D}), x = view_arg(a, info, 1, "x", {N, D});
  F32 scale = view_arg(a, info, 2, "scale", {D}), rstd = view_arg(a, info, 3, "rstd", {N});
  F32 dx = view_arg(a, info, 4, "dx", {N, D}), dscale = view_arg(a, info, 5, "dscale", {D}, true);
  a.outputs_disjoint({&dx, &dscale}, {&dy, &x, &scale, &rstd});
  ftc::rms_norm_backward(dy.data, x.data, scale.data, rstd.data, dx.data, dscale.data, N, D);
  check_launch(a);
  return a.env().Undefined();
}

// layerNorm(x[N,C], gamma[C], beta[C], eps, y[N,C], mean[N], rstd[N], N, C)
Napi::Value layerNorm(const Napi::CallbackInfo& info) {
  Args a(info, "layerNorm", 9);
  const int64_t N = a.dim(7, "N"), C = a.dim(8, "C");
  F32 x = view_arg(a, info, 0, "x", {N, C}), gamma = view_arg(a, info, 1, "gamma", {C});
  F32 beta = view_arg(a, info, 2, "beta", {C});
  const double eps = a.number_in(3, "eps", 0, 1e300);
  F32 y = view_arg(a, info, 4, "y", {N, C}), mean = view_arg(a, info, 5, "mean", {N}), rstd = view_arg(a, info, 6, "rstd", {N});
  a.outputs_disjoint({&y, &mean, &rstd}, {&x, &gamma, &beta});
  ftc::layer_norm_forward(x.data, gamma.data, beta.data, (float)eps, y.data, mean.data, rstd.data, N, C);
  check_launch(a);
  return a.env().Undefined();
}

// layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma | null, dbeta | null, N, C)
Napi::Value layerNormBackward(const Napi::CallbackInfo& info) {
  Args a(info, "layerNormBackward", 10);
  const int64_t N = a.dim(8, "N"), C = a.dim(9, "C");
  F32 dy = view_arg(a, info, 0, "dy", {N, C}), x = view_arg(a, info, 1, "x", {N, C});
  F32 gamma = view_arg(a, info, 2, "gamma", {C}), mean = view_arg(a, info, 3, "mean", {N});
  F32 rstd = view_arg(a, info, 4, "rstd", {N}), dx = view_arg(a, info, 5, "dx", {N, C});
  F32 dgamma = view_arg(a, info, 6, "dgamma", {C}, true), dbeta = view_arg(a, info, 7, "dbeta", {C}, true);
  a.outputs_disjoint({&dx, &dgamma, &dbeta}, {&dy, &x, &gamma, &mean, &rstd});
  ftc::layer_norm_backward(dy.data, x.data, gamma.data, mean.data, rstd.data, dx.data, dgamma.data, dbeta.data, N, C);
  check_launch(a);
  return a.env().Undefined();
}

// startToken(e[B,T,D], token[D], h[B,T+1,D], B, T, D)
Napi::Value startToken(const Napi::CallbackInfo& info) {
  Args a(info, "startToken", 6);
  const int64_t B = a.dim(3, "B"), T = a.count(4, "T"), D = a.dim(5, "D");
  F32 e = view_arg(a, info, 0, "e", {B, T, D}), token = view_arg(a, info, 1, "token", {D});
  F32 h = view_arg(a, info, 2, "h", {B, T + 1, D});
  a.outputs_disjoint({&h}, {&e, &token});
  ftc::start_token_forward(e.data, token.data, h.data, B, T, D);
  check_launch(a);
  return a.env().Undefined();
}

// startTokenBackward(dh[B,T+1,D], de | null, dtoken | null, B, T, D)
Napi::Value startTokenBackward(const Napi::CallbackInfo& info) {
  Args a(info, "startTokenBackward", 6);
  const int64_t B = a.dim(3, "B"), T = a.count(4, "T"), D = a.dim(5, "D");
  F32 dh = view_arg(a, info, 0, "dh", {B, T + 1, D}), de = view_arg(a, info, 1, "de", {B, T, D}, true);
  F32 dtoken = view_arg(a, info, 2, "dtoken", {D}, true);
  a.outputs_disjoint({&de, &dtoken}, {&dh});
  ftc::start_token_backward(dh.data, de.data, dtoken.data, B, T, D);
  check_launch(a);
  return a.env().Undefined();
}

// meanPool(h[B,S,D], z[B,D], B, S, D)
Napi::Value meanPool(const Napi::CallbackInfo& info) {
  Args a(info, "meanPool", 5);
  const int64_t B = a.dim(2, "B"), S = a.dim(3, "S"), D = a.dim(4, "D");
  F32 h = view_arg(a, info, 0, "h", {B, S, D}), z = view_arg(a, info, 1, "z", {B, D});
  a.outputs_disjoint({&z}, {&h});
  ftc::mean_pool_forward(h.data, z.data, B, S, D);
  check_launch(a);
  return a.env().Undefined();
}

// meanPoolBackward(dz[B,D], dh[B,S,D], B, S, D)
Napi::Value meanPoolBackward(const Napi::CallbackInfo& info) {
  Args a(info, "meanPoolBackward", 5);
  const int64_t B = a.dim(2, "B"), S = a.dim(3, "S"), D = a.dim(4, "D");
  F32 dz = view_arg(a, info, 0, "dz", {B, D}), dh = view_arg(a, info, 1, "dh", {B, S, D});
  a.outputs_disjoint({&dh}, {&dz});
  ftc::mean_pool_backward(dz.data, dh.data, B, S, D);
  check_launch(a);
  return a.env().Undefined();
}

}  // namespace

void register_layer_ops(Napi::Env env, Napi::Object exports) {
  FTCN_EXPORT(exports, env, linear);
  FTCN_EXPORT(exports, env, linearBackward);
  FTCN_EXPORT(exports, env, rmsNorm);
  FTCN_EXPORT(exports, env, rmsNormBackward);
  FTCN_EXPORT(exports, env, layerNorm);
  FTCN_EXPORT(exports, env, layerNormBackward);
  FTCN_EXPORT(exports, env, startToken);
  FTCN_EXPORT(exports, env, startTokenBackward);
  FTCN_EXPORT(exports, env, meanPool);
  FTCN_EXPORT(exports, env, meanPoolBackward);
}

}  // namespace ftcn
