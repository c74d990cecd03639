#!/bin/sh
# The prepared GPU check: everything this project can learn from one short stay on a machine with an NVIDIA
# GPU, nvcc, python3 with a CUDA build of PyTorch and compute-sanitizer, and no node and no network. Stages,
# each under its own timeout (the whole run at most 8 minutes), none stopping the others, logs under $OUT,
# and a summary table last (also $OUT/summary.tsv):
#   probe      the GPU (nvidia-smi, torch.cuda), its compute capability → the architecture built for
#   build      kernels/cuda/*.cu with tools/gpu/capi.cu into libftc.so (ctypes entry points) and the
#              tools/gpu/smoke.cu program, for that one architecture, objects compiled in parallel
#   sass       SASS instruction counts per kernel (tools/gpu/sass_counts.py over cuobjdump -sass): HMMA and
#              HGMMA against FFMA, $OUT/sass.tsv; fails when a tensor-core kernel has no HMMA
#   ops        every kernel family against float64 PyTorch on the GPU (tools/gpu/check_ops.py: the odd
#              shapes and the 19m/1b layer shapes, fp32 and bf16 tensor-core GEMMs)
#   steps      one HR training step of the tiny and the 19m model on the GPU through the engine (node, dist/,
#              the real addon: scripts/gpu-bundle.sh prepares them) against the float64 PyTorch model
#   memcheck, racecheck, synccheck, initcheck
#              compute-sanitizer on the smoke program (every kernel family once, small shapes)
#   bench      GEMM against torch.matmul FP32/TF32/BF16 and attention against SDPA (tools/gpu/bench.py)
# Usage: OUT=/path scripts/gpu-check.sh   (default OUT: ./gpu-check-out). Exit status 1 when a stage failed.
# The same Python drivers and smoke program are tested here on the emulated kernels (test/cuda/gpu-check.test.ts).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$PWD/gpu-check-out}
PY=${PYTHON:-python3}
NVCC=${NVCC:-nvcc}
SANITIZER=${SANITIZER:-compute-sanitizer}
BUDGET=${GPU_CHECK_BUDGET:-470}  # seconds for all stages together
mkdir -p "$OUT/build"
summary="$OUT/summary.tsv"
printf 'stage\tstatus\tseconds\tlog\n' > "$summary"
began=$(date +%s)
failed=0

# stage NAME LIMIT CMD...: runs CMD with its output in $OUT/NAME.log, for at most LIMIT seconds (less when
# the overall budget is nearly spent), and records pass / fail (exit status) / timeout.
stage() {
  name=$1 limit=$2
  shift 2
  left=$((BUDGET - ($(date +%s) - began)))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -le 5 ]; then
    printf '%s\tskipped (the 8-minute budget is spent)\t0\t-\n' "$name" >> "$summary"
    return
  fi
  t0=$(date +%s)
  timeout --kill-after=5 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - t0))
  if [ $rc -eq 0 ]; then status=pass
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status="timeout after ${limit} s"; failed=1
  else status="fail (exit $rc)"; failed=1
  fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$secs" "$OUT/$name.log" >> "$summary"
}

skip() {
  printf '%s\tskipped (%s)\t0\t-\n' "$1" "$2" >> "$summary"
}

stage probe 30 env NVCC="$NVCC" PY="$PY" sh -c '
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv
  "$NVCC" --version | tail -2
  "$PY" -c "import torch; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda); assert torch.cuda.is_available(), \"torch.cuda is not available\"; print(torch.cuda.get_device_name(0), torch.cuda.get_device_capability(0))"'
gpu=0
grep -q '^probe	pass' "$summary" && gpu=1

# The architecture: the GPU's own compute capability (e.g. 9.0 → sm_90), else ARCH, else 90.
arch=${ARCH:-}
if [ -z "$arch" ] && [ $gpu -eq 1 ]; then
  arch=$("$PY" -c 'import torch; a, b = torch.cuda.get_device_capability(0); print(f"{a}{b}")' 2>/dev/null)
fi
arch=${arch:-90}

