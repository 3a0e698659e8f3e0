#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: nothing may assume one is running beforehand.
#   scripts/pg-test-server.sh start DIR   initdb a fresh cluster, start it on a free loopback port,
#                                          write DIR/url (a libpq URL of the server's `postgres`
#                                          database, superuser `brug`, no password: trust on
#                                          127.0.0.1 only) and DIR/env (BRUG_TEST_POSTGRESQL=URL)
#   scripts/pg-test-server.sh stop DIR    stop that server and remove its cluster
#   scripts/pg-test-server.sh restart DIR stop and start the same cluster on the same port
#   scripts/pg-test-server.sh halt DIR    stop the server, keep the cluster (tests of an outage)
#   scripts/pg-test-server.sh resume DIR  start the halted cluster again on its port
# PostgreSQL refuses to run as root: run as root, the cluster belongs to the system user
# `postgres` (Debian's package creates it) or, failing that, to `brugtest` (created here).
# The binaries come from Debian's `postgresql` package (scripts/setup.sh installs it); set
# PG_BIN to use others. The cluster lives in a private folder under /tmp (its path in DIR/data),
# because the build tree may not be readable by the server's user. The test cluster trades
# durability for speed (fsync=off): it is deleted after the run. PG_TEST_DURABLE=1 keeps
# PostgreSQL's durable defaults (fsync at every commit) with the buffer and checkpoint sizes of
# docs/DEPLOYMENT.md, for benchmarks.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|restart|halt|resume DIR" >&2
  exit 2
fi
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "pg-test-server: no PostgreSQL server binaries (install Debian's postgresql or set PG_BIN)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # runuser keeps no controlling terminal and needs no password; cd somewhere the user may be.
    (cd / && runuser -u "$owner" -- "$@")
  else
    "$@"
  fi
}

owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  if getent passwd postgres >/dev/null; then
    owner=postgres
  else
    getent passwd brugtest >/dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin brugtest
    owner=brugtest
  fi
fi

stop() {
  [ -f "$dir/data" ] || return 0
  local data
  data=$(cat "$dir/data")
  if [ -d "$data/pgdata" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$data/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
  rm -f "$dir/data" "$dir/url" "$dir/env" "$dir/port"
}

free_port() {
  # Ask the kernel for a free loopback port; PostgreSQL binds it a moment later.
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

start_server() {
  local data=$1 port=$2
  as_owner "$PG_BIN/pg_ctl" -D "$data/pgdata" -l "$data/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $data" start >/dev/null
}

start() {
  stop
  mkdir -p "$dir"
  local data port tries
  data=$(mktemp -d /tmp/brug-pg.XXXXXX)
  chmod 700 "$data"
  [ "$owner" = "$(id -un)" ] || chown "$owner" "$data"
  echo "$data" >"$dir/data"
  as_owner "$PG_BIN/initdb" -D "$data/pgdata" -U brug --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$data/initdb.log" 2>&1 || { cat "$data/initdb.log" >&2; exit 1; }
  if [ -z "${PG_TEST_DURABLE:-}" ]; then
    printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$data/pgdata/postgresql.conf"
  fi
  cat >>"$data/pgdata/postgresql.conf" <<EOF
max_connections = 300
shared_buffers = 64MB
unix_socket_permissions = 0700
EOF
  if [ -n "${PG_TEST_DURABLE:-}" ]; then
    # The benchmark's cluster: durable, sized as docs/DEPLOYMENT.md recommends for a gateway's
    # database (the buffers hold the hot indexes; checkpoints, and the full-page images each
    # one brings into the WAL, come every few GB instead of every 1 GB).
    printf 'shared_buffers = 1GB\nmax_wal_size = 8GB\nmin_wal_size = 2GB\ncheckpoint_timeout = 15min\nwal_buffers = 64MB\n' \
      >>"$data/pgdata/postgresql.conf"
  fi
  for tries in 1 2 3 4 5; do
    port=$(free_port)
    if start_server "$data" "$port"; then
      echo "$port" >"$dir/port"
      echo "postgresql://brug@127.0.0.1:$port/postgres" >"$dir/url"
      echo "BRUG_TEST_POSTGRESQL=postgresql://brug@127.0.0.1:$port/postgres" >"$dir/env"
      echo "pg-test-server: PostgreSQL on 127.0.0.1:$port (cluster $data, owner $owner)"
      return 0
    fi
  done
  cat "$data/server.log" >&2 || true
  echo "pg-test-server: could not start PostgreSQL" >&2
  exit 1
}

halt() {
  as_owner "$PG_BIN/pg_ctl" -D "$(cat "$dir/data")/pgdata" -m fast -w stop >/dev/null
}

resume() {
  start_server "$(cat "$dir/data")" "$(cat "$dir/port")"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) halt && resume ;;
  halt) halt ;;
  resume) resume ;;
  *)
    echo "usage: $0 start|stop|restart|halt|resume DIR" >&2
    exit 2
    ;;
esac
