// Device memory handles and argument checking of the CUDA addons (real and emulated).
// A device buffer is a JS External (type-tagged, so no other External passes for one) owning a cudaMalloc
// allocation; a tensor argument is a view {buf, offset, length} over it. Before any kernel runs, every view
// is checked like the cpu addon checks a Float32Array (ftn::Args): the claimed dims must give exactly its
// length, it must lie inside a live buffer, and outputs must not overlap inputs. Group ids, which decide
// where a kernel writes, are copied to the host and checked there (batch-sized, so the copy is small).
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "../args.h"
#include "runtime.h"

namespace ftcn {

using ftn::Args;
using ftn::F32;

struct DevBuf {
  float* ptr = nullptr;
  int64_t len = 0;  // floats
  bool freed = false;
};

// A tensor view argument; `optional` accepts null/undefined (→ empty F32).
F32 view_arg(Args& a, const Napi::CallbackInfo& info, size_t i, const char* name, std::initializer_list<int64_t> dims,
             bool optional = false);

// Element j of a list of views (sumSquares), of whatever length it claims.
F32 view_list_item(Args& a, Napi::Value v, const char* list, uint32_t j);
// One device double for sumSquares (allocated once).
double* sum_accumulator(Args& a);


// Throws "fairtune_cuda.<op>: <what>: <cudaGetErrorString>" on a failed runtime call or launch.
void check(Args& a, cudaError_t e, const char* what);
// After the launches of an op: launch errors (invalid configuration, emulated deadlock) become JS errors.
void check_launch(Args& a);

// A grow-only device scratch buffer (attention backward), freed at exit.
float* workspace(Args& a, int64_t floats);

const napi_type_tag& buffer_tag();
DevBuf* buffer_of(Args& a, Napi::Value v, const char* name);

}  // namespace ftcn

#define FTCN_EXPORT(exports, env, fn) (exports).Set(#fn, Napi::Function::New((env), fn, #fn))
