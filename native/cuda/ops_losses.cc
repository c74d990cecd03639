// Glue for the losses: the HR loss, the next-patch NLL and BCE with logits. Labels, weights, group ids and
// targets are copied to the host and checked (they are batch-sized) before any kernel runs.
#include <cmath>

#include "../../kernels/cuda/ops.h"
#include "device.h"
#include "ops.h"

namespace ftcn {
namespace {

ftc::HrParams hr_params(Args& a, size_t first) {
  ftc::HrParams p;
  p.lambda = (float)a.number(first, "lambda");
  const double eps = a.number_in(first + 1, "eps", 0.0, 0.5, /*hi_open=*/true);
  if (eps <= 0.0) a.fail("argument 'eps' must be > 0 (u = (1 − 2ε)·v + ε must stay inside (0, 1))");
  p.eps = (float)eps;
  return p;
}

// hrLoss(out[B,2], hr[B], w[B], group[B], lambda, eps, pred[B], sampleLoss[B], loss[1], groupLossSum[G],
//        groupCount[G], B, G)
Napi::Value hrLoss(const Napi::CallbackInfo& info) {
  Args a(info, "hrLoss", 13);
  const int64_t B = a.dim(11, "B"), G = a.dim(12, "G");
  F32 out = view_arg(a, info, 0, "out", {B, 2}), hr = view_arg(a, info, 1, "hr", {B}), w = view_arg(a, info, 2, "w", {B});
  F32 group = view_arg(a, info, 3, "group", {B});
  const ftc::HrParams prm = hr_params(a, 4);
  F32 pred = view_arg(a, info, 6, "pred", {B}), sample = view_arg(a, info, 7, "sampleLoss", {B});
  F32 loss = view_arg(a, info, 8, "loss", {1});
  F32 gsum = view_arg(a, info, 9, "groupLossSum", {G}), gcnt = view_arg(a, info, 10, "groupCount", {G});
  a.outputs_disjoint({&pred, &sample, &loss, &gsum, &gcnt}, {&out, &hr, &w, &group});
  a.values_in(to_host(a, hr).f32, -HUGE_VAL, HUGE_VAL);
  a.positive_mass(to_host(a, w).f32);
  a.group_ids(to_host(a, group).f32, G);
  ftc::hr_loss_forward(out.data, hr.data, w.data, group.data, prm, pred.data, sample.data, loss.data, gsum.data,
                       gcnt.data, B, G);
  check_launch(a);
  return a.env().Undefined();
}

// hrLossBackward(out[B,2], hr[B], w[B], lambda, eps, dout[B,2], scale, B)
Napi::Value hrLossBackward(const Napi::CallbackInfo& info) {
  Args a(info, "hrLossBackward", 8);
  const int64_t B = a.dim(7, "B");
  F32 out = view_arg(a, info, 0, "out", {B, 2}), hr = view_arg(a, info, 1, "hr", {B}), w = view_arg(a, info, 2, "w", {B});
  const ftc::HrParams prm = hr_params(a, 3);
  F32 dout = view_arg(a, info, 5, "dout", {B, 2});
  const double scale = a.number(6, "scale");
  a.outputs_disjoint({&dout}, {&out, &hr, &w});
  a.values_in(to_host(a, hr).f32, -HUGE_VAL, HUGE_VAL);
  a.positive_mass(to_host(a, w).f32);
  ftc::hr_loss_backward(out.data, hr.data, w.data, prm, dout.data, (float)scale, B);
  check_launch(a);
  return a.env().Undefined();
}

void next_patch_dims(Args& a, int64_t S, int64_t T) {
  if (T > S - 1) a.fail("T (patches in x) must be ≤ S − 1 (tokens after the start token)");
}

// nextPatchNll(params[B,S,2P], x[B,T·P], eps, loss[1], B, S, T, P)
Napi::Value nextPatchNll(const Napi::CallbackInfo& info) {
  Args a(info, "nextPatchNll", 8);
  const int64_t B = a.dim(4, "B"), S = a.dim(5, "S"), T = a.dim(6, "T"), P = a.dim(7, "P");
  next_patch_dims(a, S, T);
  F32 params = view_arg(a, info, 0, "params", {B, S, 2, P}), x = view_arg(a, info, 1, "x", {B, T, P});
  const double eps = a.number_in(2, "eps", 0.0, 0.5, true);
  F32 loss = view_arg(a, info, 3, "loss", {1});
  a.outputs_disjoint({&loss}, {&params, &x});
  // A non-finite sample would make the loss NaN with no word of where it came from.
  a.values_in(to_host(a, x).f32, -HUGE_VAL, HUGE_VAL);
  ftc::next_patch_nll_forward(params.data, x.data, (float)eps, loss.data, B, S, T, P);
  check_launch(a);
  return a.env().Undefined();
}

// nextPatchNllBackward(params, x, eps, dparams, scale, B, S, T, P)
Napi::Value nextPatchNllBackward(const Napi::CallbackInfo& info) {
  Args a(info, "nextPatchNllBackward", 9);
  const int64_t B = a.dim(5, "B"), S = a.dim(6, "S"), T = a.dim(7, "T"), P = a.dim(8, "P");
  next_patch_dims(a, S, T);
  F32 params = view_arg(a, info, 0, "params", {B, S, 2, P}), x = view_arg(a, info, 1, "x", {B, T, P});
  const double eps = a.number_in(2, "eps", 0.0, 0.5, true);
  F32 dparams = view_arg(a, info, 3, "dparams", {B, S, 2, P});
  const double scale = a.number(4, "scale");
  a.outputs_disjoint({&dparams}, {&params, &x});
  // A non-finite sample would make the loss NaN with no word of where it came from.
  a.values_in(to_host(a, x).f32, -HUGE_VAL, HUGE_VAL);
  ftc::next_patch_nll_backward(params.data, x.data, (float)eps, dparams.data, (float)scale, B, S, T, P);
  check_launch(a);
  return a.env().Undefined();
}

// bceWithLogits(logits[n], targets[n], loss[1], n)
Napi::Value bceWithLogits(const Napi::CallbackInfo& info) {
  Args a(info, "bceWithLogits", 4);
  const int64_t n = a.dim(3, "n");
  F32 logits = view_arg(a, info, 0, "logits", {n}), targets = view_arg(a, info, 1, "targets", {n});
  F32 loss = view_arg(a, info, 2, "loss", {1});
  a.outputs_disjoint({&loss}, {&logits, &targets});
  a.values_in(to_host(a, targets).f32, 0.0, 1.0);
  ftc::bce_forward(logits.data, targets.data, loss.data, n);
  check_launch(a);
  return a.env().Undefined();
}

// bceWithLogitsBackward(logits[n], targets[n], dlogits[n], scale, n)
Napi::Value bceWithLogitsBackward(const Napi::CallbackInfo& info) {
  Args a(info, "bceWithLogitsBackward", 5);
  const int64_t n = a.dim(4, "n");
  F32 logits = view_arg(a, info, 0, "logits", {n}), targets = view_arg(a, info, 1, "targets", {n});
  F32 dlogits = view_arg(a, info, 2, "dlogits", {n});
  const double scale = a.number(3, "scale");
  a.outputs_disjoint({&dlogits}, {&logits, &targets});
  a.values_in(to_host(a, targets).f32, 0.0, 1.0);
  ftc::bce_backward(logits.data, targets.data, dlogits.data, (float)scale, n);
  check_launch(a);
  return a.env().Undefined();
}

}  // namespace

void register_loss_ops(Napi::Env env, Napi::Object exports) {
  FTCN_EXPORT(exports, env, hrLoss);
  FTCN_EXPORT(exports, env, hrLossBackward);
  FTCN_EXPORT(exports, env, nextPatchNll);
  FTCN_EXPORT(exports, env, nextPatchNllBackward);
  FTCN_EXPORT(exports, env, bceWithLogits);
  FTCN_EXPORT(exports, env, bceWithLogitsBackward);
}

}  // namespace ftcn
