#!/usr/bin/env bash
# Builds and runs the optimiser kernels' harness (test/native/optim_test.cc) twice: optimised, and under ASan +
# UBSan (halt on the first report).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cxx="${CXX:-g++}"
out="$(mktemp -d "${TMPDIR:-/tmp}/ft-optim-test.XXXXXX")"
trap 'rm -rf "$out"' EXIT
cpu="$root/kernels/cpu"
srcs=("$here/optim_test.cc" "$cpu/optim.cc" "$cpu/isa.cc" "$cpu/parallel.cc")
warn=(-Wall -Wextra -Werror)
"$cxx" -O3 -std=c++17 -fno-math-errno -pthread "${warn[@]}" -I"$cpu" -o "$out/optim_test" "${srcs[@]}" &
"$cxx" -O1 -g -std=c++17 -fno-math-errno -pthread "${warn[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all \
  -I"$cpu" -o "$out/optim_test_asan" "${srcs[@]}" &
wait -n && wait -n
"$out/optim_test"
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 "$out/optim_test_asan"
