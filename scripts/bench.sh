#!/bin/sh
# `npm run bench`: the project's speed figures, on this machine, in one run (build first with
# `npm run build`). Single thread everywhere; every benchmark warms up before timing.
set -eu
cd "$(dirname "$0")/.."
echo "# EmoXNet benchmarks: $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, node $(node --version)"
# Node 20 runs the relaxed-SIMD build only under this flag (later versions ship relaxed SIMD)
RELAXED=""
if node --experimental-wasm-relaxed-simd -e 0 2>/dev/null; then RELAXED="--experimental-wasm-relaxed-simd"; fi
echo
echo "## Expression models, per face (JS API, includes preprocessing): relaxed SIMD, SIMD128, scalar"
node --no-experimental-fetch $RELAXED tests/bench/classify.bench.js
echo
echo "## Per face (issue 20): Lite one pass and with flip TTA, the ensemble, detect, detect + classify"
# EMX_BENCH_BASELINE=DIR (a folder with an older build's emoxnet-simd.wasm) adds it side by side,
# the builds taking turns call by call, with wall and CPU speed-ups.
node --no-experimental-fetch tests/bench/perface-ab.bench.js ${EMX_BENCH_BASELINE:+--baseline "$EMX_BENCH_BASELINE"}
if [ -n "${EMX_BENCH_OTHER:-}" ]; then
  echo
  echo "## This checkout against another (its own JS, wasm and models), e.g. the tree issue 20 was filed on"
  # EMX_BENCH_OTHER=DIR: a checkout with its wasm built (tests/bench/checkout-ab.bench.js says how)
  node --no-experimental-fetch $RELAXED tests/bench/checkout-ab.bench.js --other "$EMX_BENCH_OTHER"
fi
echo
echo "## Engines: the same network and weights in our WASM core, TF.js wasm (XNNPACK), onnxruntime-web"
# The networks come from the shipped .emx files themselves (tests/bench/networks.js), converted
# to ONNX and TF.js in JS (to-onnx.js, to-tfjs.js): no Python, no checkpoints.
# EMX_BENCH_FLAGS=--skip-accuracy skips face-api's FER+ Valid pass (about a minute)
node --no-experimental-fetch tests/bench/engines.bench.js ${EMX_BENCH_FLAGS:-} 2>&1 | grep -v 'Unknown CPU vendor'
echo
echo "## Conv/GEMM micro-kernels, native (SSE2)"
build/bench-kernels
echo
echo "## Conv/GEMM micro-kernels, WebAssembly SIMD128 (V8, optimised tier)"
node --no-experimental-fetch build-wasm/bench-kernels.cjs
echo
echo "## Conv/GEMM micro-kernels, WebAssembly relaxed SIMD (f32x4.relaxed_madd: fused multiply-add)"
node --no-experimental-fetch $RELAXED build-wasm/bench-kernels-relaxed.cjs
echo
echo "## Where the time goes: every op of EmoXNetLite and of the BlazeFace detector (WebAssembly SIMD128)"
node --no-experimental-fetch build-wasm/bench-ops.cjs models/emoxnet-lite.emx
node --no-experimental-fetch build-wasm/bench-ops.cjs models/blazeface.emx
echo
echo "## Detect + classify, 640x480 frame: one face, then frames with 1, 4, 16 faces"
node --no-experimental-fetch tests/bench/detect.bench.js --faces 1,4,16
echo
echo "## In a real browser: Node vs Debian's Chromium (headless; then CPU throttled 4x, a mid-range phone), relaxed SIMD vs SIMD128"
# not under --no-experimental-fetch: playwright-core needs fetch's globals
node $RELAXED tests/bench/browser.bench.js --throttle 4
echo
echo "## The live page (web/) in Chromium: analysed frames per second, one-face 640x480 camera, CPU throttled 1x and 4x"
node tests/bench/page-fps.bench.js --throttle 1,4
