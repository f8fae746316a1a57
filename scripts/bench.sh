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
echo "## Engines: the same network and weights in our WASM core, TF.js wasm (XNNPACK), onnxruntime-web"
# build/bench/: the comparison networks as .emx / .onnx / TF.js weights, from one fused fp16 model
# (rebuilt when the shipped models' runs, training/shipped.py, or the exporter change)
LITE_CK=$("${PYTHON:-/usr/bin/python3}" training/shipped.py lite)
ENS_JSON=$("${PYTHON:-/usr/bin/python3}" training/shipped.py ensemble)
if [ ! -f build/bench/large.onnx ] || [ "$LITE_CK" -nt build/bench/lite.onnx ] || \
   [ training/export_onnx.py -nt build/bench/lite.onnx ] || [ training/shipped.py -nt build/bench/lite.onnx ] || \
   [ "$ENS_JSON" -nt build/bench/lite.onnx ]; then
  "${PYTHON:-/usr/bin/python3}" training/export_onnx.py --out build/bench 2>&1 | grep -v -i warn
fi
# EMX_BENCH_FLAGS=--skip-accuracy skips face-api's FER+ Valid pass (about a minute)
node --no-experimental-fetch tests/bench/engines.bench.js ${EMX_BENCH_FLAGS:-} 2>&1 | grep -v 'Unknown CPU vendor'
echo
echo "## Conv/GEMM micro-kernels, native (SSE2)"
build/bench-kernels
echo
echo "## Conv/GEMM micro-kernels, WebAssembly SIMD128 (V8, optimised tier)"
node --no-experimental-fetch build-wasm/bench-kernels.cjs
echo
echo "## Detect + classify, 640x480 frame: one face, then frames with 1, 4, 16 faces"
node --no-experimental-fetch tests/bench/detect.bench.js --faces 1,4,16
