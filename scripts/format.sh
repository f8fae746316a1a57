#!/bin/sh
# Format the C sources with .clang-format (clang-format from scripts/setup.sh).
#   sh scripts/format.sh           rewrite the files in place
#   sh scripts/format.sh --check   list files that differ, exit 1 if any (changes nothing)
set -eu
cd "$(dirname "$0")/.."
FILES=$(git ls-files 'include/*.h' 'src/*.c' 'src/*.h' 'src/*/*.c' 'src/*/*.h' 'wasm/*.c' \
  'tests/*.c' 'tests/*.h' 'tests/fuzz/*.c' 'tests/fuzz/*.h' 'tests/bench/*.c' 'tools/*.c')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in $FILES; do
    clang-format --style=file "$f" | cmp -s - "$f" || { echo "not formatted: $f"; bad=1; }
  done
  exit $bad
fi
clang-format --style=file -i $FILES
