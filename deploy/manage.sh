#!/bin/sh
# manage.py as the portal user with the production environment, e.g.
#   deploy/manage.sh migrate --no-input
#   deploy/manage.sh createsuperuser
# PORTAL_ENV_FILE (default /etc/portal/portal.env) and PORTAL_USER (portal) can be changed.
set -eu
cd "$(dirname "$0")/.."
ENV_FILE=${PORTAL_ENV_FILE:-/etc/portal/portal.env}
exec runuser -u "${PORTAL_USER:-portal}" -- sh -c \
  'set -a; . "$0"; set +a; exec .venv/bin/python manage.py "$@"' "$ENV_FILE" "$@"
