#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: an optimised build
# (with the benchmarks compiled, so they cannot rot), then an AddressSanitizer +
# UndefinedBehaviorSanitizer build. Exits non-zero on the first failure.
# Both builds are unity builds (CMake combines each target's sources, 8 to a unit): the headers
# of nlohmann/json, GoogleTest and Poco are then compiled once per unit instead of once per file,
# which halves the build (docs/PERFORMANCE.md, "build"). Developers' own builds stay per file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
# The OpenAPI checkers from the npm registry, as locked in tests/openapi/package-lock.json.
(cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error)
jobs=$(nproc)

echo "== release build and tests"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBRUG_BENCH=ON \
  -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build build/release -j"$jobs"
ctest --test-dir build/release --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBRUG_SANITIZE=ON \
  -DCMAKE_UNITY_BUILD=ON >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j"$jobs"
