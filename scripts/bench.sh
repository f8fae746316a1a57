#!/bin/sh
# `npm run bench`: the project's speed figures, on this machine, in one run (build first with
# `npm run build`). Single thread everywhere; every benchmark warms up before timing.
set -eu
cd "$(dirname "$0")/.."
echo "# EmoXNet benchmarks: $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, node $(node --version)"
echo
echo "## Expression models, per face (JS API, includes preprocessing)"
node --no-experimental-fetch tests/bench/classify.bench.js
echo
echo "## Conv/GEMM micro-kernels, native (SSE2)"
build/bench-kernels
echo
echo "## Conv/GEMM micro-kernels, WebAssembly SIMD128 (V8, optimised tier)"
node --no-experimental-fetch build-wasm/bench-kernels.cjs
echo
echo "## Detect + classify, 640x480 frame, one face"
node --no-experimental-fetch tests/bench/detect.bench.js
