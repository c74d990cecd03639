#!/usr/bin/env bash
# Builds and runs the thread-pool stress harness (test/native/parallel_test.cc) twice: optimised, and under
# ThreadSanitizer (halt on the first report), which checks the pool's hand-off for data races.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cxx="${CXX:-g++}"
out="$(mktemp -d "${TMPDIR:-/tmp}/ft-parallel-test.XXXXXX")"
trap 'rm -rf "$out"' EXIT
srcs=("$here/parallel_test.cc" "$root/kernels/cpu/parallel.cc")
warn=(-Wall -Wextra -Werror)
"$cxx" -O2 -std=c++17 -pthread "${warn[@]}" -I"$root/kernels/cpu" -o "$out/parallel_test" "${srcs[@]}" &
"$cxx" -O1 -g -std=c++17 -pthread "${warn[@]}" -fsanitize=thread -I"$root/kernels/cpu" -o "$out/parallel_test_tsan" "${srcs[@]}" &
wait -n && wait -n
"$out/parallel_test"
# Fewer calls under TSan (each hand-off is ~50x slower there); halt_on_error makes a race fail the run.
PARALLEL_TEST_CALLS=120 TSAN_OPTIONS=halt_on_error=1:exitcode=66 "$out/parallel_test_tsan"
