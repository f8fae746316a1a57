# stage.sh - sourced by scripts/test.sh: each CI stage under a time limit, with its time printed.
# A stage that hangs fails, named, instead of stalling CI past its 90 minutes (session 20's CI
# stopped printing after one Node test file and was killed at 5400 s with nothing to say where).
#
# NODE_TEST: Node's test runner with the same guard per file. --test-timeout fails a test, or a
# test file whose process does not exit, after NODE_TEST_TIMEOUT_MS; --test-force-exit ends a
# file's process once its tests are done, even if something still holds its event loop.
NODE_TEST="node --test --test-force-exit --test-timeout=${NODE_TEST_TIMEOUT_MS:-600000}"

# stage NAME LIMIT_SECONDS COMMAND...: run COMMAND, print its time; on a non-zero exit or past
# LIMIT_SECONDS (timeout(1) then ends the stage's whole process group: TERM, KILL 30 s later),
# set status=1 and go on with the next stage.
stage() {
  name=$1
  limit=$2
  shift 2
  echo "== $name"
  start=$(date +%s)
  rc=0
  timeout -k 30 "$limit" "$@" || rc=$?
  took=$(($(date +%s) - start))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "-- $name: TIMED OUT after $took s (limit $limit s)"
  else
    echo "-- $name: $took s, exit $rc"
  fi
  [ "$rc" = 0 ] || status=1
}
