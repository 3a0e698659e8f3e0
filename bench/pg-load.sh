#!/usr/bin/env bash
# The load run of docs/PERFORMANCE.md on SQLite, on PostgreSQL with one gateway process and with
# two over one database, back to back, each on a fresh setup under /tmp:
#   [BUILD=build/release] [RUNS=R] bench/pg-load.sh N   (N participants; brug and brug_load built)
# PostgreSQL runs durable (PG_TEST_DURABLE=1: fsync at every commit) on a throw-away cluster.
# With RUNS=R (default 1) the three set-ups run R times, interleaved (SQLite, one, two, SQLite,
# ...), and a table of the medians follows: on a shared VM two runs of one build differ by
# 10-25%, more than most changes, so one run says little. First the machine's free memory is
# written once (MEM_WARM=0 skips that; see below).
set -u
cd "$(dirname "$0")/.."
N=${1:-10000}
B=${BUILD:-build/release}
RUNS=${RUNS:-1}
S=scripts/pg-test-server.sh
OUT=$(mktemp /tmp/pg-load.XXXXXX)
trap 'rm -f "$OUT" "$OUT.run"' EXIT
wait_port() { for i in $(seq 100); do (echo >/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.2; done; return 1; }
# brug_load's output of one run, each line prefixed with the set-up's name (for the table).
load() {
  local name=$1
  shift
  if $B/bench/brug_load --participants $N --threads 2 --rate 1000 --seconds 5 "$@" >"$OUT.run"; then
    sed "s/^/$name /" "$OUT.run" >>"$OUT"
  else
    echo "pg-load: brug_load failed on $name; this run is left out of the medians" >&2
  fi
  cat "$OUT.run"
}

sqlite_run() {
  echo "== sqlite, one gateway, N=$N"
  rm -rf /tmp/ld-sq
  $B/gateway/brug init /tmp/ld-sq --port 18600 >/dev/null
  $B/gateway/brug serve --config /tmp/ld-sq/brug.json 2>/tmp/ld-sq.log & P1=$!
  wait_port 18600
  load sqlite --config /tmp/ld-sq/brug.json
  kill $P1; wait $P1
}

pg_runs() {
  rm -rf /tmp/ld-pg1 /tmp/ld-pg2
  PG_TEST_DURABLE=1 $S start /tmp/pgb >/dev/null
  URL=$(cat /tmp/pgb/url)
  psql -q "$URL" -c 'CREATE DATABASE bench1' -c 'CREATE DATABASE bench2'
  if [ "${PG_WARM:-1}" != 0 ]; then
    # A running server's WAL, not a fresh cluster's: 1.4 GB written and checkpointed away leaves
    # that many WAL files to reuse (min_wal_size), as a server that has run a while has. On a
    # fresh cluster each commit that crosses into a new file first writes it full of zeros.
    # PG_WARM=0 measures the fresh cluster.
    psql -q "$URL" -c 'CREATE DATABASE warm'
    psql -q "${URL%/postgres}/warm" -c 'CREATE TABLE w AS SELECT g, repeat(md5(g::text), 30) AS t
      FROM generate_series(1, 1500000) g' -c CHECKPOINT -c 'DROP TABLE w' -c CHECKPOINT
  fi
  echo "== postgresql (fsync on), one gateway, N=$N"
  $B/gateway/brug init /tmp/ld-pg1 --port 18610 --postgresql "${URL%/postgres}/bench1" >/dev/null
  $B/gateway/brug serve --config /tmp/ld-pg1/brug.json 2>/tmp/ld-pg1.log & P1=$!
  wait_port 18610
  load pg1 --config /tmp/ld-pg1/brug.json
  kill $P1; wait $P1
  echo "== postgresql (fsync on), two gateways, N=$N"
  $B/gateway/brug init /tmp/ld-pg2 --port 18620 --postgresql "${URL%/postgres}/bench2" >/dev/null
  sed 's/"port": 18620/"port": 18621/' /tmp/ld-pg2/brug.json >/tmp/ld-pg2/brug2.json
  $B/gateway/brug serve --config /tmp/ld-pg2/brug.json 2>/tmp/ld-pg2a.log & P1=$!
  wait_port 18620
  $B/gateway/brug serve --config /tmp/ld-pg2/brug2.json 2>/tmp/ld-pg2b.log & P2=$!
  wait_port 18621
  load pg2 --config /tmp/ld-pg2/brug.json --port2 18621
  kill $P1 $P2; wait $P1 $P2
  $S stop /tmp/pgb
}

# A VM's memory may be backed by its host only when first written: there each page a run takes
# for the first time since boot (PostgreSQL's shared buffers, the page cache of a growing
# database) costs a fault in the host, several times the work of the page itself. On the VM of
# docs/PERFORMANCE.md 16 GB took 44.6 s to write the first time, 7.7 s the second. Writing the
# free memory once first measures what a machine that has run a while does; MEM_WARM=0 skips it.
if [ "${MEM_WARM:-1}" != 0 ]; then
  python3 - <<'PY'
import mmap
with open("/proc/meminfo") as f:
    free = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in f}["MemAvailable"]
size = max(0, free - (2 << 30)) // (1 << 20) * (1 << 20)
if size:
    m = mmap.mmap(-1, size)
    chunk = b"\1" * (1 << 20)
    for _ in range(size >> 20):
        m.write(chunk)
    m.close()
PY
fi

for run in $(seq "$RUNS"); do
  [ "$RUNS" -gt 1 ] && echo "=== run $run of $RUNS"
  sqlite_run
  pg_runs
  uptime
done

# The medians per set-up: push, feed limit=100 and limit=1000 in records/s, healthz p99 in ms.
if [ "$RUNS" -gt 1 ]; then
  awk -v runs="$RUNS" '
    function median(key,   n, i, j, t, v) {
      n = split(vals[key], v, " ")
      for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] + 0 > v[j] + 0; j--) {
        t = v[j]; v[j] = v[j-1]; v[j-1] = t
      }
      if (n == 0) return "-"
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    # A median as text with `digits` decimals; "-" when no run gave a value.
    function shown(key, digits,   m) {
      m = median(key)
      return m == "-" ? m : sprintf("%." digits "f", m)
    }
    function add(key, x) { vals[key] = vals[key] " " x }
    function rate(   i) { for (i = 1; i < NF; i++) if ($i == "=") return $(i + 1) }
    $2 == "push:" { add($1 " push", rate()) }
    $2 == "feed:" && /limit=100\)/ { add($1 " feed100", rate()) }
    $2 == "feed:" && /limit=1000\)/ { add($1 " feed1000", rate()) }
    $2 == "healthz:" { for (i = 1; i <= NF; i++) if ($i == "p99") add($1 " p99", $(i + 1) + 0) }
    END {
      printf "\nmedians of %d runs, N=%s: push, feed limit=100, feed limit=1000 (records/s); healthz p99 (ms)\n", runs, N
      split("sqlite pg1 pg2", names, " ")
      for (k = 1; k <= 3; k++) {
        s = names[k]
        printf "%-7s %8s %8s %8s %7s\n", s, shown(s " push", 0), shown(s " feed100", 0),
               shown(s " feed1000", 0), shown(s " p99", 2)
      }
    }' N="$N" "$OUT"
fi
