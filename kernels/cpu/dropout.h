// Dropout with the shared Philox mask (philox.h): element i of the flat tensor is kept iff
// dropout_keep(key, dropout_threshold(p), i); kept values are scaled by 1/(1 − p).
#pragma once
#include <cstdint>

#include "philox.h"

namespace ft {

// y = x·mask/(1 − p). p in [0, 1); p = 0 copies.
void dropout_forward(const float* x, float* y, int64_t n, double p, const DropoutKey& key);
// dx = dy·mask/(1 − p).
void dropout_backward(const float* dy, float* dx, int64_t n, double p, const DropoutKey& key);
// y = a + dropout(x) in one pass (the residual add after a dropout): the same values, bit for bit, as
// dropout_forward into a buffer and then the add. y may be a or x.
void dropout_add_forward(const float* a, const float* x, float* y, int64_t n, double p, const DropoutKey& key);
// mult[c] = dropout_keep(key, threshold, base + c) ? kept : 0 for c < n: the attention kernels' per-row
// multipliers (vector Philox where the CPU has it: AVX-512 16 blocks at a time, AVX2 8; bit-identical to the
// scalar path).
void dropout_multipliers(const DropoutKey& key, uint32_t threshold, float kept, uint64_t base, int64_t n, float* mult);

}  // namespace ft
