// Value checks on the device: the op table's value rules (labels, weights, counts, group ids) for tensors
// whose values the host does not know because a kernel wrote them (GroupDRO's q, the loss's group statistics,
// the weights GroupDRO rewrites). Reading each back to check it would cost a blocking copy per op; instead
// each check writes its verdict into a slot of a flag buffer that the host reads with the step's one
// download, and the TypeScript side (src/engine/cuda/device-checks.ts) turns a raised slot into the same
// message the host check gives.
#include "launch.h"
#include "ops.h"

namespace ftc {
namespace {

constexpr int THREADS = 256;

__device__ __forceinline__ bool value_ok(float x, int rule, long long G) {
  switch (rule) {
    case CheckFinite: return isfinite(x);
    case CheckUnit: return x >= 0.0f && x <= 1.0f;
    case CheckNonNegative:
    case CheckWeights: return isfinite(x) && x >= 0.0f;
    case CheckCounts: return isfinite(x) && x >= 0.0f && x == floorf(x);
    default: return x >= 0.0f && x < (float)G && x == floorf(x);  // CheckGroupIds
  }
}

// Over i < n, strided by the block's threads: the smallest i where fails(i) (n when none) and whether
// positive(i) holds for any i, by a tree in shared memory (s_first, s_any: THREADS each); every thread gets both.
template <class Fails, class Positive>
__device__ void scan_block(long long n, Fails fails, Positive positive, long long* s_first, int* s_any,
                           long long& first, int& any) {
  first = n;
  any = 0;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) {
    if (i < first && fails(i)) first = i;
    any |= positive(i);
  }
  s_first[threadIdx.x] = first;
  s_any[threadIdx.x] = any;
  __syncthreads();
  for (int w = THREADS / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) {
      const long long other = s_first[threadIdx.x + w];
      if (other < s_first[threadIdx.x]) s_first[threadIdx.x] = other;
      s_any[threadIdx.x] |= s_any[threadIdx.x + w];
    }
    __syncthreads();
  }
  first = s_first[0];
  any = s_any[0];
}

// One block. slot[0] = first failing index + 1 (0: the values pass), slot[1] = the value found there; weights
// that pass element by element but are all zero report index n + 1 and the sum 0.
__global__ void __launch_bounds__(THREADS) check_values_kernel(const float* __restrict__ x, long long n, int rule,
                                                               long long G, float* __restrict__ slot) {
  __shared__ long long s_first[THREADS];
  __shared__ int s_any[THREADS];
  long long first;
  int any;
  scan_block(n, [&](long long i) { return !value_ok(x[i], rule, G); }, [&](long long i) { return x[i] > 0.0f; },
             s_first, s_any, first, any);
  if (threadIdx.x == 0) {
    if (first < n) {
      slot[0] = (float)(first + 1);
      slot[1] = x[first];
    } else if (rule == CheckWeights && !any) {
      slot[0] = (float)(n + 1);
      slot[1] = 0.0f;
    }
  }
}

// One block: the first sample whose (valid) group id has a zero count; slot as above, slot[1] = that id.
__global__ void __launch_bounds__(THREADS) check_ids_counted_kernel(const float* __restrict__ ids, long long B,
                                                                    const float* __restrict__ counts, long long G,
                                                                    float* __restrict__ slot) {
  __shared__ long long s_first[THREADS];
  __shared__ int s_any[THREADS];
  long long first;
  int any;
  scan_block(B, [&](long long i) { return value_ok(ids[i], CheckGroupIds, G) && counts[(long long)ids[i]] == 0.0f; },
             [](long long) { return false; }, s_first, s_any, first, any);
  if (threadIdx.x == 0 && first < B) {
    slot[0] = (float)(first + 1);
    slot[1] = ids[first];
  }
}

}  // namespace

void check_values(const float* x, int64_t n, int rule, int64_t G, float* slot) {
  FT_LAUNCH(check_values_kernel, dim3(1), dim3(THREADS), 0, x, (long long)n, rule, (long long)G, slot);
}

void check_ids_counted(const float* ids, int64_t B, const float* counts, int64_t G, float* slot) {
  FT_LAUNCH(check_ids_counted_kernel, dim3(1), dim3(THREADS), 0, ids, (long long)B, counts, (long long)G, slot);
}

}  // namespace ftc
