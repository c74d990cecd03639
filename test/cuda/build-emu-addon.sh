#!/bin/sh
# Builds the emulated CUDA addon (the same sources as binding.gyp's fairtune_cuda_emu target) into $1
# without touching build/ (node-gyp owns it). Extra compiler flags in $2 (e.g. "-fsanitize=address").
# Used during development and by test/cuda when build/Release/fairtune_cuda_emu.node is missing.
set -eu
out=${1:?usage: build-emu-addon.sh OUT_DIR [EXTRA_FLAGS]}
extra=${2:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
napi=$root/$(cd "$root" && node -p "require('node-addon-api').include_dir")
nodeinc=$(node -p "require('path').join(process.execPath, '..', '..', 'include', 'node')")
mkdir -p "$out/obj"
srcs="native/args.cc native/cuda/addon.cc native/cuda/device.cc native/cuda/cuda_ops.cc
native/cuda/emu/gemm.cc native/cuda/emu/norm.cc
native/cuda/emu/elementwise.cc native/cuda/emu/sequence.cc native/cuda/emu/attention.cc native/cuda/emu/loss.cc native/cuda/emu/optim.cc native/cuda/emu/check.cc"
objs=""
for s in $srcs; do objs="$objs $out/obj/$(echo "$s" | tr / _).o"; done
for s in $srcs; do
  o="$out/obj/$(echo "$s" | tr / _).o"
  echo "g++ -std=c++20 -O2 -fPIC -pthread -Wno-unknown-pragmas -DFT_CUDA_EMU -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION -I$nodeinc -I$napi $extra -c $root/$s -o $o"
done | xargs -P 2 -I{} sh -c "{}"
g++ -shared -pthread $extra -o "$out/fairtune_cuda_emu.node" $objs
echo "$out/fairtune_cuda_emu.node"
