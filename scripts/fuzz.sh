#!/bin/sh
# Fuzz the native core with libFuzzer (clang, ASan + UBSan): each target of tests/fuzz/ runs for
# SECONDS (default 60), one after the other, from its seed corpus tests/fuzz/corpus-<target>/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      TARGET: load, decode, classify (default: all)
# New interesting inputs go to build-fuzz/corpus-<target>/ (not the repository); a crash is
# written to build-fuzz/crash-<target>-*, the script stops and exits 1. To keep one as a
# regression test, fix the bug and copy the file to tests/fuzz/regress/<target>-<name>
# (tests/test-fuzz-regress.c replays that folder in every ctest run).
# Runs niced (the machine is shared); FUZZ_JOBS is not used: one target at a time.
# FUZZ_M32=1: a 32-bit (i386) build in build-fuzz-m32/, where size_t is 32 bits as in wasm32:
# wrapped size products are heap overflows there, which AddressSanitizer reports.
set -eu
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-60}"
[ $# -gt 0 ] && shift
TARGETS="${*:-load decode classify}"
BUILD="${FUZZ_BUILD:-build-fuzz}"
FLAGS=""
if [ "${FUZZ_M32:-0}" = 1 ]; then
  BUILD="${FUZZ_BUILD:-build-fuzz-m32}"
  FLAGS="-m32 -msse2 -mfpmath=sse"
fi

CC="${CC:-clang}"
command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found (scripts/setup.sh installs clang)" >&2; exit 2; }
CC="$CC" CFLAGS="$FLAGS" LDFLAGS="$FLAGS" nice -n 19 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMX_FUZZ=ON >/dev/null
for t in $TARGETS; do nice -n 19 make -C "$BUILD" -j1 --no-print-directory "fuzz-$t" >/dev/null; done

# max_len: the largest golden model is 27 KB; decode and classify inputs need far less.
max_len() {
  case "$1" in load) echo 32768 ;; decode) echo 8192 ;; classify) echo 4096 ;; esac
}
# Huge allocations return NULL (the core must answer EMX_ERR_NO_MEMORY), as malloc does in
# WebAssembly when the 2 GiB heap is full; a leak or any sanitizer report is a failure.
export ASAN_OPTIONS="allocator_may_return_null=1:max_allocation_size_mb=2048:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

status=0
printf '%-10s %12s %8s %s\n' target executions seconds result
for t in $TARGETS; do
  work="$BUILD/corpus-$t"
  mkdir -p "$work"
  log="$BUILD/fuzz-$t.log"
  rc=0
  t0=$(date +%s)
  nice -n 19 "$BUILD/fuzz-$t" "$work" "tests/fuzz/corpus-$t" \
    -max_total_time="$SECONDS_PER_TARGET" -max_len="$(max_len "$t")" -timeout=20 \
    -rss_limit_mb=3072 -malloc_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$BUILD/crash-$t-" >"$log" 2>&1 || rc=$?
  elapsed=$(( $(date +%s) - t0 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#')
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    result="FAILED (rc $rc): see $log"
    status=1
  fi
  printf '%-10s %12s %8s %s\n' "$t" "${execs:-?}" "$elapsed" "$result"
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|runtime error|invariant|SUMMARY|Test unit written' "$log" | head -8 >&2
    break
  fi
done
exit $status
