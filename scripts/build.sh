#!/bin/sh
# Build everything: the native library, tests and tools (build/), then the three WebAssembly
# modules (wasm/dist/emoxnet-relaxed.wasm, emoxnet-simd.wasm, emoxnet-scalar.wasm) through
# Emscripten; the relaxed-SIMD one through Debian's clang-19 (CMakeLists.txt says why).
# Debian's emscripten runs its tools on Node and needs NODE_PATH for its JS dependencies.
set -eu
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
make -C build -j"$JOBS"

export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release
make -C build-wasm -j"$JOBS"
ls -l wasm/dist/emoxnet-relaxed.wasm wasm/dist/emoxnet-simd.wasm wasm/dist/emoxnet-scalar.wasm
