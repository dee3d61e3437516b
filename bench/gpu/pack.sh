#!/usr/bin/env bash
# Prepares .gpu/, the carry folder for running the benches on the lent GPU machine (no Node, no
# network there): Node itself, dawn.node, the project bundled into single files, the Vulkan loader.
#   bench/gpu/pack.sh            # then see bench/gpu/README.md for the device call
# Everything lands in .gpu/ (ignored through .git/info/exclude); the folder must stay < 64 MiB.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/.gpu
grep -qxF '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf "$out"
mkdir -p "$out/pkg/webgpu" "$out/debs"

# 1. the project: src/cli.ts -> rstar.mjs, bench/run.ts -> bench.mjs, bench/gpu/probe.ts -> probe.mjs
node bench/gpu/build.mjs "$out"

# 2. the webgpu package stays a real package (index.js finds dist/<platform>/dawn.node next to
#    itself); dawn.node travels compressed. run-on-device.sh turns pkg/ into node_modules/ beside the
#    bundles; pkg/ is not named node_modules so that `node .gpu/bench.mjs` here uses the repo's own.
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/pkg/webgpu/"
xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$out/dawn.node.xz"

# 3. tfjs-backend-wasm: backend.ts resolves the package to find its .wasm files (wasm reference runs)
w=node_modules/@tensorflow/tfjs-backend-wasm
main=$(node -p "require('./$w/package.json').main")
p=$out/pkg/${w#node_modules/}
mkdir -p "$p/$(dirname "$main")"
cp "$w/package.json" "$p/"
cp "$w/$main" "$p/$main"
cp "$w"/dist/*.wasm "$p/dist/"

# 4. the torch comparison bench/train.ts runs beside itself, and Node
cp bench/torch_gpt.py "$out/"
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$out/node.xz"

# 5. the Vulkan loader (the device image has the NVIDIA driver's ICD but no libvulkan.so.1), with
#    libglvnd (libGLX_nvidia, the ICD the driver names, needs libGLdispatch), with amd64 package lists of their own so this works from any host architecture
lists=/tmp/rstar-apt-amd64
mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
apt-get $o update -qq
(cd "$out/debs" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)

# the bundles travel compressed too: the repo's own tracked files count against the same 64 MiB
for f in "$out"/*.mjs; do xz -T0 -6 "$f"; done

cp bench/gpu/run-on-device.sh "$out/"
du -sh "$out"
# what travels: the tracked tree plus .gpu/
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
size=$(( ($(du -sb "$out" | cut -f1) + tracked) / 1048576 ))
[ "$size" -lt 63 ] || { echo "pack: .gpu + tracked files are ${size} MiB, over the 64 MiB a device call carries" >&2; exit 1; }
echo "travels: ${size} MiB (tracked files + .gpu)"
echo "packed $out"
