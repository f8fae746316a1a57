#!/bin/sh
# valgrind memcheck on the native classify path (tools/emx-classify.c): golden models x fixture
# images, whole image and a box half outside it, plus failing inputs (damaged model, bytes
# that are no image) whose error paths must free everything too. Any error or leak fails.
#   scripts/valgrind.sh            (builds build-valgrind/: -O1 -g, SIMD kernels on)
set -eu
cd "$(dirname "$0")/.."
BUILD="${VALGRIND_BUILD:-build-valgrind}"
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not found (apt-get install valgrind)" >&2; exit 2; }
nice -n 19 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-O1 -g" >/dev/null
nice -n 19 make -C "$BUILD" -j1 --no-print-directory emx-classify >/dev/null

VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
run() { # expected-exit-status args...
  want=$1; shift
  rc=0
  nice -n 19 $VG "$BUILD/emx-classify" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  if [ "$rc" -eq "$want" ]; then
    echo "ok    $*"
  else
    echo "FAIL  $* (exit $rc, expected $want)"; cat "$tmp/err"; status=1
  fi
}
for img in tests/fixtures/gray-4x4.png tests/fixtures/rgb-5x3.png tests/fixtures/rgba-3x2.png \
           tests/fixtures/gray-alpha-2x2.png tests/fixtures/gray-8x8.jpg; do
  run 0 tests/golden/vgg.emx "$img"
done
run 0 tests/golden/resnet_rgb.emx tests/fixtures/rgb-5x3.png
run 0 tests/golden/ensemble.emx tests/fixtures/gray-8x8.jpg
run 0 tests/golden/inception.emx tests/fixtures/gray-8x8.jpg -3 -2 6.5 9
# Error paths: a damaged model (one byte flipped: CRC mismatch), image bytes that do not
# decode, a box outside the image.
cp tests/golden/vgg.emx "$tmp/bad.emx"
printf '\377' | dd of="$tmp/bad.emx" bs=1 seek=100 conv=notrunc 2>/dev/null
run 1 "$tmp/bad.emx" tests/fixtures/gray-4x4.png
run 1 tests/golden/vgg.emx tests/golden/vgg.emx
run 1 tests/golden/vgg.emx tests/fixtures/gray-4x4.png 100 100 5 5
exit $status
