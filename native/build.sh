#!/usr/bin/env bash
# Builds the optional OpenBLAS matmul addon (build/Release/rstar_blas.node) with the node-gyp
# that ships inside npm (npx node-gyp would try to download it) against the running Node's
# headers. Needs: libopenblas-dev (cblas.h, libopenblas.so), a C compiler, make, python3.
# Without it the wasm kernels are used; src/model/backends/blas.ts explains the switches.
set -euo pipefail
cd "$(dirname "$0")"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
node "$npm_dir/node_modules/node-gyp/bin/node-gyp.js" rebuild --nodedir="$node_prefix" "$@"
