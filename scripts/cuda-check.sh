#!/bin/sh
# Compiles every CUDA kernel (kernels/cuda/*.cu) with nvcc for sm_75, sm_80 and sm_90 with all warnings as
# errors, records ptxas resource usage per kernel (registers, spills, static shared memory) and fails when
# a GEMM or attention kernel spills registers, or when a tensor-core kernel compiles to no mma.sync. One nvcc run
# per architecture, two at a time.
# Usage: scripts/cuda-check.sh [OUT_DIR]   (default build-cuda-check/; the table is OUT_DIR/ptxas.tsv)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build-cuda-check}
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null 2>&1 || { echo "cuda-check: nvcc not found (set NVCC)" >&2; exit 2; }
mkdir -p "$out"
for arch in 75 80 90; do echo "$arch"; done | xargs -P 2 -I{} sh -c "
  mkdir -p '$out/sm_{}' &&
  '$NVCC' -std=c++17 -O3 -c -arch=sm_{} -Werror all-warnings -Xptxas -v,-warn-spills \
    -odir '$out/sm_{}' $root/kernels/cuda/*.cu > '$out/sm_{}.log' 2>&1 ||
  { echo 'cuda-check: nvcc failed for sm_{}:' >&2; cat '$out/sm_{}.log' >&2; exit 1; }"

# One row per (architecture, kernel): arch, kernel, registers, spill stores, spill loads, stack, static smem.
tsv="$out/ptxas.tsv"
printf 'arch\tkernel\tregisters\tspill_stores\tspill_loads\tstack_bytes\tstatic_smem\n' > "$tsv.tmp-$$"
for arch in 75 80 90; do
  awk -v arch="sm_$arch" '
    /Compiling entry function/ { match($0, /function .[^'"'"']*/); name = substr($0, RSTART + 10, RLENGTH - 10); next }
    /bytes stack frame/ { stack = $1; stores = $5; loads = $9; next }
    /Used [0-9]+ registers/ && name != "" {
      regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
      smem = 0; if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ bytes smem/, "", smem) }
      print arch "\t" name "\t" regs "\t" stores "\t" loads "\t" stack "\t" smem; name = ""
    }' "$out/sm_$arch.log"
done | while IFS="$(printf '\t')" read -r a k r s l st sm; do
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$a" "$(echo "$k" | c++filt | sed 's/(anonymous namespace):://g; s/^void //; s/(.*//; s/ftc:://g')" "$r" "$s" "$l" "$st" "$sm"
done >> "$tsv.tmp-$$"
mv "$tsv.tmp-$$" "$tsv"

# Instruction mix per kernel from the PTX for sm_80 and sm_90: tensor-core mma.sync, ldmatrix, cp.async and
# fp32 FMAs. (SASS counts, HMMA against FFMA, need cuobjdump, which this toolchain lacks; PTX mma.sync maps
# one to one onto HMMA.) A GEMM or attention kernel meant for tensor cores with no mma.sync fails below.
ops="$out/ptx-ops.tsv"
printf 'arch\tkernel\tmma_sync\tldmatrix\tcp_async\tfma_f32\n' > "$ops.tmp-$$"
for arch in 80 90; do
  for f in "$root"/kernels/cuda/*.cu; do
    ptx="$out/sm_$arch/$(basename "$f" .cu).ptx"
    "$NVCC" -std=c++17 -O3 -ptx -arch=sm_$arch "$f" -o "$ptx"
    awk -v arch="sm_$arch" '
      /^(\.visible )?\.entry / { name = $0; sub(/.*\.entry /, "", name); sub(/\(.*/, "", name); mma = ld = cp = fma = 0; inside = 1; next }
      inside && /mma\.sync/ { mma++ }
      inside && /ldmatrix/ { ld++ }
      inside && /cp\.async\.(ca|cg)/ { cp++ }
      inside && /fma\.rn\.f32/ { fma++ }
      inside && /^}/ { print arch "\t" name "\t" mma "\t" ld "\t" cp "\t" fma; inside = 0 }' "$ptx"
  done
done | while IFS="$(printf '\t')" read -r a k m l c f; do
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$a" "$(echo "$k" | c++filt | sed 's/(anonymous namespace):://g; s/^void //; s/(.*//; s/ftc:://g')" "$m" "$l" "$c" "$f"
done >> "$ops.tmp-$$"
mv "$ops.tmp-$$" "$ops"
no_tc=$(awk -F '\t' 'NR > 1 && ($2 ~ /bf16|Operands/) && $2 !~ /^stage_/ && $3 == 0 { print $1 " " $2 }' "$ops")
missing=""
for k in "gemm_tc_kernel<Bf16Operands>" "gemm_tc_kernel<Tf32Operands>" "gemm_tc_large_kernel<Bf16Operands>" \
         "gemm_tc_large_kernel<Tf32Operands>" attn_bf16_forward_kernel attn_bf16_backward_kernel; do
  grep -qF "$k" "$ops" || missing="$missing $k"
done
if [ -n "$no_tc" ] || [ -n "$missing" ]; then
  echo "cuda-check: tensor-core kernels without mma.sync (or missing): ${no_tc:-not found:$missing}" >&2
  exit 1
fi
# The pipelined kernels must compile to cp.async (a pipeline that fell back to plain loads would still be right).
no_cp=$(awk -F '\t' 'NR > 1 && ($2 ~ /gemm_tc_large_kernel|attn_bf16_forward_kernel/) && $5 == 0 { print $1 " " $2 }' "$ops")
if [ -n "$no_cp" ]; then
  echo "cuda-check: pipelined tensor-core kernels without cp.async: $no_cp" >&2
  exit 1
fi

kernels=$(($(wc -l < "$tsv") - 1))
[ "$kernels" -gt 0 ] || { echo "cuda-check: no kernels found in the ptxas output" >&2; exit 1; }
spills=$(awk -F '\t' 'NR > 1 && ($2 ~ /gemm|attn/) && ($4 > 0 || $5 > 0) { print $1 " " $2 ": " $4 " B spill stores, " $5 " B spill loads" }' "$tsv")
if [ -n "$spills" ]; then
  echo "cuda-check: register spills in GEMM/attention kernels:" >&2
  echo "$spills" >&2
  exit 1
fi
echo "cuda-check: $kernels kernel builds (sm_75, sm_80, sm_90) compiled with -Werror all-warnings; no GEMM/attention spills; table in $tsv; tensor-core kernels use mma.sync (instruction mix in $ops)"
