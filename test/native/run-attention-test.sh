#!/usr/bin/env bash
# Builds and runs the standalone attention kernel harness (test/native/attention_test.cc) twice: an optimised
# build with the addon's flags (binding.gyp: -O3 -fno-math-errno, so --bench times the code as shipped), and an
# AddressSanitizer + UndefinedBehaviorSanitizer build that fails on the first finding (at -O0: with the kernel's
# heavy inlining, sanitised -O1 takes over 30 s to compile, -O0 about 5 s).
# Extra arguments are passed to the harness (e.g. --bench, with the optimised build only).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cxx="${CXX:-g++}"
out="$(mktemp -d "${TMPDIR:-/tmp}/ft-attention-test.XXXXXX")"
trap 'rm -rf "$out"' EXIT
srcs=("$here/attention_test.cc" "$root/kernels/cpu/attention.cc" "$root/kernels/cpu/dropout.cc" "$root/kernels/cpu/isa.cc"
      "$root/kernels/cpu/parallel.cc")
warn=(-Wall -Wextra -Werror)

"$cxx" -O3 -fno-math-errno -std=c++17 -pthread "${warn[@]}" -o "$out/attention_test" "${srcs[@]}" &
"$cxx" -O0 -g -std=c++17 -pthread "${warn[@]}" -fsanitize=address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer -o "$out/attention_test_san" "${srcs[@]}" &
wait -n && wait -n

if [[ "${1:-}" == "--bench" ]]; then
  exec "$out/attention_test" --bench
fi
"$out/attention_test"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$out/attention_test_san"
