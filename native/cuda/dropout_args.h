// (p, seed, step, site) at consecutive argument positions → the kernels' Philox key (as native/dropout_args.h).
#pragma once
#include "../../kernels/cuda/philox.cuh"
#include "device.h"

namespace ftcn {

inline ftc::DropKey read_drop(Args& a, size_t first) {
  const double p = a.number_in(first, "p", 0.0, 1.0, /*hi_open=*/true);
  const uint64_t seed = (uint64_t)a.integer(first + 1, "seed", 0, 9007199254740991LL);
  const uint32_t step = (uint32_t)a.integer(first + 2, "step", 0, 4294967295LL);
  const uint32_t site = (uint32_t)a.integer(first + 3, "site", 0, 4294967295LL);
  return ftc::make_drop_key(p, seed, step, site);
}

}  // namespace ftcn
