#!/usr/bin/env bash
# Runs the crash test (bench/crash_main.cc): a real `brug serve` killed with SIGKILL under
# concurrent pushes, consents, outcomes and withdrawals, restarted and checked, N rounds.
#   scripts/crash-test.sh [--rounds N] [--bin PATH/brug_crash] [other brug_crash options]
# Builds nothing: it needs a build with -DBRUG_BENCH=ON, by default build/release, e.g.
#   cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRUG_BENCH=ON
#   cmake --build build/release --target brug brug_crash
# Exit status: brug_crash's (0 every check passed, 1 a check failed (named), 2 wrong usage).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/bench/brug_crash
rounds=20
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?--rounds needs N}; shift 2 ;;
    --bin) bin=${2:?--bin needs a path}; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
if [ ! -x "$bin" ]; then
  echo "crash-test: $bin not found; build it (-DBRUG_BENCH=ON, target brug_crash) or pass --bin PATH" >&2
  exit 2
fi
exec "$bin" --rounds "$rounds" "${extra[@]}"
