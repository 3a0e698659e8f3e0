#!/usr/bin/env bash
# The load run of docs/PERFORMANCE.md on SQLite, on PostgreSQL with one gateway process and with
# two over one database, back to back, each on a fresh setup under /tmp:
#   [BUILD=build/release] bench/pg-load.sh N      (N participants; needs brug and brug_load built)
# PostgreSQL runs durable (PG_TEST_DURABLE=1: fsync at every commit) on a throw-away cluster.
set -u
cd "$(dirname "$0")/.."
N=${1:-10000}
B=${BUILD:-build/release}
S=scripts/pg-test-server.sh
rm -rf /tmp/ld-sq /tmp/ld-pg1 /tmp/ld-pg2
wait_port() { for i in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; return 1; }
echo "== sqlite, one gateway, N=$N"
$B/gateway/brug init /tmp/ld-sq --port 18600 >/dev/null
$B/gateway/brug serve --config /tmp/ld-sq/brug.json 2>/tmp/ld-sq.log & P1=$!
wait_port 18600
$B/bench/brug_load --config /tmp/ld-sq/brug.json --participants $N --threads 2 --rate 1000 --seconds 5
kill $P1; wait $P1
PG_TEST_DURABLE=1 $S start /tmp/pgb >/dev/null
URL=$(cat /tmp/pgb/url)
psql -q "$URL" -c 'CREATE DATABASE bench1' -c 'CREATE DATABASE bench2'
echo "== postgresql (fsync on), one gateway, N=$N"
$B/gateway/brug init /tmp/ld-pg1 --port 18610 --postgresql "${URL%/postgres}/bench1" >/dev/null
$B/gateway/brug serve --config /tmp/ld-pg1/brug.json 2>/tmp/ld-pg1.log & P1=$!
wait_port 18610
$B/bench/brug_load --config /tmp/ld-pg1/brug.json --participants $N --threads 2 --rate 1000 --seconds 5
kill $P1; wait $P1
echo "== postgresql (fsync on), two gateways, N=$N"
$B/gateway/brug init /tmp/ld-pg2 --port 18620 --postgresql "${URL%/postgres}/bench2" >/dev/null
sed 's/"port": 18620/"port": 18621/' /tmp/ld-pg2/brug.json > /tmp/ld-pg2/brug2.json
$B/gateway/brug serve --config /tmp/ld-pg2/brug.json 2>/tmp/ld-pg2a.log & P1=$!
wait_port 18620
$B/gateway/brug serve --config /tmp/ld-pg2/brug2.json 2>/tmp/ld-pg2b.log & P2=$!
wait_port 18621
$B/bench/brug_load --config /tmp/ld-pg2/brug.json --participants $N --threads 2 --rate 1000 --seconds 5 --port2 18621
kill $P1 $P2; wait $P1 $P2
$S stop /tmp/pgb
uptime
