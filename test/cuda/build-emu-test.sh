#!/bin/sh
# Builds test/cuda/emu_test.cc, emu_mma_test.cc and every kernels/cuda/*.cu (compiled as C++ by g++ -x c++ through the
# emulation header) under AddressSanitizer into $1/emu_test. Shared memory in the emulator is an exactly
# sized heap block per CUDA block, so ASan sees an out-of-bounds shared-memory index. Extra compiler flags in $2
# (e.g. -DFTEMU_UCONTEXT, the emulator's portable fiber switch).
set -eu
out=${1:?usage: build-emu-test.sh OUT_DIR [EXTRA_FLAGS]}
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out/obj"
flags="-DFT_CUDA_EMU -std=c++20 -O1 -g -fsanitize=address -fno-omit-frame-pointer -pthread -Wall -Wextra -Wno-unknown-pragmas ${2:-}"
for f in "$root"/kernels/cuda/*.cu "$root/test/cuda/emu_test.cc" "$root/test/cuda/emu_mma_test.cc"; do
  case "$f" in *.cu) lang="-x c++" ;; *) lang="" ;; esac
  echo "g++ $flags $lang -c $f -o $out/obj/$(basename "$f").o"
done | xargs -P 2 -I{} sh -c "{}"
# The planted bug of the race check: attention.cu with the dQ atomicAdd replaced by a plain +=, compiled
# into namespace ftc_planted so that it links beside the real kernels.
sed 's/if (acc != 0.0f) atomicAdd(&dQrot\[\(.*\)\], acc);/if (acc != 0.0f) dQrot[\1] += acc;/' "$root/kernels/cuda/attention.cu" > "$out/obj/attention_planted.cu"
grep -q 'dQrot\[.*\] += acc;' "$out/obj/attention_planted.cu" || { echo "build-emu-test.sh: the dQ atomicAdd to plant the bug in was not found" >&2; exit 1; }
g++ $flags -Dftc=ftc_planted -I"$root/kernels/cuda" -x c++ -c "$out/obj/attention_planted.cu" -o "$out/obj/attention_planted.o"
g++ -fsanitize=address -pthread -o "$out/emu_test" "$out"/obj/*.o
echo "$out/emu_test"
