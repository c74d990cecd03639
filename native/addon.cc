// The fairtune_native addon: module setup (threads and ISA from the environment), introspection
// (info, setIsa, setThreads) and the registration of every op of the table.
#include <napi.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>

#include "../kernels/cpu/gemm.h"
#include "../kernels/cpu/isa.h"
#include "../kernels/cpu/parallel.h"
#include "args.h"
#include "ops.h"

namespace ftn {
namespace {

const char* compute_name(ft::GemmCompute m) { return m == ft::GemmCompute::Bf16 ? "bf16" : "fp32"; }

// info() → { isa, detectedIsa, threads, spinUs, computeMode, bf16Supported, bf16Kernel }
Napi::Value info(const Napi::CallbackInfo& cb) {
  Args a(cb, "info", 0);
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("isa", ft::isa_name(ft::active_isa()));
  o.Set("detectedIsa", ft::isa_name(ft::detected_isa()));
  o.Set("threads", ft::num_threads());
  o.Set("spinUs", ft::spin_us());
  o.Set("computeMode", compute_name(ft::gemm_compute()));
  o.Set("bf16Supported", ft::gemm_bf16_supported());
  o.Set("bf16Kernel", !ft::gemm_bf16_supported() ? "none" : ft::gemm_bf16_uses_amx() ? "amx" : "avx512bf16");
  return o;
}

// setIsa(name): lowers (or restores) the kernel ISA; throws if the CPU lacks it.
Napi::Value setIsa(const Napi::CallbackInfo& cb) {
  Args a(cb, "setIsa", 1);
  const std::string name = a.string(0, "isa");
  ft::Isa isa;
  if (!ft::parse_isa(name.c_str(), &isa)) a.fail("argument 1 'isa' must be 'avx512', 'avx2' or 'scalar', got '" + name + "'");
  if (!ft::set_isa(isa)) {
    a.fail(std::string("this CPU does not support ") + name + " (best: " + ft::isa_name(ft::detected_isa()) + ")");
  }
  return a.env().Undefined();
}

// Parses "fp32" | "bf16" and selects it; throws for anything else or bf16 on a CPU without AVX512_BF16.
void set_compute(const std::string& name, const std::function<void(const std::string&)>& fail) {
  if (name == "fp32") {
    ft::set_gemm_compute(ft::GemmCompute::Fp32);
  } else if (name == "bf16") {
    if (!ft::gemm_bf16_supported()) fail("bf16 compute needs a CPU with AVX-512 and AVX512_BF16; this one lacks them");
    ft::set_gemm_compute(ft::GemmCompute::Bf16);
  } else {
    fail("compute mode must be 'fp32' or 'bf16', got '" + name + "'");
  }
}

// setComputeMode(name): precision of the GEMMs (linear, patch embedding), 'fp32' (default) or 'bf16'.
Napi::Value setComputeMode(const Napi::CallbackInfo& cb) {
  Args a(cb, "setComputeMode", 1);
  set_compute(a.string(0, "mode"), [&](const std::string& m) { a.fail("argument 1 'mode': " + m); });
  return a.env().Undefined();
}

// setBf16Amx(allow): test hook; false makes the bf16 mode use AVX512_BF16 dot products even where AMX works.
Napi::Value setBf16Amx(const Napi::CallbackInfo& cb) {
  Args a(cb, "setBf16Amx", 1);
  if (!cb[0].IsBoolean()) a.fail("argument 1 'allow' must be a boolean");
  ft::set_gemm_bf16_amx(cb[0].As<Napi::Boolean>().Value());
  return a.env().Undefined();
}

// misalignment(a): how many bytes a Float32Array's first element lies past a 64-byte boundary. The host
// storage over-allocates each tensor and starts it at a cache-line boundary found with this: JavaScript's
// large ArrayBuffers start 16 bytes past one (the allocator's header), so every vector load of a row
// straddled two cache lines (the fused attention backward measured 5-25% slower at offsets 16 and 8).
Napi::Value misalignment(const Napi::CallbackInfo& cb) {
  Args a(cb, "misalignment", 1);
  const Napi::Value v = cb[0];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    a.fail("argument 1 'a' must be a Float32Array");
  }
  const auto addr = reinterpret_cast<uintptr_t>(v.As<Napi::Float32Array>().Data());
  return Napi::Number::New(a.env(), (double)(addr % 64));
}

// adviseHugePages(a): the index of the first element of a's first whole 2 MiB page (-1 when a holds none),
// after asking the kernel (madvise MADV_HUGEPAGE) to back a's whole 2 MiB pages with transparent huge pages.
// The host storage starts its largest tensors (the parameter, gradient and AdamW arenas) there. With 4 KiB pages
// every page of a streamed arena costs a TLB miss and a page walk. Measured (AMD EPYC Zen 5, 2 cores): over 19M
// floats, both backings alternated in one process, AdamW 6.69 -> 6.01 ms and the gradient norm 1.36 -> 1.14 ms;
// the 19m step at B = 1 (processes alternated, 7 pairs, huge pages faster in 6) median 43.3 -> 39.1 ms; the
// GEMMs on huge-page operands within ±1% (the 345m dW in bf16 mode 2%). Best effort: where the kernel has no
// transparent huge pages (or they are disabled, or the C library lacks MADV_HUGEPAGE) the advice fails or does
// nothing; the index is returned alike.
Napi::Value adviseHugePages(const Napi::CallbackInfo& cb) {
  Args a(cb, "adviseHugePages", 1);
  const Napi::Value v = cb[0];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    a.fail("argument 1 'a' must be a Float32Array");
  }
  const auto arr = v.As<Napi::Float32Array>();
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t lo = reinterpret_cast<uintptr_t>(arr.Data()), hi = lo + arr.ElementLength() * sizeof(float);
  const uintptr_t b = (lo + kHuge - 1) / kHuge * kHuge, e = hi / kHuge * kHuge;
  if (e <= b) return Napi::Number::New(a.env(), -1);
#ifdef MADV_HUGEPAGE
  madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
#endif
  return Napi::Number::New(a.env(), (double)((b - lo) / sizeof(float)));
}

