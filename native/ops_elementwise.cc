// Glue for the elementwise ops (activations, dropout, residual add, accumulate, scale, gradient reversal).
// Elementwise outputs may be the very same array as an input (in place), never a partial overlap.
#include "../kernels/cpu/dropout.h"
#include "../kernels/cpu/elementwise.h"
#include "args.h"
#include "dropout_args.h"
#include "ops.h"

namespace ftn {
namespace {

// relu(x[n], y[n], n)
Napi::Value relu(const Napi::CallbackInfo& info) {
  Args a(info, "relu", 3);
  const int64_t n = a.dim(2, "n");
  F32 x = a.array(0, "x", {n}), y = a.array(1, "y", {n});
  a.same_or_disjoint(y, x);
  ft::relu_forward(x.data, y.data, n);
  return a.env().Undefined();
}

// reluBackward(dy[n], y[n], dx[n], n)
Napi::Value reluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "reluBackward", 4);
  const int64_t n = a.dim(3, "n");
  F32 dy = a.array(0, "dy", {n}), y = a.array(1, "y", {n}), dx = a.array(2, "dx", {n});
  a.same_or_disjoint(dx, dy);
  a.same_or_disjoint(dx, y);
  ft::relu_backward(dy.data, y.data, dx.data, n);
  return a.env().Undefined();
}

// gelu(x[n], y[n], n)
Napi::Value gelu(const Napi::CallbackInfo& info) {
  Args a(info, "gelu", 3);
  const int64_t n = a.dim(2, "n");
  F32 x = a.array(0, "x", {n}), y = a.array(1, "y", {n});
  a.same_or_disjoint(y, x);
  ft::gelu_forward(x.data, y.data, n);
  return a.env().Undefined();
}

// geluBackward(dy[n], x[n], dx[n], n)
Napi::Value geluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "geluBackward", 4);
  const int64_t n = a.dim(3, "n");
  F32 dy = a.array(0, "dy", {n}), x = a.array(1, "x", {n}), dx = a.array(2, "dx", {n});
  a.same_or_disjoint(dx, dy);
  a.same_or_disjoint(dx, x);
  ft::gelu_backward(dy.data, x.data, dx.data, n);
  return a.env().Undefined();
}

// dropout(x[n], y[n], n, p, seed, step, site)
Napi::Value dropout(const Napi::CallbackInfo& info) {
  Args a(info, "dropout", 7);
  const int64_t n = a.dim(2, "n");
  F32 x = a.array(0, "x", {n}), y = a.array(1, "y", {n});
  const DropoutArgs d = read_dropout(a, 3);
  a.same_or_disjoint(y, x);
  ft::dropout_forward(x.data, y.data, n, d.p, d.key);
  return a.env().Undefined();
}

// dropoutBackward(dy[n], dx[n], n, p, seed, step, site)
Napi::Value dropoutBackward(const Napi::CallbackInfo& info) {
  Args a(info, "dropoutBackward", 7);
  const int64_t n = a.dim(2, "n");
  F32 dy = a.array(0, "dy", {n}), dx = a.array(1, "dx", {n});
  const DropoutArgs d = read_dropout(a, 3);
  a.same_or_disjoint(dx, dy);
  ft::dropout_backward(dy.data, dx.data, n, d.p, d.key);
  return a.env().Undefined();
}

// add(a[n], b[n], y[n], n)
Napi::Value add(const Napi::CallbackInfo& info) {
  Args a(info, "add", 4);
  const int64_t n = a.dim(3, "n");
  F32 x = a.array(0, "a", {n}), z = a.array(1, "b", {n}), y = a.array(2, "y", {n});
  a.same_or_disjoint(y, x);
  a.same_or_disjoint(y, z);
  ft::add_forward(x.data, z.data, y.data, n);
  return a.env().Undefined();
}

// accumulate(src[n], dst[n], alpha, n): dst += alpha·src
Napi::Value accumulate(const Napi::CallbackInfo& info) {
  Args a(info, "accumulate", 4);
  const int64_t n = a.dim(3, "n");
  F32 src = a.array(0, "src", {n}), dst = a.array(1, "dst", {n});
  const double alpha = a.number(2, "alpha");
  a.same_or_disjoint(dst, src);
  ft::axpy(src.data, dst.data, (float)alpha, n);
  return a.env().Undefined();
}

// scale(x[n], s, n): x *= s
Napi::Value scale(const Napi::CallbackInfo& info) {
  Args a(info, "scale", 3);
  const int64_t n = a.dim(2, "n");
  F32 x = a.array(0, "x", {n});
  const double s = a.number(1, "s");
  ft::scale_inplace(x.data, (float)s, n);
  return a.env().Undefined();
}

// gradReverse(dy[n], dx[n], lambda, n): dx += −λ·dy
Napi::Value gradReverse(const Napi::CallbackInfo& info) {
  Args a(info, "gradReverse", 4);
  const int64_t n = a.dim(3, "n");
  F32 dy = a.array(0, "dy", {n}), dx = a.array(1, "dx", {n});
  const double lambda = a.number(2, "lambda");
  a.same_or_disjoint(dx, dy);
  ft::axpy(dy.data, dx.data, (float)-lambda, n);
  return a.env().Undefined();
}

}  // namespace

void register_elementwise_ops(Napi::Env env, Napi::Object exports) {
  FTN_EXPORT(exports, env, relu);
  FTN_EXPORT(exports, env, reluBackward);
  FTN_EXPORT(exports, env, gelu);
  FTN_EXPORT(exports, env, geluBackward);
  FTN_EXPORT(exports, env, dropout);
  FTN_EXPORT(exports, env, dropoutBackward);
  FTN_EXPORT(exports, env, add);
  FTN_EXPORT(exports, env, accumulate);
  FTN_EXPORT(exports, env, scale);
  FTN_EXPORT(exports, env, gradReverse);
}

}  // namespace ftn
