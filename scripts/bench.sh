#!/usr/bin/env bash
# `make bench`: billing, integration and load benchmarks on a throwaway PostgreSQL 15; the report goes
# to var/bench-report.md (the load figures also to var/load-report.md). About twenty-five minutes.
# `scripts/bench.sh integration` (or any of billing, integration, shops, load) runs only those parts.
set -euo pipefail
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(billing integration shops load)
cd "$(dirname "$0")/.."
PY=.venv/bin/python
scripts/system-deps.sh
mkdir -p var
eval "$(scripts/pg-throwaway.sh start)"
trap 'scripts/pg-throwaway.sh stop "$PG_TMP"' EXIT
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/bench"
createdb -h 127.0.0.1 -p "$PGPORT" -U postgres bench
DJANGO_SETTINGS_MODULE=portal.settings_test $PY manage.py migrate --no-input -v0
report=var/bench-report.md
{
  echo "# Benchmark report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ) · $(nproc) cores · $(python3 -c 'import platform; print(platform.platform())')"
  echo
  for part in "${parts[@]}"; do
    $PY -m "bench.$part"
    echo
  done
} | tee "$report"
echo
echo "Report written to $report"
