#!/usr/bin/env bash
# The whole suite: embedded-mode tests on SQLite, then everything else on a
# throwaway PostgreSQL 15 cluster. Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

scripts/system-deps.sh
DEBUG=1 $PY manage.py compilemessages --ignore=.venv -v0
mkdir -p var

echo "== embedded mode (SQLite) =="
env -u DATABASE_URL $PY -m pytest -m embedded -p no:cacheprovider -q "$@"

eval "$(scripts/pg-throwaway.sh start)"
trap 'scripts/pg-throwaway.sh stop "$PG_TMP"' EXIT
echo "== full suite (PostgreSQL 15 on port $PGPORT) =="
$PY -m pytest -m "not embedded" -p no:cacheprovider "$@"
