#!/usr/bin/env bash
# Web server and one django-q2 worker together; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

$PY manage.py qcluster &
worker=$!
trap 'kill -INT "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true' EXIT INT TERM

echo "Portal on http://127.0.0.1:8000 (Ctrl-C stops the server and the worker)"
$PY manage.py runserver 127.0.0.1:8000
