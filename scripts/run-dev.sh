#!/usr/bin/env bash
# Web server, one django-q2 worker, and the simulated Odoo and WooCommerce shop
# the demo engagement is wired to. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

pids=()
$PY -m tests.fakes.odoo --port 8069 & pids+=($!)
$PY -m tests.fakes.woocommerce --port 8070 & pids+=($!)
$PY manage.py qcluster & pids+=($!)
trap 'kill -INT "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

echo "Portal on http://127.0.0.1:8000 (Ctrl-C stops the server, the worker and the simulated Odoo and shop)"
$PY manage.py runserver 127.0.0.1:8000
