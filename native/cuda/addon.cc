// The CUDA addons: fairtune_cuda (real kernels, nvcc, static cudart) and fairtune_cuda_emu (the same .cu
// kernels compiled by g++ through kernels/cuda/cuda_emu.h). Module setup, device memory (alloc, free,
// upload, download, zero, copy) and the registration of every op family. Loading never needs a GPU: with
// static cudart and no driver, info() reports the runtime's reason and the backend says it is unavailable.
#include <napi.h>

#include <cstdlib>
#include <string>

#include "../../kernels/cuda/launch.h"
#include "../../kernels/cuda/ops.h"
#include "device.h"
#include "ops.h"

namespace ftcn {
namespace {

// info() → { available, reason, devices, emulated, device }
Napi::Value info(const Napi::CallbackInfo& cb) {
  Args a(cb, "info", 0);
  Napi::Object o = Napi::Object::New(a.env());
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  o.Set("emulated", Napi::Boolean::New(a.env(), FT_EMULATED != 0));
  o.Set("devices", Napi::Number::New(a.env(), e == cudaSuccess ? n : 0));
  o.Set("computeMode", ftc::compute_mode() == ftc::ComputeMode::Bf16   ? "bf16"
                       : ftc::compute_mode() == ftc::ComputeMode::Tf32 ? "tf32"
                                                                       : "fp32");
  if (e != cudaSuccess) {
    o.Set("available", false);
    o.Set("reason", std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(e) + " (error " +
                        std::to_string((int)e) + ")");
  } else if (n < 1) {
    o.Set("available", false);
    o.Set("reason", "no CUDA device found");
  } else {
    o.Set("available", true);
    o.Set("reason", "");
  }
#if FT_EMULATED
  o.Set("device", "CUDA emulation on the host CPU (kernels/cuda/cuda_emu.h)");
#else
  if (e == cudaSuccess && n > 0) {
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
      o.Set("device", std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")");
    }
  }
#endif
  return o;
}

// alloc(n) → a zero-filled device buffer of n floats (an External; free() releases it, or the GC does).
Napi::Value alloc(const Napi::CallbackInfo& cb) {
  Args a(cb, "alloc", 1);
  const int64_t n = a.count(0, "n");
  void* p = nullptr;
  check(a, cudaMalloc(&p, (size_t)(n > 0 ? n : 1) * sizeof(float)), "cudaMalloc");
  const cudaError_t z = cudaMemsetAsync(p, 0, (size_t)n * sizeof(float), ftc::stream());
  if (z != cudaSuccess) {
    cudaFree(p);
    check(a, z, "cudaMemset");
  }
  DevBuf* b = new DevBuf{static_cast<float*>(p), n, false};
  Napi::External<DevBuf> ext = Napi::External<DevBuf>::New(a.env(), b, [](Napi::Env, DevBuf* d) {
    if (!d->freed) cudaFree(d->ptr);
    delete d;
  });
  ext.TypeTag(&buffer_tag());
  return ext;
}

// free(buf): releases the device memory now (views of it become invalid and are refused).
Napi::Value free_buffer(const Napi::CallbackInfo& cb) {
  Args a(cb, "free", 1);
  DevBuf* b = buffer_of(a, cb[0], "buf");
  check(a, cudaFree(b->ptr), "cudaFree");
  b->freed = true;
  b->ptr = nullptr;
  return a.env().Undefined();
}

// upload(view, data: Float32Array)
Napi::Value upload(const Napi::CallbackInfo& cb) {
  Args a(cb, "upload", 2);
  if (!cb[1].IsTypedArray() || cb[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    a.fail("argument 2 'data' must be a Float32Array");
  }
  Napi::Float32Array host = cb[1].As<Napi::Float32Array>();
  F32 v = view_arg(a, cb, 0, "view", {(int64_t)host.ElementLength()});
  // From pageable memory the call returns once the data is staged: the host array may change after it.
  if (v.len > 0) {
    check(a, cudaMemcpyAsync(v.data, host.Data(), (size_t)v.len * sizeof(float), cudaMemcpyHostToDevice, ftc::stream()),
          "cudaMemcpyAsync");
  }
  return a.env().Undefined();
}

// download(view, out: Float32Array)
Napi::Value download(const Napi::CallbackInfo& cb) {
  Args a(cb, "download", 2);
  if (!cb[1].IsTypedArray() || cb[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    a.fail("argument 2 'out' must be a Float32Array");
  }
  Napi::Float32Array host = cb[1].As<Napi::Float32Array>();
  F32 v = view_arg(a, cb, 0, "view", {(int64_t)host.ElementLength()});
  if (v.len > 0) {
    check(a, cudaMemcpyAsync(host.Data(), v.data, (size_t)v.len * sizeof(float), cudaMemcpyDeviceToHost, ftc::stream()),
          "cudaMemcpyAsync");
    check(a, cudaStreamSynchronize(ftc::stream()), "cudaStreamSynchronize");
  }
  return a.env().Undefined();
}

// allocPinned(n) → a Float32Array over page-locked host memory (cudaMallocHost; freed when the array is
// collected). Device-to-host copies into it are DMA transfers without a staging copy; the backend reads
// small results (a step's loss and statistics, the device checks' flags) through one of these.
Napi::Value allocPinned(const Napi::CallbackInfo& cb) {
  Args a(cb, "allocPinned", 1);
  const int64_t n = a.count(0, "n");
  void* p = nullptr;
  check(a, cudaMallocHost(&p, (size_t)(n > 0 ? n : 1) * sizeof(float)), "cudaMallocHost");
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(a.env(), p, (size_t)n * sizeof(float), [](Napi::Env, void* data) {
    cudaFreeHost(data);
  });
  return Napi::Float32Array::New(a.env(), (size_t)n, ab, 0);
}

// downloadPair(view, out, view2, out2): two device-to-host copies queued back to back and one synchronisation
// (a read of a result together with the device checks' flags costs one round trip, not two).
Napi::Value downloadPair(const Napi::CallbackInfo& cb) {
  Args a(cb, "downloadPair", 4);
  for (size_t i : {(size_t)1, (size_t)3}) {
    if (!cb[i].IsTypedArray() || cb[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      a.fail("argument " + std::to_string(i + 1) + " must be a Float32Array");
    }
  }
  Napi::Float32Array h1 = cb[1].As<Napi::Float32Array>(), h2 = cb[3].As<Napi::Float32Array>();
  F32 v1 = view_arg(a, cb, 0, "view", {(int64_t)h1.ElementLength()});
  F32 v2 = view_arg(a, cb, 2, "view2", {(int64_t)h2.ElementLength()});
  const cudaStream_t s = ftc::stream();
  if (v1.len > 0) check(a, cudaMemcpyAsync(h1.Data(), v1.data, (size_t)v1.len * sizeof(float), cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
  if (v2.len > 0) check(a, cudaMemcpyAsync(h2.Data(), v2.data, (size_t)v2.len * sizeof(float), cudaMemcpyDeviceToHost, s), "cudaMemcpyAsync");
  check(a, cudaStreamSynchronize(s), "cudaStreamSynchronize");
  return a.env().Undefined();
}

// A view argument of whatever length it states (the checks run over the whole view).
F32 sized_view(Args& a, const Napi::CallbackInfo& cb, size_t i, const char* name) {
  const Napi::Value v = cb[i];
  const Napi::Value len = v.IsObject() ? v.As<Napi::Object>().Get("length") : Napi::Value();
  const double n = !len.IsEmpty() && len.IsNumber() ? len.As<Napi::Number>().DoubleValue() : -1;
  if (!(n >= 0 && n <= 9007199254740991.0 && n == (double)(int64_t)n)) {
    a.fail(std::string("argument ") + std::to_string(i + 1) + " '" + name + "' must be a device view {buf, offset, length}");
  }
  return view_arg(a, cb, i, name, {(int64_t)n});
}

// checkValues(view, rule, G, slot): the value rule `rule` (ftc::CheckRule) over the view, verdict into slot
// (a view of two floats); see kernels/cuda/check.cu.
Napi::Value checkValues(const Napi::CallbackInfo& cb) {
  Args a(cb, "checkValues", 4);
  F32 x = sized_view(a, cb, 0, "x");
  const int64_t rule = a.integer(1, "rule", ftc::CheckFinite, ftc::CheckGroupIds);
  const int64_t G = a.integer(2, "G", 0, (int64_t)1 << 24);
  F32 slot = view_arg(a, cb, 3, "slot", {2});
  a.same_or_disjoint(slot, x);
  if (x.len > 0) ftc::check_values(x.data, x.len, (int)rule, G, slot.data);
  check_launch(a);
  return a.env().Undefined();
}

// checkIdsCounted(ids, counts, slot): every valid id has a non-zero count (GroupDRO divides by it).
Napi::Value checkIdsCounted(const Napi::CallbackInfo& cb) {
  Args a(cb, "checkIdsCounted", 3);
  F32 ids = sized_view(a, cb, 0, "ids"), counts = sized_view(a, cb, 1, "counts");
  F32 slot = view_arg(a, cb, 2, "slot", {2});
  a.same_or_disjoint(slot, ids);
  a.same_or_disjoint(slot, counts);
  if (ids.len > 0) ftc::check_ids_counted(ids.data, ids.len, counts.data, counts.len, slot.data);
  check_launch(a);
  return a.env().Undefined();
}

// zero(view, n)
Napi::Value zero(const Napi::CallbackInfo& cb) {
  Args a(cb, "zero", 2);
  const int64_t n = a.count(1, "n");
  F32 v = view_arg(a, cb, 0, "view", {n});
  if (n > 0) check(a, cudaMemsetAsync(v.data, 0, (size_t)n * sizeof(float), ftc::stream()), "cudaMemsetAsync");
  return a.env().Undefined();
}

// copy(src, dst, n): device to device (overlap allowed only when identical).
Napi::Value copy(const Napi::CallbackInfo& cb) {
  Args a(cb, "copy", 3);
  const int64_t n = a.count(2, "n");
  F32 src = view_arg(a, cb, 0, "src", {n}), dst = view_arg(a, cb, 1, "dst", {n});
  a.same_or_disjoint(dst, src);
  if (n > 0 && dst.data != src.data) {
    check(a, cudaMemcpyAsync(dst.data, src.data, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, ftc::stream()),
          "cudaMemcpyAsync");
  }
  return a.env().Undefined();
}

// setSchedule(order, seed): the emulator's thread order ('forward' | 'reverse' | 'shuffle' | 'eager'); a no-op error
// on the real device, where the hardware decides.
Napi::Value setSchedule(const Napi::CallbackInfo& cb) {
  Args a(cb, "setSchedule", 2);
  const std::string order = a.string(0, "order");
  const int64_t seed = a.integer(1, "seed", 0, 4294967295LL);
#if FT_EMULATED
  if (order == "forward") ftemu::config().order = ftemu::Order::Forward;
  else if (order == "reverse") ftemu::config().order = ftemu::Order::Reverse;
  else if (order == "shuffle") ftemu::config().order = ftemu::Order::Shuffle;
  else if (order == "eager") ftemu::config().order = ftemu::Order::Eager;
  else a.fail("argument 1 'order' must be 'forward', 'reverse', 'shuffle' or 'eager', got '" + order + "'");
  ftemu::config().seed = (uint32_t)seed;
#else
  (void)seed;
  a.fail("the thread schedule can only be set on the emulated device (asked for '" + order + "')");
#endif
  return a.env().Undefined();
}

// setComputeMode(mode): 'fp32' (CUDA cores), 'bf16' (bf16 operands, fp32 accumulation, tensor cores: GEMMs and
// attention) or 'tf32' (tf32 operands, fp32 accumulation, tensor cores: GEMMs) for every op after it; the
// tensor-core modes are refused on a device below compute capability 8.0.
Napi::Value setComputeMode(const Napi::CallbackInfo& cb) {
  Args a(cb, "setComputeMode", 1);
  const std::string mode = a.string(0, "mode");
  if (mode == "fp32") {
    ftc::compute_mode() = ftc::ComputeMode::Fp32;
  } else if (mode == "bf16" || mode == "tf32") {
    if (!ftc::tensor_cores_available()) a.fail(mode + " mode needs tensor cores with " + mode + " (compute capability 8.0 or higher)");
    ftc::compute_mode() = mode == "bf16" ? ftc::ComputeMode::Bf16 : ftc::ComputeMode::Tf32;
  } else {
    a.fail("argument 1 'mode' must be 'fp32', 'bf16' or 'tf32', got '" + mode + "'");
  }
  return a.env().Undefined();
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  FTCN_EXPORT(exports, env, info);
  FTCN_EXPORT(exports, env, alloc);
  exports.Set("free", Napi::Function::New(env, free_buffer, "free"));
  FTCN_EXPORT(exports, env, upload);
  FTCN_EXPORT(exports, env, download);
  FTCN_EXPORT(exports, env, downloadPair);
  FTCN_EXPORT(exports, env, allocPinned);
  FTCN_EXPORT(exports, env, checkValues);
  FTCN_EXPORT(exports, env, checkIdsCounted);
  FTCN_EXPORT(exports, env, zero);
  FTCN_EXPORT(exports, env, copy);
  FTCN_EXPORT(exports, env, setSchedule);
  FTCN_EXPORT(exports, env, setComputeMode);
  register_table_ops(env, exports);
  // FAIRTUNE_COMPUTE applies at load, as for the CPU addon: an invalid or unsupported value fails the load
  // with its reason (the backend then reports itself unavailable, saying why).
  if (const char* mode = std::getenv("FAIRTUNE_COMPUTE")) {
    const std::string m(mode);
    if ((m == "bf16" || m == "tf32") && !ftc::tensor_cores_available()) {
      throw Napi::Error::New(env, "FAIRTUNE_COMPUTE=" + m + ": needs tensor cores with " + m + " (compute capability 8.0 or higher)");
    }
    if (m == "bf16") ftc::compute_mode() = ftc::ComputeMode::Bf16;
    else if (m == "tf32") ftc::compute_mode() = ftc::ComputeMode::Tf32;
    else if (!m.empty() && m != "fp32") {
      throw Napi::Error::New(env, "FAIRTUNE_COMPUTE must be 'fp32', 'bf16' or 'tf32' (tf32: cuda only), got '" + m + "'");
    }
  }
  return exports;
}

}  // namespace
}  // namespace ftcn

static Napi::Object InitFairtuneCuda(Napi::Env env, Napi::Object exports) { return ftcn::init(env, exports); }
#if defined(FT_CUDA_EMU)
NODE_API_MODULE(fairtune_cuda_emu, InitFairtuneCuda)
#else
NODE_API_MODULE(fairtune_cuda, InitFairtuneCuda)
#endif
