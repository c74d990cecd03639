#!/bin/sh
# Builds the benchmark's native helpers into $1 (default: a temp dir): peak (the FMA / BF16 peak loop) and
# gemm_peers (OpenBLAS and oneDNN sgemm). A library whose header is missing is left out with a message;
# gemm_peers then reports it as unavailable at run time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${TMPDIR:-/tmp}/fairtune-bench-native}
mkdir -p "$out"
CXX=${CXX:-g++}
$CXX -O2 -std=c++17 -pthread -o "$out/peak" "$here/peak.cc"
flags="" libs=""
if [ -f /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ]; then
  flags="$flags -DHAVE_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread"
  libs="$libs -L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas"
elif [ -f /usr/include/cblas.h ] || [ -f /usr/include/x86_64-linux-gnu/cblas.h ]; then
  flags="$flags -DHAVE_OPENBLAS"; libs="$libs -lopenblas"
else
  echo "gemm_peers: OpenBLAS headers not found (apt-get install libopenblas-dev): OpenBLAS left out" >&2
fi
if [ -f /usr/include/oneapi/dnnl/dnnl.h ]; then
  flags="$flags -DHAVE_ONEDNN -fopenmp"; libs="$libs -ldnnl -fopenmp"
else
  echo "gemm_peers: oneDNN headers not found (apt-get install libdnnl-dev): oneDNN left out" >&2
fi
# shellcheck disable=SC2086
$CXX -O2 -std=c++17 -pthread $flags -o "$out/gemm_peers" "$here/gemm_peers.cc" $libs
echo "$out"
