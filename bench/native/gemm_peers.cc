// sgemm peers of the engine's linear, through OpenBLAS cblas_sgemm and oneDNN dnnl_sgemm, in the engine's
// row-major layouts. forward: y[N,M] = x[N,K] · W[M,K]ᵀ (W transposed as the engine's weights are);
// backward: the two products of linearBackward, dx[N,K] = dy[N,M] · W[M,K] and dW[M,K] = dy[N,M]ᵀ · x[N,K],
// one call each per timed call. One library per run so their thread pools never compete.
// Usage: gemm_peers <openblas|onednn> N K M threads min_seconds [forward|backward]
// Prints one JSON line: the median and best milliseconds per call over the timed calls (taken in steady state:
// warm-up calls continue until one stops improving on the best before it), the warm-up calls used, and the
// kernel the library chose (OpenBLAS's core name, oneDNN's effective ISA), so a peer run below its best shows.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef HAVE_OPENBLAS
extern "C" char* openblas_get_corename(void);
#endif
#ifdef HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#endif

// The kernel family the library dispatched to on this CPU.
static std::string kernel_of(const std::string& lib) {
#ifdef HAVE_OPENBLAS
  if (lib == "openblas") return openblas_get_corename();
#endif
#ifdef HAVE_ONEDNN
  if (lib == "onednn") {
    switch (dnnl_get_effective_cpu_isa()) {
      case dnnl_cpu_isa_avx2: return "avx2";
      case dnnl_cpu_isa_avx512_core: return "avx512_core";
      case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
      case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
      case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
      default: return "isa " + std::to_string((int)dnnl_get_effective_cpu_isa());
    }
  }
#endif
  return "unknown";
}

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: gemm_peers <openblas|onednn> N K M threads min_seconds [forward|backward]\n");
    return 2;
  }
  const std::string direction = argc == 8 ? argv[7] : "forward";
  if (direction != "forward" && direction != "backward") {
    std::fprintf(stderr, "gemm_peers: the direction must be forward or backward, got '%s'\n", direction.c_str());
    return 2;
  }
  const bool backward = direction == "backward";
  const std::string lib = argv[1];
  const long N = std::atol(argv[2]), K = std::atol(argv[3]), M = std::atol(argv[4]);
  const int threads = std::atoi(argv[5]);
  const double min_seconds = std::atof(argv[6]);
  if (N < 1 || K < 1 || M < 1 || threads < 1 || !(min_seconds > 0)) {
    std::fprintf(stderr, "gemm_peers: N, K, M, threads must be positive integers and min_seconds > 0\n");
    return 2;
  }
  // a: x [N,K]; w: W [M,K]; forward: c = y [N,M]. backward: dy [N,M] in dy, c = dx [N,K], dw = dW [M,K].
  std::vector<float> a(N * K), w(M * K), c(backward ? N * K : N * M), dy(backward ? N * M : 0), dw(backward ? M * K : 0);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.f, 1.f);
  for (auto& v : a) v = nd(rng);
  for (auto& v : w) v = 0.02f * nd(rng);
  for (auto& v : dy) v = nd(rng);

  auto call = [&]() -> bool {
    if (lib == "openblas") {
#ifdef HAVE_OPENBLAS
      if (backward) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, K, M, 1.f, dy.data(), M, w.data(), K, 0.f, c.data(), K);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, K, N, 1.f, dy.data(), M, a.data(), K, 0.f, dw.data(), K);
      } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, M, K, 1.f, a.data(), K, w.data(), K, 0.f, c.data(), M);
      }
      return true;
#endif
    } else if (lib == "onednn") {
#ifdef HAVE_ONEDNN
      if (backward)
        return dnnl_sgemm('N', 'N', N, K, M, 1.f, dy.data(), M, w.data(), K, 0.f, c.data(), K) == dnnl_success &&
               dnnl_sgemm('T', 'N', M, K, N, 1.f, dy.data(), M, a.data(), K, 0.f, dw.data(), K) == dnnl_success;
      return dnnl_sgemm('N', 'T', N, M, K, 1.f, a.data(), K, w.data(), K, 0.f, c.data(), M) == dnnl_success;
#endif
    }
    return false;
  };
#ifdef HAVE_OPENBLAS
  if (lib == "openblas") openblas_set_num_threads(threads);
#endif
#ifdef HAVE_ONEDNN
  if (lib == "onednn") omp_set_num_threads(threads);
#endif
  if (!call()) {
    std::printf("{\"lib\":\"%s\",\"error\":\"%s is not built into this binary (install %s and rerun)\"}\n",
                lib.c_str(), lib.c_str(), lib == "onednn" ? "libdnnl-dev" : "libopenblas-dev");
    return 0;
  }
  // Warm-up (thread pools, packing buffers, page faults) until a call no longer beats the best before it by 3%.
  int warmup = 0;
  double best_warm = 1e300;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    call();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++warmup;
    if ((warmup >= 3 && dt > 0.97 * best_warm) || warmup >= 50) break;
    best_warm = std::min(best_warm, dt);
  }
  std::vector<double> ms;
  double total = 0;
  while (total < min_seconds || ms.size() < 5) {
    auto t0 = std::chrono::steady_clock::now();
    call();
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ms.push_back(dt * 1e3);
    total += dt;
    if (ms.size() >= 10000) break;
  }
  std::sort(ms.begin(), ms.end());
  double checksum = 0;
  for (long i = 0; i < std::min<long>((long)c.size(), 1024); i++) checksum += c[i];
  for (long i = 0; i < std::min<long>((long)dw.size(), 1024); i++) checksum += dw[i];
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("{\"lib\":\"%s\",\"direction\":\"%s\",\"threads\":%d,\"calls\":%zu,\"warmup\":%d,\"median_ms\":%.6f,\"best_ms\":%.6f,\"fast_ms\":%.6f,"
              "\"kernel\":\"%s\",\"openblas_coretype_env\":\"%s\",\"checksum\":%.6g}\n",
              lib.c_str(), direction.c_str(), threads, ms.size(), warmup, ms[ms.size() / 2], ms[0], ms[(ms.size() - 1) / 10], kernel_of(lib).c_str(),
              coretype ? coretype : "", checksum);
  return 0;
}
