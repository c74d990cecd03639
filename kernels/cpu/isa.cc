#include "isa.h"

#include <atomic>
#include <cstring>

namespace ft {
namespace {

Isa detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the OS saves the wider registers (XCR0), not only CPUID.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2")) {
    return Isa::Avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

std::atomic<int>& active() {
  static std::atomic<int> a{(int)detected_isa()};
  return a;
}

}  // namespace

Isa detected_isa() {
  static const Isa d = detect();
  return d;
}

Isa active_isa() { return (Isa)active().load(std::memory_order_relaxed); }

bool set_isa(Isa isa) {
  if ((int)isa > (int)detected_isa()) return false;
  active().store((int)isa, std::memory_order_relaxed);
  return true;
}

bool cpu_made_by_amd() {
  // Asked once: the kernels consult it per call, and the maker does not change.
  static const bool amd = [] {
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") != 0;
  }();
  return amd;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2: return "avx2";
    default: return "scalar";
  }
}

bool parse_isa(const char* name, Isa* out) {
  if (std::strcmp(name, "avx512") == 0) *out = Isa::Avx512;
  else if (std::strcmp(name, "avx2") == 0) *out = Isa::Avx2;
  else if (std::strcmp(name, "scalar") == 0) *out = Isa::Scalar;
  else return false;
  return true;
}

}  // namespace ft
