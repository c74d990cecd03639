// The AdamW hyper-parameters of a table call as a kernel's parameter struct (the cpu's ft::AdamWParams or
// the cuda's ftc::AdamWParams: same fields, the bias corrections double or float).
#pragma once
#include <cmath>

#include "generated/op_glue.h"

namespace ftn {

template <class Params>
Params adamw_params(const ops::Adamw& p) {
  Params prm;
  prm.lr = (float)p.lr;
  prm.beta1 = (float)p.beta1;
  prm.beta2 = (float)p.beta2;
  prm.eps = (float)p.eps;
  prm.weight_decay = (float)p.weightDecay;
  prm.grad_scale = (float)p.gradScale;
  // In double first: 1 − β^step loses everything in float32 once β^step is near 1.
  prm.bias_correction1 = 1.0 - std::pow(p.beta1, (double)p.step);
  prm.bias_correction2 = 1.0 - std::pow(p.beta2, (double)p.step);
  return prm;
}

}  // namespace ftn
