# The fairtune_native addon (CPU backend). Compiled for the x86-64 baseline: the AVX2 and AVX-512 kernels
# carry per-function target attributes and are picked at run time (kernels/cpu/isa.cc), so one binary runs
# on any x86-64 machine. CMakeLists.txt builds the same sources into the same addon for `npm run build:cmake`.
# fairtune_cuda_emu: the CUDA kernels (kernels/cuda/*.cu, entering through native/cuda/emu/*.cc) compiled by
# the host compiler with the emulation header, so every machine can run and test them (docs/cuda.md).
{
  "targets": [
    {
      "target_name": "fairtune_native",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/cpu_ops.cc",
        "native/stderr.cc",
        "kernels/cpu/isa.cc",
        "kernels/cpu/parallel.cc",
        "kernels/cpu/gemm.cc",
        "kernels/cpu/gemm_bf16.cc",
        "kernels/cpu/elementwise.cc",
        "kernels/cpu/dropout.cc",
        "kernels/cpu/norm.cc",
        "kernels/cpu/sequence.cc",
        "kernels/cpu/loss.cc",
        "kernels/cpu/optim.cc",
        "kernels/cpu/attention.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O2", "-O0", "-fno-exceptions"],
      "cflags_cc!": ["-O2", "-O0", "-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-std=c++20"],
      "cflags": ["-O3", "-fno-math-errno", "-pthread"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno"]
      }
    },
    {
      "target_name": "fairtune_cuda_emu",
      "sources": [
        "native/args.cc",
        "native/cuda/addon.cc",
        "native/cuda/device.cc",
        "native/cuda/cuda_ops.cc",
        "native/cuda/emu/gemm.cc",
        "native/cuda/emu/norm.cc",
        "native/cuda/emu/elementwise.cc",
        "native/cuda/emu/sequence.cc",
        "native/cuda/emu/attention.cc",
        "native/cuda/emu/loss.cc",
        "native/cuda/emu/optim.cc",
        "native/cuda/emu/check.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8", "FT_CUDA_EMU"],
      "cflags!": ["-O3", "-O0", "-fno-exceptions"],
      "cflags_cc!": ["-O3", "-O0", "-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-std=c++17"],
      "cflags": ["-O2", "-pthread"],
      "cflags_cc": ["-O2", "-std=c++20", "-fexceptions", "-pthread", "-Wno-unknown-pragmas"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
        "OTHER_CPLUSPLUSFLAGS": ["-O2", "-Wno-unknown-pragmas"]
      }
    }
  ]
}
