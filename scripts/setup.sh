#!/usr/bin/env bash
# Fresh-machine setup: Debian packages the tools and tests use, then the npm dependencies.
#   sentencepiece      spm_train/spm_encode: `rstar tokenizer` retrains, a test checks ids against spm_encode
#   libegl1 … mesa-dri WebGPU (Dawn) on Mesa's software renderer when there is no GPU
#   libopenblas-dev    the OpenBLAS matmul addon (native/): 2.4-2.8x faster training than wasm alone
#   redis-server       distributed search (BullMQ on Redis): the queue tests start a real server
#   chromium           the report and the browser solve page are tested in it (puppeteer-core, no download)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
want=(sentencepiece libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri libopenblas-dev redis-server chromium)
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
npm ci --no-audit --no-fund
# nodejs-polars (the Arrow interop test reads our files with it) is installed outside the lock file:
# its optional platform packages break `npm ci`'s lock check, and its metadata says Node >= 22 (it runs on 20)
npm install --no-save --no-audit --no-fund --force nodejs-polars@0.26.1 nodejs-polars-linux-x64-gnu@0.26.1 >/dev/null
# the addon is optional at run time (wasm kernels otherwise); a failed build is reported, not fatal
bash native/build.sh >/tmp/rstar-native-build.log 2>&1 || echo "note: native BLAS addon did not build (see /tmp/rstar-native-build.log); using wasm kernels"
