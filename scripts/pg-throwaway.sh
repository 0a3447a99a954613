#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster and print `export` lines for it.
# Usage: eval "$(scripts/pg-throwaway.sh start)"; ...; scripts/pg-throwaway.sh stop "$PG_TMP"
# `restart "$PG_TMP"` restarts it (fast shutdown: every open connection is cut), for the test of
# what the web does after a database restart.
# PostgreSQL refuses to run as root: as root the cluster runs as `postgres`.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/portal-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd /tmp && as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync) >/dev/null
    (cd /tmp && as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w \
      -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start) >/dev/null
    echo "export PG_TMP=$dir PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres"
    echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/portal"
    ;;
  restart)
    dir=${2:?usage: restart DIR}
    (cd /tmp && as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -m fast -w restart) >/dev/null
    ;;
  stop)
    dir=${2:?usage: stop DIR}
    (cd /tmp && as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop) >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "usage: $0 start | restart DIR | stop DIR" >&2; exit 2 ;;
esac
