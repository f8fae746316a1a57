#!/bin/sh
# Build, then run every test: C tests natively, under ASan+UBSan (clang), in both WebAssembly builds
# (Node) and in a 32-bit -m32 ASan build (ctest), the exporter's
# Python tests (golden files; PyTorch tests skip without torch), the Node tests of the
# WebAssembly build, the live demo (web/) in headless Chromium, the example apps of
# examples/ built from the npm pack tarball, and a smoke run of the benchmarks (tests/bench/).
# `npm test` and .ci/run call this.
set -eu
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"

sh scripts/build.sh

status=0
echo "== C style (.clang-format)"
sh scripts/format.sh --check || status=1

echo "== C tests (native, SIMD)"
ctest --test-dir build --output-on-failure || status=1

echo "== C tests (clang, ASan + UBSan)"
# clang here and gcc in the -m32 build below: the two compilers' sanitizers differ. clang's UBSan
# reports a pointer formed with a wrapped (size_t) offset, which gcc's takes for a negative one
# (a depthwise row with no interior, found by the 32-bit fuzzer), and clang's -O0 told apart
# bytes that gcc's left equal (emx_face fields emx_detect did not write).
CC=clang cmake -S . -B build-asan-clang -DCMAKE_BUILD_TYPE=Debug -DEMX_SANITIZE=ON >/dev/null
make -C build-asan-clang -j"$JOBS" >/dev/null
ctest --test-dir build-asan-clang --output-on-failure || status=1

echo "== C tests (WebAssembly: relaxed-SIMD, SIMD128 and scalar cores, under Node)"
# Built by scripts/build.sh in build-wasm/: the same tests/test-*.c, so each kernel meets the
# reference oracle in all four builds, and the 32-bit size arithmetic is exercised (wasm32).
# The relaxed ones run under node --experimental-wasm-relaxed-simd (Node 20 needs the flag).
ctest --test-dir build-wasm -j"$JOBS" --output-on-failure || status=1

echo "== C tests (32-bit native, -m32, ASan + UBSan)"
# A 32-bit size_t natively, under AddressSanitizer: where wrapped size products overflow.
# SSE maths as on x86-64: x87 excess precision would change results the tests pin exactly.
CFLAGS="-m32 -msse2 -mfpmath=sse" cmake -S . -B build-m32 -DCMAKE_BUILD_TYPE=Debug -DEMX_SANITIZE=ON >/dev/null
make -C build-m32 -j"$JOBS" >/dev/null
# test-detect and test-golden take minutes at -O0 under ASan on i386; they run natively and
# on wasm32 above, so the 32-bit size_t is covered for them there.
ctest --test-dir build-m32 -E 'test-(detect|golden)$' --output-on-failure || status=1

echo "== mutation check: known bugs applied one at a time must fail their tests (~2 min)"
sh scripts/mutate.sh || status=1

echo "== exporter tests (Python)"
/usr/bin/python3 -m unittest discover -s training -p 'test_*.py' || status=1

echo "== Node tests (WebAssembly)"
node --test tests/js/ || status=1

echo "== browser tests (live demo in headless Chromium)"
node --test tests/browser/ || status=1

echo "== example apps (Vite, esbuild, webpack, plain page, Node, TypeScript) from the packed tarball"
node --test tests/examples/ || status=1

echo "== benchmarks: converters checked, then a few iterations of each (timings not asserted)"
node --test tests/bench/ || status=1

echo "== fuzzing: libFuzzer, 60 s per target (load, decode, classify)"
sh scripts/fuzz.sh "${FUZZ_SECONDS:-60}" || status=1
echo "== fuzzing, 32-bit (-m32) build: 20 s per target"
FUZZ_M32=1 sh scripts/fuzz.sh "${FUZZ_M32_SECONDS:-20}" || status=1

echo "== valgrind memcheck: native classify tool"
sh scripts/valgrind.sh || status=1

echo "== soak: 100k classify, 10k analyze, 1k load/dispose through WASM"
node --expose-gc tests/soak/soak.mjs || status=1
exit $status