# Every .cu compiled at once (the lent machine has 16 cores), then one shared library and one program.
stage build 150 env root="$root" NVCC="$NVCC" arch="$arch" B="$OUT/build" sh -c '
  set -e
  cd "$B"
  pids=""
  for f in "$root"/kernels/cuda/*.cu "$root/tools/gpu/capi.cu" "$root/tools/gpu/smoke.cu"; do
    "$NVCC" -std=c++17 -O3 -lineinfo -arch=sm_$arch -Xcompiler -fPIC -c "$f" -o "$(basename "$f").o" &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p"; done
  objs=$(ls ./*.cu.o | grep -v smoke.cu.o)
  "$NVCC" -arch=sm_$arch -shared $objs -o libftc.so
  "$NVCC" -arch=sm_$arch $objs smoke.cu.o -o smoke
  echo "built libftc.so and smoke for sm_$arch"'
built=0
grep -q '^build	pass' "$summary" && built=1

# What the GPU runs: SASS instruction counts per kernel (HMMA/HGMMA against FFMA) from cuobjdump, which comes
# with the CUDA toolkit but not with the nvcc package CI installs; fails if a tensor-core kernel has no HMMA.
CUOBJDUMP=${CUOBJDUMP:-$(command -v cuobjdump 2>/dev/null || echo "$(dirname "$(command -v "$NVCC" 2>/dev/null || echo .)")/cuobjdump")}
if [ $built -eq 1 ] && [ -x "$CUOBJDUMP" ]; then
  # The listing goes to a file first: a cuobjdump that fails half-way then fails the stage (no pipefail in sh).
  stage sass 30 sh -c '"$1" -sass "$2" > "$5.listing" && "$3" "$4" --sass "$5.listing" --out "$5"' sh "$CUOBJDUMP" \
    "$OUT/build/libftc.so" "$PY" "$root/tools/gpu/sass_counts.py" "$OUT/sass.tsv"
else
  skip sass "needs the build and cuobjdump"
fi

if [ $gpu -eq 1 ] && [ $built -eq 1 ]; then
  stage ops 100 "$PY" "$root/tools/gpu/check_ops.py" --lib "$OUT/build/libftc.so" --device cuda --out "$OUT"
else
  skip ops "needs the GPU and the build"
fi

# A training step runs in the TypeScript engine: node (on PATH, $NODE, or gpu-bundle/node.xz from
# scripts/gpu-bundle.sh), dist/ and the real addon (build-cuda/Release). One HR step of the tiny and the 19m
# model is traced on the GPU (src/trace/trace-main.ts) and checked against the float64 PyTorch model
# (tools/pytorch/check_trace.py: outputs, loss and every gradient). GPU_CHECK_STEP_BACKEND=cuda-emu and
# GPU_CHECK_STEP_SIZES=tiny run the same stage on the emulator, without a GPU (test/cuda/gpu-check.test.ts).
step_backend=${GPU_CHECK_STEP_BACKEND:-cuda}
step_sizes=${GPU_CHECK_STEP_SIZES:-tiny 19m}
node_bin=${NODE:-}
[ -z "$node_bin" ] && command -v node >/dev/null 2>&1 && node_bin=$(command -v node)
if [ -z "$node_bin" ] && [ -f "$root/gpu-bundle/node.xz" ] && xz -dc "$root/gpu-bundle/node.xz" > "$OUT/node" 2>/dev/null; then
  chmod +x "$OUT/node" && node_bin="$OUT/node"
fi
if [ -z "$node_bin" ]; then
  skip steps "no node (put it on PATH, set NODE, or carry gpu-bundle/ from scripts/gpu-bundle.sh)"
elif [ ! -f "$root/dist/src/trace/trace-main.js" ]; then
  skip steps "no dist/ (npm run build)"
elif [ "$step_backend" = cuda ] && { [ $gpu -eq 0 ] || [ ! -f "$root/build-cuda/Release/fairtune_cuda.node" ]; }; then
  skip steps "needs the GPU and the real addon (npm run build:cuda)"
else
  # tiny: B=3 T=10 (the traces' own test shape); 19m: B=4 T=30 (the fine-tuning window, every layer).
  stage steps 90 env node_bin="$node_bin" root="$root" O="$OUT" PY="$PY" be="$step_backend" sizes="$step_sizes" sh -c '
    set -e
    files=""
    for size in $sizes; do
      if [ "$size" = tiny ]; then shape="5 3 10"; else shape="5 4 30"; fi
      "$node_bin" "$root/dist/src/trace/trace-main.js" "$size" "$be" $shape "$O/trace-$size.safetensors"
      files="$files $O/trace-$size.safetensors"
    done
    "$PY" "$root/tools/pytorch/check_trace.py" $files'
fi

for tool in memcheck racecheck synccheck initcheck; do
  if [ $gpu -eq 1 ] && [ $built -eq 1 ] && command -v "$SANITIZER" >/dev/null 2>&1; then
    stage "$tool" 40 "$SANITIZER" --tool "$tool" --error-exitcode 3 "$OUT/build/smoke"
  else
    skip "$tool" "needs the GPU, the build and compute-sanitizer"
  fi
done

if [ $gpu -eq 1 ] && [ $built -eq 1 ]; then
  stage bench 110 "$PY" "$root/tools/gpu/bench.py" --lib "$OUT/build/libftc.so" --device cuda --out "$OUT"
else
  skip bench "needs the GPU and the build"
fi

echo "gpu-check: sm_$arch, $(($(date +%s) - began)) s, logs in $OUT"
column -t -s "$(printf '\t')" "$summary" 2>/dev/null || cat "$summary"
[ -f "$OUT/ops.log" ] && tail -1 "$OUT/ops.log"
[ -f "$OUT/bench.log" ] && grep -E '^(gemm|attention) ' "$OUT/bench.log"
exit $failed
