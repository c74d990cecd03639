// The fairtune_native addon: module setup (threads and ISA from the environment), introspection
// (info, setIsa, setThreads) and the registration of every op family.
#include <napi.h>

#include <cstdlib>
#include <string>

#include "../kernels/cpu/isa.h"
#include "../kernels/cpu/parallel.h"
#include "args.h"
#include "ops.h"

namespace ftn {
namespace {

// info() → { isa, detectedIsa, threads }
Napi::Value info(const Napi::CallbackInfo& cb) {
  Args a(cb, "info", 0);
  Napi::Object o = Napi::Object::New(a.env());
  o.Set("isa", ft::isa_name(ft::active_isa()));
  o.Set("detectedIsa", ft::isa_name(ft::detected_isa()));
  o.Set("threads", ft::num_threads());
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

// setThreads(n), 1 ≤ n ≤ 256.
Napi::Value setThreads(const Napi::CallbackInfo& cb) {
  Args a(cb, "setThreads", 1);
  ft::set_num_threads((int)a.integer(0, "n", 1, 256));
  return a.env().Undefined();
}

// FAIRTUNE_ISA and FAIRTUNE_THREADS apply at load. An invalid value fails the load with a message (so
// that a typo is seen rather than silently ignored); the loader reports it as "cpu unavailable: …".
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
  if (const char* th = std::getenv("FAIRTUNE_THREADS")) {
    if (*th) {
      char* end = nullptr;
      const long n = std::strtol(th, &end, 10);
      if (*end != '\0' || n < 1 || n > 256) {
        throw Napi::Error::New(env, std::string("FAIRTUNE_THREADS must be an integer in [1, 256], got '") + th + "'");
      }
      ft::set_num_threads((int)n);
    }
  }
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  apply_environment(env);
  FTN_EXPORT(exports, env, info);
  FTN_EXPORT(exports, env, setIsa);
  FTN_EXPORT(exports, env, setThreads);
  register_layer_ops(env, exports);
  register_elementwise_ops(env, exports);
  register_loss_ops(env, exports);
  register_optim_ops(env, exports);
  register_attention_ops(env, exports);
  return exports;
}

}  // namespace
}  // namespace ftn

// NODE_API_MODULE pastes its second argument into an identifier, so it needs an unqualified name.
static Napi::Object InitFairtuneNative(Napi::Env env, Napi::Object exports) { return ftn::init(env, exports); }
NODE_API_MODULE(fairtune_native, InitFairtuneNative)
