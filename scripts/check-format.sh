#!/usr/bin/env bash
# Fails when a C++ file differs from what clang-format (with the repo's .clang-format) makes.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2
command -v clang-format >/dev/null || { echo "format: clang-format not installed"; exit 1; }
files=$(git ls-files -co --exclude-standard -- '*.h' '*.cc' 2>/dev/null || find . -name '*.h' -o -name '*.cc')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
if ! clang-format --dry-run -Werror $files; then
  echo "format: run clang-format -i on the files above"
  exit 1
fi
echo "format: ok"
