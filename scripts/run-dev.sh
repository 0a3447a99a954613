#!/usr/bin/env bash
# Web server, one django-q2 worker, and the simulated Odoo and the WooCommerce,
# Shopify and Jumpseller shops the demo engagements are wired to. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

pids=()
$PY -m tests.fakes.odoo --port 8069 & pids+=($!)
$PY -m tests.fakes.woocommerce --port 8070 & pids+=($!)
$PY -m tests.fakes.shopify --port 8071 & pids+=($!)
$PY -m tests.fakes.jumpseller --port 8072 & pids+=($!)
$PY manage.py qcluster & pids+=($!)
trap 'kill -INT "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

echo "Portal on http://127.0.0.1:8000 (Ctrl-C stops the server, the worker and the simulated Odoo and shops)"
$PY manage.py runserver 127.0.0.1:8000
