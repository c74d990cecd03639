#include "device.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "../../kernels/cuda/launch.h"

namespace ftcn {
namespace {

constexpr double MAX_SAFE = 9007199254740991.0;

bool safe_index(const Napi::Value& v, int64_t* out) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(std::isfinite(d) && d >= 0 && d <= MAX_SAFE && std::floor(d) == d)) return false;
  *out = (int64_t)d;
  return true;
}

std::string label(size_t i, const char* name) {
  std::ostringstream s;
  s << "argument " << (i + 1) << " '" << name << "'";
  return s.str();
}

}  // namespace

const napi_type_tag& buffer_tag() {
  static const napi_type_tag tag = {0x6a1f2c3b4d5e6f70ULL, 0x0fa17c0dab1e5eedULL};
  return tag;
}

DevBuf* buffer_of(Args& a, Napi::Value v, const char* name) {
  if (!v.IsExternal()) a.fail(std::string("'") + name + "' is not a device buffer");
  Napi::External<DevBuf> ext = v.As<Napi::External<DevBuf>>();
  if (!ext.CheckTypeTag(&buffer_tag())) a.fail(std::string("'") + name + "' is not a device buffer of this addon");
  DevBuf* b = ext.Data();
  if (b->freed) a.fail(std::string("'") + name + "' refers to a freed device buffer");
  return b;
}

namespace {

F32 view_checked(Args& a, Napi::Value v, const std::string& lab, const char* name, std::initializer_list<int64_t> dims) {
  if (!v.IsObject()) a.fail(lab + " must be a device view {buf, offset, length}");
  Napi::Object o = v.As<Napi::Object>();
  DevBuf* b = buffer_of(a, o.Get("buf"), name);
  int64_t offset = 0, length = 0;
  if (!safe_index(o.Get("offset"), &offset) || !safe_index(o.Get("length"), &length)) {
    a.fail(lab + " offset and length must be non-negative integers");
  }
  if (offset > b->len || length > b->len - offset) {
    std::ostringstream s;
    s << lab << " view [" << offset << ", " << offset + length << ") exceeds its buffer of " << b->len << " floats";
    a.fail(s.str());
  }
  const int64_t want = ftn::checked_product(a, name, dims);
  if (length != want) {
    std::ostringstream s;
    s << lab << " has " << length << " elements, its dims [";
    bool first = true;
    for (int64_t d : dims) {
      s << (first ? "" : ", ") << d;
      first = false;
    }
    s << "] need " << want;
    a.fail(s.str());
  }
  F32 f;
  f.data = b->ptr + offset;
  f.len = length;
  f.name = name;
  return f;
}

}  // namespace

F32 view_arg(Args& a, const Napi::CallbackInfo& info, size_t i, const char* name, std::initializer_list<int64_t> dims,
             bool optional) {
  const Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return F32{};
  return view_checked(a, v, label(i, name), name, dims);
}

F32 view_list_item(Args& a, Napi::Value v, const char* list, uint32_t j) {
  const std::string lab = std::string(list) + "[" + std::to_string(j) + "]";
  if (!v.IsObject()) a.fail(lab + " must be a device view {buf, offset, length}");
  const Napi::Value len = v.As<Napi::Object>().Get("length");
  const double n = len.IsNumber() ? len.As<Napi::Number>().DoubleValue() : -1;
  if (!(n >= 0 && n <= 9007199254740991.0 && std::floor(n) == n)) a.fail(lab + " length is not a non-negative integer");
  return view_checked(a, v, lab, list, {(int64_t)n});
}

double* sum_accumulator(Args& a) {
  static double* acc = nullptr;
  if (acc == nullptr) {
    void* p = nullptr;
    check(a, cudaMalloc(&p, sizeof(double)), "cudaMalloc (sumSquares accumulator)");
    acc = static_cast<double*>(p);
  }
  return acc;
}

void check(Args& a, cudaError_t e, const char* what) {
  if (e != cudaSuccess) a.fail(std::string(what) + ": " + cudaGetErrorString(e));
}

// FAIRTUNE_CUDA_SYNC=1: synchronise after every op, so a kernel's fault (an illegal address) is reported as
// that op's error rather than by whichever later call synchronises first. Slower; for debugging.
static bool sync_every_op() {
  static const bool on = [] {
    const char* v = std::getenv("FAIRTUNE_CUDA_SYNC");
    return v != nullptr && std::string(v) == "1";
  }();
  return on;
}

void check_launch(Args& a) {
  const cudaError_t pending = ftc::take_pending_error();
  if (pending != cudaSuccess) {
    (void)cudaGetLastError();
    a.fail(std::string("a launcher failed before its kernels (cudaMemsetAsync, a device allocation or its arguments): ") +
           cudaGetErrorString(pending));
  }
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) a.fail(std::string("kernel launch failed: ") + cudaGetErrorString(e));
  if (sync_every_op()) {
    const cudaError_t s = cudaDeviceSynchronize();
    if (s != cudaSuccess) a.fail(std::string("kernel failed (FAIRTUNE_CUDA_SYNC=1 synchronised after the op): ") + cudaGetErrorString(s));
  }
}

float* workspace(Args& a, int64_t floats) {
  static float* ptr = nullptr;
  static int64_t have = 0;
  if (floats <= have) return ptr;
  if (ptr != nullptr) {
    cudaDeviceSynchronize();  // kernels still using the old scratch must finish first
    cudaFree(ptr);
    ptr = nullptr;
    have = 0;
  }
  void* p = nullptr;
  check(a, cudaMalloc(&p, (size_t)floats * sizeof(float)), "cudaMalloc (attention scratch)");
  ptr = static_cast<float*>(p);
  have = floats;
  return ptr;
}

}  // namespace ftcn
