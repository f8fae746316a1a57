#!/bin/sh
# Run every test: the native C tests (ctest in build/, from scripts/build.sh) and the Node
# tests of the WebAssembly build (tests/js/). Extend here, not in package.json.
set -eu
cd "$(dirname "$0")/.."

status=0
if [ -d build ]; then
  ctest --test-dir build --output-on-failure || status=1
else
  echo "test.sh: build/ missing: run scripts/build.sh (npm run build) first" >&2
  status=1
fi
node --test tests/js/ || status=1
exit $status
