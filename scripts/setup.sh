#!/usr/bin/env bash
# Installs the Debian packages brug needs to build and test, when any is missing.
# postgresql: the server binaries scripts/pg-test-server.sh runs for the tests (no cluster of the
# package is used). `setup.sh test` also installs what the portal's browser test drives
# (chromium, chromium-driver) and the independent checkers (Go with golang.org/x/mod for the
# audit log).
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config clang-format curl
  libpoco-dev libsodium-dev libssl-dev libsqlite3-dev libpq-dev nlohmann-json3-dev
  postgresql
  libgtest-dev libgmock-dev libbenchmark-dev
)
if [ "${1:-}" = test ]; then
  packages+=(chromium chromium-driver fonts-dejavu-core)  # tests/portal/portal_browser_test
  packages+=(golang-go golang-golang-x-mod-dev)  # tests/tlog: the independent C2SP log verifier
  packages+=(prometheus)  # promtool check metrics (tests/integration/server_test.cc)
fi
if [ "${1:-}" = test ] && ! command -v npm >/dev/null; then
  packages+=(nodejs npm)  # tests/openapi: Redocly CLI and Ajv from the npm registry
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
