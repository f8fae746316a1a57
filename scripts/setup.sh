#!/bin/sh
# Install the build and test tools from Debian's packages (a fresh machine has none of them).
# Idempotent: packages already present are skipped, so CI and the README can always call it.
#   cmake, gcc          native build and ctest
#   gcc-multilib, lib32stdc++-12-dev  the 32-bit (-m32) ASan build of the C tests and the
#                       32-bit fuzz build (libFuzzer links libstdc++): a 32-bit size_t natively
#   emscripten, node-acorn  the WebAssembly build (Debian's emcc runs its tools on Node)
#   clang-19, lld-19, llvm-19  the relaxed-SIMD WebAssembly build, through the same emcc: its
#                       clang 14 predates the final relaxed-SIMD opcodes (CMakeLists.txt)
#   libstb-dev          stb_image_resize.h / stb_image.h (never vendored)
#   python3-numpy       golden-file checks of the exporter tests (PyTorch itself is optional)
#   clang, libclang-rt-14-dev  libFuzzer and sanitizers (scripts/fuzz.sh)
#   clang-format        the C style (.clang-format, scripts/format.sh)
#   valgrind            memcheck of the native classify path (scripts/valgrind.sh)
#   chromium            the live demo's browser tests (tests/browser/, driven by playwright-core)
# npm devDependencies (`npm ci`, below): playwright-core for the browser tests; vite, esbuild,
# webpack(-cli), typescript and @types/node to build the example apps (tests/examples/); TF.js
# WASM, onnxruntime-web and face-api.js for the comparison benchmarks. The package itself has
# no runtime dependencies.
# Training additionally needs python3-torch: `scripts/setup.sh --training`, with
# libopenblas0-pthread: Debian's torch and numpy link the generic libblas.so.3, and with nothing
# else installed that is netlib's reference BLAS, whose matrix products run about 20x slower
# than OpenBLAS's here (the convolutions go through oneDNN either way) (training/test_blas.py).
set -eu
PKGS="cmake gcc gcc-multilib lib32stdc++-12-dev make clang-format emscripten node-acorn clang-19 lld-19 llvm-19 libstb-dev python3-numpy python3-pil nodejs npm clang libclang-rt-14-dev valgrind chromium"
[ "${1:-}" = "--training" ] && PKGS="$PKGS python3-torch libopenblas0-pthread python3-matplotlib"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node and npm may come from outside Debian (as on the CI image): accept any node >= 18.
if command -v node >/dev/null 2>&1; then
  missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
fi
missing=$(echo $missing)
if [ -n "$missing" ]; then
  echo "setup: installing $missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
# npm devDependencies, reinstalled whenever package-lock.json is newer than what node_modules
# holds (playwright-core drives Debian's chromium; it downloads no browser).
ROOT_DIR="$(cd "$(dirname "$0")/.." && pwd)"
INSTALLED="$ROOT_DIR/node_modules/.package-lock.json"
if [ ! -f "$INSTALLED" ] || [ "$ROOT_DIR/package-lock.json" -nt "$INSTALLED" ]; then
  echo "setup: npm ci (devDependencies)"
  (cd "$ROOT_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: tools ready (cmake $(cmake --version | head -1 | cut -d' ' -f3), node $(node --version))"
