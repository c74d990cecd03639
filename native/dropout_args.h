// Reads (p, seed, step, site) at consecutive argument positions: the dropout probability and the Philox key
// shared by dropout and attention dropout.
#pragma once
#include "../kernels/cpu/philox.h"
#include "args.h"

namespace ftn {

struct DropoutArgs {
  double p;
  ft::DropoutKey key;
};

inline DropoutArgs read_dropout(Args& a, size_t first) {
  DropoutArgs d;
  d.p = a.number_in(first, "p", 0.0, 1.0, /*hi_open=*/true);
  d.key.seed = (uint64_t)a.integer(first + 1, "seed", 0, 9007199254740991LL);
  d.key.step = (uint32_t)a.integer(first + 2, "step", 0, 4294967295LL);
  d.key.site = (uint32_t)a.integer(first + 3, "site", 0, 4294967295LL);
  return d;
}

}  // namespace ftn
