#!/bin/sh
# Build, then run every test: C tests natively, under ASan+UBSan (clang), in both WebAssembly builds
# (Node) and in a 32-bit -m32 ASan build (ctest), the exporter's
# Python tests (golden files; PyTorch tests skip without torch), the Node tests of the
# WebAssembly build, the live demo (web/) in headless Chromium, the example apps of
# examples/ built from the npm pack tarball, and a smoke run of the benchmarks (tests/bench/).
# `npm test` and .ci/run call this.
# Every stage runs under a time limit, several times its usual time here, and prints its time
# (scripts/stage.sh): a hang fails its stage instead of the whole CI.
set -eu
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
export JOBS
. scripts/stage.sh

t0=$(date +%s)
sh scripts/build.sh
echo "-- build: $(( $(date +%s) - t0 )) s"

status=0
stage "C style (.clang-format)" 300 sh scripts/format.sh --check

stage "C tests (native, SIMD)" 900 ctest --test-dir build --output-on-failure

# clang here and gcc in the -m32 build below: the two compilers' sanitizers differ. clang's UBSan
# reports a pointer formed with a wrapped (size_t) offset, which gcc's takes for a negative one
# (a depthwise row with no interior, found by the 32-bit fuzzer), and clang's -O0 told apart
# bytes that gcc's left equal (emx_face fields emx_detect did not write).
stage "C tests (clang, ASan + UBSan)" 1200 sh -c '
  CC=clang cmake -S . -B build-asan-clang -DCMAKE_BUILD_TYPE=Debug -DEMX_SANITIZE=ON >/dev/null &&
  make -C build-asan-clang -j"$JOBS" >/dev/null &&
  ctest --test-dir build-asan-clang --output-on-failure'

# Built by scripts/build.sh in build-wasm/: the same tests/test-*.c, so each kernel meets the
# reference oracle in all four builds, and the 32-bit size arithmetic is exercised (wasm32).
# The relaxed ones run under node --experimental-wasm-relaxed-simd (Node 20 needs the flag).
stage "C tests (WebAssembly: relaxed-SIMD, SIMD128 and scalar cores, under Node)" 1200 \
  ctest --test-dir build-wasm -j"$JOBS" --output-on-failure

# A 32-bit size_t natively, under AddressSanitizer: where wrapped size products overflow.
# SSE maths as on x86-64: x87 excess precision would change results the tests pin exactly.
# test-detect and test-golden take minutes at -O0 under ASan on i386; they run natively and
# on wasm32 above, so the 32-bit size_t is covered for them there.
stage "C tests (32-bit native, -m32, ASan + UBSan)" 1200 sh -c '
  CFLAGS="-m32 -msse2 -mfpmath=sse" cmake -S . -B build-m32 -DCMAKE_BUILD_TYPE=Debug -DEMX_SANITIZE=ON >/dev/null &&
  make -C build-m32 -j"$JOBS" >/dev/null &&
  ctest --test-dir build-m32 -E "test-(detect|golden)\$" --output-on-failure'

# mutate.sh restores the source tree on any exit, TERM from the time limit included.
stage "mutation check: known bugs applied one at a time must fail their tests" 1500 sh scripts/mutate.sh

stage "exporter tests (Python)" 900 /usr/bin/python3 -m unittest discover -s training -p 'test_*.py'

stage "Node tests (WebAssembly)" 1200 $NODE_TEST tests/js/

stage "browser tests (live demo in headless Chromium)" 900 $NODE_TEST tests/browser/

stage "example apps (Vite, esbuild, webpack, plain page, Node, TypeScript) from the packed tarball" 900 \
  $NODE_TEST tests/examples/

stage "benchmarks: converters checked, then a few iterations of each (timings not asserted)" 900 \
  $NODE_TEST tests/bench/

stage "fuzzing: libFuzzer, ${FUZZ_SECONDS:-60} s per target (load, decode, classify)" 1200 \
  sh scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
stage "fuzzing, 32-bit (-m32) build: ${FUZZ_M32_SECONDS:-20} s per target" 900 \
  env FUZZ_M32=1 sh scripts/fuzz.sh "${FUZZ_M32_SECONDS:-20}"

stage "valgrind memcheck: native classify tool" 900 sh scripts/valgrind.sh

stage "soak: 100k classify, 10k analyze, 1k load/dispose through WASM" 900 node --expose-gc tests/soak/soak.mjs

echo "-- all stages: $(( $(date +%s) - t0 )) s, status $status"
exit $status
