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

// The factor a gradient is read with when AdamW clips on the device (every backend forms it so, in float64):
// gradScale·min(1, maxNorm/norm); NaN when the norm itself is not finite (then no update happens at all).
inline double clipped_scale(double grad_scale, double max_norm, float norm) {
  if (!std::isfinite(norm)) return NAN;
  return max_norm > 0 && (double)norm > max_norm ? grad_scale * (max_norm / (double)norm) : grad_scale;
}

}  // namespace ftn
