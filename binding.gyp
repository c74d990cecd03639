# The fairtune_native addon (CPU backend). Compiled for the x86-64 baseline: the AVX2 and AVX-512 kernels
# carry per-function target attributes and are picked at run time (kernels/cpu/isa.cc), so one binary runs
# on any x86-64 machine. CMakeLists.txt builds the same sources into the same addon for `npm run build:cmake`.
{
  "targets": [
    {
      "target_name": "fairtune_native",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/ops_layers.cc",
        "native/ops_elementwise.cc",
        "native/ops_losses.cc",
        "native/ops_optim.cc",
        "native/ops_attention.cc",
        "kernels/cpu/isa.cc",
        "kernels/cpu/parallel.cc",
        "kernels/cpu/gemm.cc",
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
    }
  ]
}
