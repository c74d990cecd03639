#include "sequence.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "dispatch.h"

namespace ft {

void start_token_forward(const float* e, const float* token, float* h, int64_t B, int64_t T, int64_t D) {
  const int64_t S = T + 1;
  for (int64_t b = 0; b < B; ++b) {
    std::memcpy(h + b * S * D, token, (size_t)D * sizeof(float));
    if (T > 0) std::memcpy(h + (b * S + 1) * D, e + b * T * D, (size_t)(T * D) * sizeof(float));
  }
}

void start_token_backward(const float* dh, float* de, float* dtoken, int64_t B, int64_t T, int64_t D) {
  const int64_t S = T + 1;
  if (de) {
    parallel_grain(B, std::max<int64_t>(1, 16384 / std::max<int64_t>(T * D, 1)), [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const float* src = dh + (b * S + 1) * D;
        float* dst = de + b * T * D;
        for (int64_t i = 0; i < T * D; ++i) dst[i] += src[i];
      }
    });
  }
  if (dtoken) {
    std::vector<double> acc((size_t)D, 0.0);
    for (int64_t b = 0; b < B; ++b) {
      const float* src = dh + b * S * D;
      for (int64_t d = 0; d < D; ++d) acc[(size_t)d] += src[d];
    }
    for (int64_t d = 0; d < D; ++d) dtoken[d] += (float)acc[(size_t)d];
  }
}

void mean_pool_forward(const float* h, float* z, int64_t B, int64_t S, int64_t D) {
  parallel_grain(B, std::max<int64_t>(1, 16384 / std::max<int64_t>(S * D, 1)), [&](int64_t b0, int64_t b1) {
    std::vector<double> acc((size_t)D);
    for (int64_t b = b0; b < b1; ++b) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t s = 0; s < S; ++s) {
        const float* row = h + (b * S + s) * D;
        for (int64_t d = 0; d < D; ++d) acc[(size_t)d] += row[d];
      }
      for (int64_t d = 0; d < D; ++d) z[b * D + d] = (float)(acc[(size_t)d] / (double)S);
    }
  });
}

void mean_pool_backward(const float* dz, float* dh, int64_t B, int64_t S, int64_t D) {
  const double inv = 1.0 / (double)S;
  parallel_grain(B, std::max<int64_t>(1, 16384 / std::max<int64_t>(S * D, 1)), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t s = 0; s < S; ++s) {
        float* row = dh + (b * S + s) * D;
        for (int64_t d = 0; d < D; ++d) row[d] += (float)((double)dz[b * D + d] * inv);
      }
    }
  });
}

}  // namespace ft
