#!/usr/bin/env bash
# Web server, one django-q2 worker, and the simulated Odoo (with the consultancy's
# books in it: account + l10n_cl), the WooCommerce, Shopify and Jumpseller shops the
# demo engagements are wired to, and a simulated Transbank that the demo's "Pagar con
# Webpay" pays through. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

pids=()
$PY -m tests.fakes.odoo_books --port 8069 & pids+=($!)
$PY -m tests.fakes.woocommerce --port 8070 & pids+=($!)
$PY -m tests.fakes.shopify --port 8071 & pids+=($!)
$PY -m tests.fakes.jumpseller --port 8072 & pids+=($!)
$PY -m tests.fakes.transbank --port 8073 & pids+=($!)
# The demo pays with Transbank's public integration credentials against the simulated
# Transbank, unless Webpay is configured in the environment already.
if [ -z "${WEBPAY_COMMERCE_CODE:-}" ]; then
  export WEBPAY_COMMERCE_CODE=597055555532
  export WEBPAY_API_KEY_SECRET=579B532A7440BB0C9079DED94D31EA1615BACEB56610332264630D42D0A36B1C
  export WEBPAY_API_URL=http://127.0.0.1:8073
fi
$PY manage.py qcluster & pids+=($!)
trap 'kill -INT "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

echo "Portal on http://127.0.0.1:8000 (Ctrl-C stops the server, the worker and the simulated Odoo, shops and Transbank)"
$PY manage.py runserver 127.0.0.1:8000
