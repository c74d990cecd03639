// Glue for the optimiser and fairness updates: AdamW, GroupDRO, Σ x².
#include <cmath>
#include <string>

#include "../kernels/cpu/optim.h"
#include "args.h"
#include "ops.h"

namespace ftn {
namespace {

// adamw(param[n], grad[n], m[n], v[n], lr, beta1, beta2, eps, weightDecay, step, n)
Napi::Value adamw(const Napi::CallbackInfo& info) {
  Args a(info, "adamw", 11);
  const int64_t n = a.dim(10, "n");
  F32 param = a.array(0, "param", {n}), grad = a.array(1, "grad", {n}), m = a.array(2, "m", {n}), v = a.array(3, "v", {n});
  ft::AdamWParams prm;
  prm.lr = (float)a.number(4, "lr");
  const double beta1 = a.number_in(5, "beta1", 0.0, 1.0, true);
  const double beta2 = a.number_in(6, "beta2", 0.0, 1.0, true);
  prm.beta1 = (float)beta1;
  prm.beta2 = (float)beta2;
  prm.eps = (float)a.number_in(7, "eps", 0.0, 1e30);
  prm.weight_decay = (float)a.number(8, "weightDecay");
  const int64_t step = a.integer(9, "step", 1, 9007199254740991LL);
  prm.bias_correction1 = 1.0 - std::pow(beta1, (double)step);
  prm.bias_correction2 = 1.0 - std::pow(beta2, (double)step);
  if (!(prm.bias_correction1 > 0.0 && prm.bias_correction2 > 0.0)) {
    a.fail("bias corrections 1 − beta^step must be positive (beta1 and beta2 must be < 1 and step ≥ 1)");
  }
  a.outputs_disjoint({&param, &m, &v}, {&grad});
  ft::adamw_update(param.data, grad.data, m.data, v.data, n, prm);
  return a.env().Undefined();
}

// groupDroUpdate(q[G], groupLossSum[G], groupCount[G], eta, group[B], w[B], G, B)
Napi::Value groupDroUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "groupDroUpdate", 8);
  const int64_t G = a.dim(6, "G"), B = a.dim(7, "B");
  F32 q = a.array(0, "q", {G}), gsum = a.array(1, "groupLossSum", {G}), gcnt = a.array(2, "groupCount", {G});
  const double eta = a.number(3, "eta");
  F32 group = a.array(4, "group", {B}), w = a.array(5, "w", {B});
  a.outputs_disjoint({&q, &w}, {&gsum, &gcnt, &group});
  a.group_ids(group, G);
  a.positive_mass(q);
  a.values_in(gsum, -HUGE_VAL, HUGE_VAL);
  a.values_in(gcnt, 0.0, HUGE_VAL);
  for (int64_t i = 0; i < B; ++i) {
    if (!(gcnt.data[(int64_t)group.data[i]] > 0.0f)) {
      a.fail("sample " + std::to_string(i) + " is in group " + std::to_string((int64_t)group.data[i]) +
             " whose groupCount is 0");
    }
  }
  ft::group_dro_update(q.data, gsum.data, gcnt.data, eta, group.data, w.data, G, B);
  return a.env().Undefined();
}

// sumSquares(arrays: Float32Array[]) → number
Napi::Value sumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares", 1);
  if (!info[0].IsArray()) a.fail("argument 1 'arrays' must be an Array of Float32Array");
  Napi::Array arr = info[0].As<Napi::Array>();
  double total = 0;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      a.fail("arrays[" + std::to_string(i) + "] must be a Float32Array");
    }
    Napi::Float32Array f = v.As<Napi::Float32Array>();
    if (f.ElementLength() > 0) total += ft::sum_squares(f.Data(), (int64_t)f.ElementLength());
  }
  return Napi::Number::New(a.env(), total);
}

}  // namespace

void register_optim_ops(Napi::Env env, Napi::Object exports) {
  FTN_EXPORT(exports, env, adamw);
  FTN_EXPORT(exports, env, groupDroUpdate);
  FTN_EXPORT(exports, env, sumSquares);
}

}  // namespace ftn
