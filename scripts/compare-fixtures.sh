#!/usr/bin/env bash
# Compare the recorded exchanges and payloads the fakes carry (tests/fakes/data) with a reference
# copy of the recordings, by hand, when the recordings change. Nothing runs this automatically:
# the tests read only tests/fakes/data.
# Usage: scripts/compare-fixtures.sh REFERENCE_DIR   (REFERENCE_DIR holds odoo17/ and shops/<platform>/)
set -euo pipefail
ref=$(cd "${1:?usage: $0 REFERENCE_DIR}" && pwd)
cd "$(dirname "$0")/../tests/fakes/data"
status=0
for copy in odoo17/* woocommerce/*.json shopify/*.json jumpseller/*.json; do
  case "$copy" in odoo17/*) original="$ref/$copy" ;; *) original="$ref/shops/$copy" ;; esac
  if ! cmp -s "$copy" "$original"; then echo "differs: $copy"; status=1; fi
done
[ "$status" -eq 0 ] && echo "all copies match $ref"
exit "$status"