// setThreads(n), 1 ≤ n ≤ 256.
Napi::Value setThreads(const Napi::CallbackInfo& cb) {
  Args a(cb, "setThreads", 1);
  ft::set_num_threads((int)a.integer(0, "n", 1, 256));
  return a.env().Undefined();
}

// An integer setting from the environment (unset or empty: untouched); a non-integer or one outside [lo, hi]
// fails the load naming the variable.
template <class Apply>
void apply_int_env(Napi::Env env, const char* name, long lo, long hi, Apply apply) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*end != '\0' || v < lo || v > hi) {
    throw Napi::Error::New(env, std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " +
                                    std::to_string(hi) + "], got '" + text + "'");
  }
  apply(v);
}

// FAIRTUNE_ISA, FAIRTUNE_COMPUTE, FAIRTUNE_THREADS and FAIRTUNE_SPIN_US apply at load. An invalid value fails
// the load with a message (so that a typo is seen rather than silently ignored); the loader reports it as
// "cpu unavailable: …".
void apply_environment(Napi::Env env) {
  if (const char* isa_env = std::getenv("FAIRTUNE_ISA")) {
    if (*isa_env) {
      ft::Isa isa;
      if (!ft::parse_isa(isa_env, &isa)) {
        throw Napi::Error::New(env, std::string("FAIRTUNE_ISA must be avx512, avx2 or scalar, got '") + isa_env + "'");
      }
      if (!ft::set_isa(isa)) {
        throw Napi::Error::New(env, std::string("FAIRTUNE_ISA=") + isa_env + " but this CPU supports at most " +
                                        ft::isa_name(ft::detected_isa()));
      }
    }
  }
  if (const char* mode = std::getenv("FAIRTUNE_COMPUTE")) {
    if (*mode) set_compute(mode, [&](const std::string& m) { throw Napi::Error::New(env, "FAIRTUNE_COMPUTE: " + m); });
  }
  apply_int_env(env, "FAIRTUNE_THREADS", 1, 256, [](long n) { ft::set_num_threads((int)n); });
  apply_int_env(env, "FAIRTUNE_SPIN_US", 0, 100000, [](long us) { ft::set_spin_us((int)us); });
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  apply_environment(env);
  FTN_EXPORT(exports, env, info);
  FTN_EXPORT(exports, env, setIsa);
  FTN_EXPORT(exports, env, setThreads);
  FTN_EXPORT(exports, env, setComputeMode);
  FTN_EXPORT(exports, env, setBf16Amx);
  FTN_EXPORT(exports, env, misalignment);
  FTN_EXPORT(exports, env, adviseHugePages);
  register_table_ops(env, exports);
  register_stderr_ops(env, exports);
  return exports;
}

}  // namespace
}  // namespace ftn

// NODE_API_MODULE pastes its second argument into an identifier, so it needs an unqualified name.
static Napi::Object InitFairtuneNative(Napi::Env env, Napi::Object exports) { return ftn::init(env, exports); }
NODE_API_MODULE(fairtune_native, InitFairtuneNative)
