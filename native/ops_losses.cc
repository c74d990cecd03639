// Glue for the losses: the HR loss, the next-patch NLL and BCE with logits.
#include <cmath>

#include "../kernels/cpu/loss.h"
#include "args.h"
#include "ops.h"

namespace ftn {
namespace {

ft::HrLossParams hr_params(Args& a, size_t first) {
  ft::HrLossParams p;
  p.lambda = a.number(first, "lambda");
  p.eps = a.number_in(first + 1, "eps", 0.0, 0.5, /*hi_open=*/true);
  if (p.eps <= 0.0) a.fail("argument 'eps' must be > 0 (u = (1 − 2ε)·v + ε must stay inside (0, 1))");
  return p;
}

// hrLoss(out[B,2], hr[B], w[B], group[B], lambda, eps, pred[B], sampleLoss[B], loss[1], groupLossSum[G],
//        groupCount[G], B, G)
Napi::Value hrLoss(const Napi::CallbackInfo& info) {
  Args a(info, "hrLoss", 13);
  const int64_t B = a.dim(11, "B"), G = a.dim(12, "G");
  F32 out = a.array(0, "out", {B, 2}), hr = a.array(1, "hr", {B}), w = a.array(2, "w", {B});
  F32 group = a.array(3, "group", {B});
  const ft::HrLossParams prm = hr_params(a, 4);
  F32 pred = a.array(6, "pred", {B}), sample = a.array(7, "sampleLoss", {B}), loss = a.array(8, "loss", {1});
  F32 gsum = a.array(9, "groupLossSum", {G}), gcnt = a.array(10, "groupCount", {G});
  a.outputs_disjoint({&pred, &sample, &loss, &gsum, &gcnt}, {&out, &hr, &w, &group});
  a.values_in(hr, -HUGE_VAL, HUGE_VAL);
  a.positive_mass(w);
  a.group_ids(group, G);
  ft::hr_loss_forward(out.data, hr.data, w.data, group.data, prm, pred.data, sample.data, loss.data, gsum.data,
                      gcnt.data, B, G);
  return a.env().Undefined();
}

// hrLossBackward(out[B,2], hr[B], w[B], lambda, eps, dout[B,2], scale, B)
Napi::Value hrLossBackward(const Napi::CallbackInfo& info) {
  Args a(info, "hrLossBackward", 8);
  const int64_t B = a.dim(7, "B");
  F32 out = a.array(0, "out", {B, 2}), hr = a.array(1, "hr", {B}), w = a.array(2, "w", {B});
  const ft::HrLossParams prm = hr_params(a, 3);
  F32 dout = a.array(5, "dout", {B, 2});
  const double scale = a.number(6, "scale");
  a.outputs_disjoint({&dout}, {&out, &hr, &w});
  a.values_in(hr, -HUGE_VAL, HUGE_VAL);
  a.positive_mass(w);
  ft::hr_loss_backward(out.data, hr.data, w.data, prm, dout.data, scale, B);
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
  F32 params = a.array(0, "params", {B, S, 2, P}), x = a.array(1, "x", {B, T, P});
  const double eps = a.number_in(2, "eps", 0.0, 0.5, true);
  F32 loss = a.array(3, "loss", {1});
  a.outputs_disjoint({&loss}, {&params, &x});
  // A non-finite sample would make the loss NaN with no word of where it came from.
  a.values_in(x, -HUGE_VAL, HUGE_VAL);
  ft::next_patch_nll_forward(params.data, x.data, eps, loss.data, B, S, T, P);
  return a.env().Undefined();
}

// nextPatchNllBackward(params[B,S,2P], x[B,T·P], eps, dparams[B,S,2P], scale, B, S, T, P)
Napi::Value nextPatchNllBackward(const Napi::CallbackInfo& info) {
  Args a(info, "nextPatchNllBackward", 9);
  const int64_t B = a.dim(5, "B"), S = a.dim(6, "S"), T = a.dim(7, "T"), P = a.dim(8, "P");
  next_patch_dims(a, S, T);
  F32 params = a.array(0, "params", {B, S, 2, P}), x = a.array(1, "x", {B, T, P});
  const double eps = a.number_in(2, "eps", 0.0, 0.5, true);
  F32 dparams = a.array(3, "dparams", {B, S, 2, P});
  const double scale = a.number(4, "scale");
  a.outputs_disjoint({&dparams}, {&params, &x});
  // A non-finite sample would make the loss NaN with no word of where it came from.
  a.values_in(x, -HUGE_VAL, HUGE_VAL);
  ft::next_patch_nll_backward(params.data, x.data, eps, dparams.data, scale, B, S, T, P);
  return a.env().Undefined();
}

// bceWithLogits(logits[n], targets[n], loss[1], n)
Napi::Value bceWithLogits(const Napi::CallbackInfo& info) {
  Args a(info, "bceWithLogits", 4);
  const int64_t n = a.dim(3, "n");
  F32 logits = a.array(0, "logits", {n}), targets = a.array(1, "targets", {n}), loss = a.array(2, "loss", {1});
  a.outputs_disjoint({&loss}, {&logits, &targets});
  a.values_in(targets, 0.0, 1.0);
  ft::bce_with_logits_forward(logits.data, targets.data, loss.data, n);
  return a.env().Undefined();
}

// bceWithLogitsBackward(logits[n], targets[n], dlogits[n], scale, n)
Napi::Value bceWithLogitsBackward(const Napi::CallbackInfo& info) {
  Args a(info, "bceWithLogitsBackward", 5);
  const int64_t n = a.dim(4, "n");
  F32 logits = a.array(0, "logits", {n}), targets = a.array(1, "targets", {n}), dlogits = a.array(2, "dlogits", {n});
  const double scale = a.number(3, "scale");
  a.outputs_disjoint({&dlogits}, {&logits, &targets});
  a.values_in(targets, 0.0, 1.0);
  ft::bce_with_logits_backward(logits.data, targets.data, dlogits.data, scale, n);
  return a.env().Undefined();
}

}  // namespace

void register_loss_ops(Napi::Env env, Napi::Object exports) {
  FTN_EXPORT(exports, env, hrLoss);
  FTN_EXPORT(exports, env, hrLossBackward);
  FTN_EXPORT(exports, env, nextPatchNll);
  FTN_EXPORT(exports, env, nextPatchNllBackward);
  FTN_EXPORT(exports, env, bceWithLogits);
  FTN_EXPORT(exports, env, bceWithLogitsBackward);
}

}  // namespace ftn
