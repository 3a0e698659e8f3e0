#!/usr/bin/env bash
# deploy/brug.service passes `systemd-analyze verify` without a single warning (an unknown key
# or a bad value is only a warning there) and keeps an exposure level of at most 2.0 of 10 (threshold 20) in
# `systemd-analyze security --offline`. Usage: check-unit.sh UNIT BRUG_BINARY
set -euo pipefail
unit=$1 brug=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The unit names the installed path; verify checks that the executable exists.
sed "s|/usr/local/bin/brug|$brug|" "$unit" > "$tmp/brug.service"
for key in User=brug NoNewPrivileges=yes ProtectSystem=strict StateDirectory=brug \
           ConfigurationDirectory=brug LimitNOFILE=; do
  grep -q "^$key" "$tmp/brug.service" || { echo "deploy/brug.service lacks $key"; exit 1; }
done
out=$(systemd-analyze verify "$tmp/brug.service" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "systemd-analyze verify warns:"; echo "$out"; exit 1; fi
systemd-analyze security --offline=yes --threshold=20 "$tmp/brug.service" > "$tmp/security.txt" 2>&1 || {
  tail -3 "$tmp/security.txt"; exit 1; }
grep -o "Overall exposure level.*" "$tmp/security.txt"
echo "deploy/brug.service: verify clean"
