// Glue for the elementwise ops: ReLU, GELU, dropout, add, accumulate, scale, gradient reversal.
#include "../../kernels/cuda/ops.h"
#include "device.h"
#include "dropout_args.h"
#include "ops.h"

namespace ftcn {
namespace {

Napi::Value relu(const Napi::CallbackInfo& info) {
  Args a(info, "relu", 3);
  const int64_t n = a.dim(2, "n");
  F32 x = view_arg(a, info, 0, "x", {n}), y = view_arg(a, info, 1, "y", {n});
  a.same_or_disjoint(y, x);
  ftc::relu_forward(x.data, y.data, n);
  check_launch(a);
  return a.env().Undefined();
}

Napi::Value reluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "reluBackward", 4);
  const int64_t n = a.dim(3, "n");
  F32 dy = view_arg(a, info, 0, "dy", {n}), y = view_arg(a, info, 1, "y", {n}), dx = view_arg(a, info, 2, "dx", {n});
  a.same_or_disjoint(dx, dy);
  a.same_or_disjoint(dx, y);
  ftc::relu_backward(dy.data, y.data, dx.data, n);
  check_launch(a);
  return a.env().Undefined();
}

Napi::Value gelu(const Napi::CallbackInfo& info) {
  Args a(info, "gelu", 3);
  const int64_t n = a.dim(2, "n");
  F32 x = view_arg(a, info, 0, "x", {n}), y = view_arg(a, info, 1, "y", {n});
  a.same_or_disjoint(y, x);
  ftc::gelu_forward(x.data, y.data, n);
  check_launch(a);
  return a.env().Undefined();
}

Napi::Value geluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackward", 4);
  const int64_t n = a.dim(3, "n");
  F32 dy = view_arg(a, info, 0, "dy", {n}), x = view_arg(a, info, 1, "x", {n}), dx = view_arg(a, info, 2, "dx", {n});
  a.same_or_disjoint(dx, dy);
  a.same_or_disjoint(dx, x);
  ftc::gelu_backward(dy.data, x.data, dx.data, n);
  check_launch(a);
  return a.env().Undefined();
}

// dropout(x, y, n, p, seed, step, site)
Napi::Value dropout(const Napi::CallbackInfo& info) {
  Args a(info, "dropout", 7);
  const int64_t n = a.dim(2, "n");
  F32 x = view_arg(a, info, 0, "x", {n}), y = view_arg(a, info, 1, "y", {n});
  const ftc::DropKey key = read_drop(a, 3);
  a.same_or_disjoint(y, x);
  ftc::dropout_forward(x.data, y.data, n, key);
  check_launch(a);
  return a.env().Undefined();
}

// dropoutBackward(dy, dx, n, p, seed, step, site)
Napi::Value dropoutBackward(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutBackward", 7);
  const int64_t n = a.dim(2, "n");
  F32 dy = view_arg(a, info, 0, "dy", {n}), dx = view_arg(a, info, 1, "dx", {n});
  const ftc::DropKey key = read_drop(a, 3);
  a.same_or_disjoint(dx, dy);
  ftc::dropout_backward(dy.data, dx.data, n, key);
  check_launch(a);
  return a.env().Undefined();
}

Napi::Value add(const Napi::CallbackInfo& info) {
  Args a(info, "add", 4);
  const int64_t n = a.dim(3, "n");
  F32 x = view_arg(a, info, 0, "a", {n}), b = view_arg(a, info, 1, "b", {n}), y = view_arg(a, info, 2, "y", {n});
  a.same_or_disjoint(y, x);
  a.same_or_disjoint(y, b);
  ftc::add(x.data, b.data, y.data, n);
  check_launch(a);
  return a.env().Undefined();
}

// accumulate(src, dst, alpha, n): dst += alpha·src
Napi::Value accumulate(const Napi::CallbackInfo& info) {
  Args a(info, "accumulate", 4);
  const int64_t n = a.dim(3, "n");
  F32 src = view_arg(a, info, 0, "src", {n}), dst = view_arg(a, info, 1, "dst", {n});
  const double alpha = a.number(2, "alpha");
  a.same_or_disjoint(dst, src);
  ftc::accumulate(src.data, dst.data, (float)alpha, n);
  check_launch(a);
  return a.env().Undefined();
}

Napi::Value scale(const Napi::CallbackInfo& info) {
  Args a(info, "scale", 3);
  const int64_t n = a.dim(2, "n");
  F32 x = view_arg(a, info, 0, "x", {n});
  const double s = a.number(1, "s");
  ftc::scale(x.data, (float)s, n);
  check_launch(a);
  return a.env().Undefined();
}

// gradReverse(dy, dx, lambda, n): dx += −λ·dy
Napi::Value gradReverse(const Napi::CallbackInfo& info) {
  Args a(info, "gradReverse", 4);
  const int64_t n = a.dim(3, "n");
  F32 dy = view_arg(a, info, 0, "dy", {n}), dx = view_arg(a, info, 1, "dx", {n});
  const double lambda = a.number_in(2, "lambda", 0.0, 1e300);
  a.disjoint(dx, dy);
  ftc::accumulate(dy.data, dx.data, (float)-lambda, n);
  check_launch(a);
  return a.env().Undefined();
}

}  // namespace

void register_elementwise_ops(Napi::Env env, Napi::Object exports) {
  FTCN_EXPORT(exports, env, relu);
  FTCN_EXPORT(exports, env, reluBackward);
  FTCN_EXPORT(exports, env, gelu);
  FTCN_EXPORT(exports, env, geluBackward);
  FTCN_EXPORT(exports, env, dropout);
  FTCN_EXPORT(exports, env, dropoutBackward);
  FTCN_EXPORT(exports, env, add);
  FTCN_EXPORT(exports, env, accumulate);
  FTCN_EXPORT(exports, env, scale);
  FTCN_EXPORT(exports, env, gradReverse);
}

}  // namespace ftcn
