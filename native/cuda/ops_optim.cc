// Glue for AdamW, GroupDRO and Σ x² (the only op that returns a number: one double read back per call).
#include <cmath>
#include <string>

#include "../../kernels/cuda/ops.h"
#include "device.h"
#include "ops.h"

namespace ftcn {
namespace {

// adamw(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, n)
Napi::Value adamw(const Napi::CallbackInfo& info) {
  Args a(info, "adamw", 11);
  const int64_t n = a.dim(10, "n");
  F32 param = view_arg(a, info, 0, "param", {n}), grad = view_arg(a, info, 1, "grad", {n});
  F32 m = view_arg(a, info, 2, "m", {n}), v = view_arg(a, info, 3, "v", {n});
  ftc::AdamWParams prm;
  prm.lr = (float)a.number(4, "lr");
  const double beta1 = a.number_in(5, "beta1", 0.0, 1.0, true);
  const double beta2 = a.number_in(6, "beta2", 0.0, 1.0, true);
  prm.beta1 = (float)beta1;
  prm.beta2 = (float)beta2;
  prm.eps = (float)a.number_in(7, "eps", 0.0, 1e30);
  prm.weight_decay = (float)a.number(8, "weightDecay");
  const int64_t step = a.integer(9, "step", 1, 9007199254740991LL);
  const double bc1 = 1.0 - std::pow(beta1, (double)step), bc2 = 1.0 - std::pow(beta2, (double)step);
  if (!(bc1 > 0.0 && bc2 > 0.0)) {
    a.fail("bias corrections 1 − beta^step must be positive (beta1 and beta2 must be < 1 and step ≥ 1)");
  }
  prm.bias_correction1 = (float)bc1;
  prm.bias_correction2 = (float)bc2;
  a.outputs_disjoint({&param, &m, &v}, {&grad});
  ftc::adamw(param.data, grad.data, m.data, v.data, n, prm);
  check_launch(a);
  return a.env().Undefined();
}

// groupDroUpdate(q[G], groupLossSum[G], groupCount[G], eta, group[B], w[B], G, B)
Napi::Value groupDroUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "groupDroUpdate", 8);
  const int64_t G = a.dim(6, "G"), B = a.dim(7, "B");
  F32 q = view_arg(a, info, 0, "q", {G}), gsum = view_arg(a, info, 1, "groupLossSum", {G});
  F32 gcnt = view_arg(a, info, 2, "groupCount", {G});
  const double eta = a.number(3, "eta");
  F32 group = view_arg(a, info, 4, "group", {B}), w = view_arg(a, info, 5, "w", {B});
  a.outputs_disjoint({&q, &w}, {&gsum, &gcnt, &group});
  const HostCopy hg = to_host(a, group), hq = to_host(a, q), hs = to_host(a, gsum), hc = to_host(a, gcnt);
  a.group_ids(hg.f32, G);
  a.positive_mass(hq.f32);
  a.values_in(hs.f32, -HUGE_VAL, HUGE_VAL);
  a.values_in(hc.f32, 0.0, HUGE_VAL);
  for (int64_t i = 0; i < B; ++i) {
    const int64_t g = (int64_t)hg.data[(size_t)i];
    if (!(hc.data[(size_t)g] > 0.0f)) {
      a.fail("sample " + std::to_string(i) + " is in group " + std::to_string(g) + " whose groupCount is 0");
    }
  }
  ftc::group_dro_update(q.data, gsum.data, gcnt.data, (float)eta, group.data, w.data, G, B);
  check_launch(a);
  return a.env().Undefined();
}

// sumSquares(views: DeviceView[]) → number
Napi::Value sumSquares(const Napi::CallbackInfo& info) {
  Args a(info, "sumSquares", 1);
  if (!info[0].IsArray()) a.fail("argument 1 'views' must be an Array of device views");
  Napi::Array arr = info[0].As<Napi::Array>();
  double* acc = sum_accumulator(a);
  check(a, cudaMemset(acc, 0, sizeof(double)), "cudaMemset");
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject()) a.fail("views[" + std::to_string(i) + "] must be a device view {buf, offset, length}");
    Napi::Object o = v.As<Napi::Object>();
    const Napi::Value len = o.Get("length");
    if (!len.IsNumber()) a.fail("views[" + std::to_string(i) + "] has no length");
    const double n = len.As<Napi::Number>().DoubleValue();
    if (!(n >= 0 && n <= 9007199254740991.0 && std::floor(n) == n)) a.fail("views[" + std::to_string(i) + "] length is not an integer");
    const std::string name = "views[" + std::to_string(i) + "]";
    F32 f = view_of(a, o, name.c_str(), (int64_t)n);
    if (f.len > 0) ftc::sum_squares_add(f.data, f.len, acc);
  }
  check_launch(a);
  double total = 0;
  check(a, cudaMemcpy(&total, acc, sizeof(double), cudaMemcpyDeviceToHost), "cudaMemcpy");
  return Napi::Number::New(a.env(), total);
}

}  // namespace

void register_optim_ops(Napi::Env env, Napi::Object exports) {
  FTCN_EXPORT(exports, env, adamw);
  FTCN_EXPORT(exports, env, groupDroUpdate);
  FTCN_EXPORT(exports, env, sumSquares);
}

}  // namespace ftcn
