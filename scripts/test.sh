#!/usr/bin/env bash
# The whole suite: embedded-mode tests on SQLite, then everything else on a
# throwaway PostgreSQL 15 cluster. Extra arguments go to both pytest runs; a
# stage in which they select no test is passed over, but a run in which no
# stage ran a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
NO_TESTS=5  # pytest's exit code when nothing was selected

scripts/system-deps.sh
DEBUG=1 $PY manage.py compilemessages --ignore=.venv -v0
mkdir -p var

# Runs one stage; prints nothing of its own unless the stage selected no test.
stage() {
  local rc=0
  "$@" || rc=$?
  if [ "$rc" -eq "$NO_TESTS" ]; then
    echo "(no test selected in this stage)"
    return 0
  fi
  ran=$((ran + 1))
  return "$rc"
}

ran=0
echo "== embedded mode (SQLite) =="
stage env -u DATABASE_URL $PY -m pytest -m embedded -p no:cacheprovider -q "$@"

eval "$(scripts/pg-throwaway.sh start)"
trap 'scripts/pg-throwaway.sh stop "$PG_TMP"' EXIT
echo "== full suite (PostgreSQL 15 on port $PGPORT) =="
stage $PY -m pytest -m "not embedded" -p no:cacheprovider "$@"

if [ "$ran" -eq 0 ]; then
  echo "No test selected in any stage: check the arguments ($*)." >&2
  exit "$NO_TESTS"
fi
