#!/usr/bin/env bash
# Builds and runs the GEMM threading harness (test/native/gemm_test.cc) twice: optimised, and under
# ThreadSanitizer (halt on the first report, smaller shapes), which checks the hand-off of packed panels.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cxx="${CXX:-g++}"
out="$(mktemp -d "${TMPDIR:-/tmp}/ft-gemm-test.XXXXXX")"
trap 'rm -rf "$out"' EXIT
cpu="$root/kernels/cpu"
srcs=("$here/gemm_test.cc" "$cpu/gemm.cc" "$cpu/gemm_bf16.cc" "$cpu/isa.cc" "$cpu/parallel.cc")
warn=(-Wall -Wextra -Werror -Wno-maybe-uninitialized)
"$cxx" -O2 -std=c++17 -pthread "${warn[@]}" -I"$cpu" -o "$out/gemm_test" "${srcs[@]}" &
"$cxx" -O1 -g -std=c++17 -pthread "${warn[@]}" -fsanitize=thread -I"$cpu" -o "$out/gemm_test_tsan" "${srcs[@]}" &
wait -n && wait -n
"$out/gemm_test"
GEMM_TEST_SCALE=0.5 TSAN_OPTIONS=halt_on_error=1:exitcode=66 "$out/gemm_test_tsan"
