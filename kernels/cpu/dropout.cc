#include "dropout.h"

#include "dispatch.h"

namespace ft {
namespace {

// One Philox block yields the words of 4 consecutive elements; chunks start on a multiple of 4.
template <bool Accumulate>
void apply(const float* x, float* y, int64_t n, double p, const DropoutKey& key) {
  const uint32_t threshold = dropout_threshold(p);
  const float scale = (float)(1.0 / (1.0 - p));
  const uint32_t k0 = (uint32_t)key.seed, k1 = (uint32_t)(key.seed >> 32);
  const int64_t blocks = (n + 3) / 4;
  parallel_grain(blocks, 4096, [&](int64_t b0, int64_t b1) {
    for (int64_t blk = b0; blk < b1; ++blk) {
      const Philox4 w = philox4x32_10((uint32_t)blk, 0u, key.step, key.site, k0, k1);
      const int64_t base = blk * 4;
      for (int l = 0; l < 4 && base + l < n; ++l) {
        const int64_t i = base + l;
        const float v = (w.v[l] >> 8) >= threshold ? x[i] * scale : 0.0f;
        if (Accumulate) y[i] += v;
        else y[i] = v;
      }
    }
  });
}

}  // namespace

void dropout_forward(const float* x, float* y, int64_t n, double p, const DropoutKey& key) {
  apply<false>(x, y, n, p, key);
}

void dropout_backward(const float* dy, float* dx, int64_t n, double p, const DropoutKey& key) {
  apply<true>(dy, dx, n, p, key);
}

}  // namespace ft
