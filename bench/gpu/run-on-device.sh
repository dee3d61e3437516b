#!/usr/bin/env bash
# Runs on the lent GPU machine, from the repository root, with .gpu/ carried (bench/gpu/pack.sh).
#   bash .gpu/run-on-device.sh [CONFIGS] [extra probe flags]     CONFIGS: e.g. S,M,L (default S,M,L)
# Unpacks Node and dawn.node into /tmp, installs the Vulkan loader, then runs the adapter/matmul/
# dispatch probe and the training bench on the hardware adapter (RSTAR_WEBGPU=hardware: never the
# software renderer). Output is mirrored to $OUT/gpu.log when $OUT is set.
# RSTAR_GPU_DRYRUN=1 (for checking the recipe on a machine without a GPU): installs nothing into /,
# lets the software renderer in, and runs a short version.
set -uo pipefail
cd "$(dirname "$0")/.."
configs=${1:-S,M,L}
shift || true
log=${OUT:-/tmp}/gpu.log
exec > >(tee -a "$log") 2>&1  # -a: several invocations in one call share one log
echo "=== run-on-device.sh $configs $* ($(date -u +%FT%TZ))"

dry=${RSTAR_GPU_DRYRUN:-0}
if [ "$dry" != 1 ]; then
  for f in .gpu/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl

unxz() { if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())' "$1"; fi; }
run=/tmp/rstar-gpu
rm -rf "$run"
mkdir -p "$run"
cp -r .gpu/pkg "$run/node_modules"
mkdir -p "$run/node_modules/webgpu/dist/linux-x64"
for f in .gpu/*.mjs.xz; do b=$(basename "$f" .xz); unxz "$f" > "$run/$b"; done
cp .gpu/torch_gpt.py "$run/"
unxz .gpu/node.xz > "$run/node" && chmod +x "$run/node"
unxz .gpu/dawn.node.xz > "$run/node_modules/webgpu/dist/linux-x64/dawn.node"
node=$run/node
echo "node $($node --version); $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null); libvulkan: $(ldconfig -p | grep -c libvulkan.so.1)"

steps=10 sizes=1024,2048,4096
if [ "$dry" = 1 ]; then steps=1 sizes=256; else export RSTAR_WEBGPU=hardware; fi
status=0
# RSTAR_GPU_CMD: run this instead of the standard benches, after the setup above ($node, $run set)
if [ -n "${RSTAR_GPU_CMD:-}" ]; then eval "$RSTAR_GPU_CMD"; exit $?; fi
# adapter, matmul TFLOP/s, per-step kernels/dispatches/submits/reads, GPU time per WGSL program,
# decode at 16 and 64 rows (fused AdamW: what optim.ts runs on webgpu)
# (timestamp queries are an "unsafe API" to Dawn: allowed for the probe alone)
RSTAR_DAWN_FLAGS="${RSTAR_DAWN_FLAGS:-} enable-dawn-features=allow_unsafe_apis" \
  $node "$run/probe.mjs" --config "$configs" --steps $steps --matmul $sizes --fused --rows 16,64 "$@" || status=1
# the project's training bench, with PyTorch fp32 on CUDA measured in the same run (ratio)
for c in ${configs//,/ }; do
  $node "$run/bench.mjs" train --backend webgpu --config "$c" --steps $steps --warmup 1 || status=1
done
# PyTorch's KV-cached greedy decode at 64 rows, the peer of the probe's decode figure
if [ "$dry" != 1 ]; then
  for c in ${configs//,/ }; do
    python3 "$run/torch_gpt.py" --mode decode --config "$c" --batch 64 --new-tokens 64 --device cuda || status=1
  done
fi
exit $status
