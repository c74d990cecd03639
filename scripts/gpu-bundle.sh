#!/bin/sh
# Prepares what scripts/gpu-check.sh's `steps` stage needs on a GPU machine that has no node and no network:
# a compressed node binary (gpu-bundle/node.xz), next to the paths the device tool carries from this checkout:
#   dist/                         the compiled engine (npm run build)
#   build-cuda/Release/           the real CUDA addon (npm run build:cuda; sm_75/80/90, static cudart)
#   node_modules/zod, node_modules/pure-rand
#                                 the only packages the trace path loads (src/trace/trace-main.ts)
# and checks that they fit the 64 MiB the device tool carries. Prints the carry list.
# Usage: scripts/gpu-bundle.sh   (after npm run build and npm run build:cuda)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LIMIT=$((64 * 1024 * 1024))
for need in dist/src/trace/trace-main.js build-cuda/Release/fairtune_cuda.node node_modules/zod node_modules/pure-rand; do
  [ -e "$need" ] || { echo "gpu-bundle: $need is missing (npm run build, npm run build:cuda)" >&2; exit 2; }
done
node_bin=$(command -v node)
mkdir -p gpu-bundle
# Re-compressed only when the node binary changed (xz -9 of the 99 MB binary takes a minute on two cores).
if [ ! -f gpu-bundle/node.xz ] || [ "$node_bin" -nt gpu-bundle/node.xz ]; then
  xz -T0 -9 -c "$node_bin" > gpu-bundle/node.xz.tmp-$$
  mv gpu-bundle/node.xz.tmp-$$ gpu-bundle/node.xz
fi
paths="dist build-cuda/Release node_modules/zod node_modules/pure-rand gpu-bundle"
bytes=$(du -sb $paths | awk '{ s += $1 } END { print s }')
echo "gpu-bundle: $(node --version) compressed to $(du -h gpu-bundle/node.xz | cut -f1); carry $paths: $((bytes / 1048576)) MiB of 64"
if [ "$bytes" -gt "$LIMIT" ]; then
  echo "gpu-bundle: the carried paths take $bytes bytes, more than the device tool carries ($LIMIT)" >&2
  exit 1
fi
