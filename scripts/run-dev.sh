#!/usr/bin/env bash
# Installs what is missing, builds `brug`, creates a development setup in ./dev (or
# $BRUG_DEV_DIR) when there is none, and runs the gateway on https://127.0.0.1:8443 with
# embedded SQLite. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release --target brug
dev=${BRUG_DEV_DIR:-dev}
[ -f "$dev/brug.json" ] || build/release/gateway/brug init "$dev"
echo "serving; in another terminal: build/release/gateway/brug demo --config $dev/brug.json"
echo "the coordinator's portal: build/release/gateway/brug portal --config $dev/portal/reconnact-leusden.json"
echo "or try: curl --cacert $dev/pki/ca.pem --cert $dev/pki/laborijn.pem --key $dev/pki/laborijn.key https://127.0.0.1:8443/healthz"
exec build/release/gateway/brug serve --config "$dev/brug.json"
