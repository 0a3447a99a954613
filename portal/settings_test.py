"""Test settings: the production settings with fast, deterministic overrides.

The database comes from DATABASE_URL like everywhere else: `make test` points
it at a throwaway PostgreSQL cluster, and the embedded-mode tests run with it
unset (SQLite file under var/).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("FERNET_KEYS", "dGVzdC1vbmx5LWZlcm5ldC1rZXktZm9yLXB5dGVzdDA=")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
# The test client and live_server speak plain http (production: HTTPS_ONLY on,
# checked in tests/portal/test_production.py).
os.environ.setdefault("HTTPS_ONLY", "0")

from portal.settings import *  # noqa: F403
from portal.settings import DATABASES, Q_CLUSTER, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if os.environ.get("TEST_SMTP_PORT"):
    # A process a test starts (a worker cluster) cannot reach the test's in-memory outbox: it
    # sends to the fake SMTP server of tests/fakes/smtp.py instead.
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["TEST_SMTP_PORT"])
STAFF_NOTIFICATION_EMAILS = ["office@consultora.test"]

# Manifest storage needs collectstatic; tests serve files from the finders.
STORAGES = {
    "default": {"BACKEND": "portal.storage.CleanFileSystemStorage"},  # no partial files on a failed write
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
INTEGRATION_ALLOW_LOCAL = True  # the fake Odoo and shops listen on http://127.0.0.1

# Tasks run inline unless a test starts a real cluster (it sets Q_SYNC=0 for it). A test may
# start a cluster on a queue of its own with Q_CLUSTER_NAME; django-q2 then reads ALT_CLUSTERS.
Q_CLUSTER = {**Q_CLUSTER, "sync": os.environ.get("Q_SYNC", "1") == "1", "ALT_CLUSTERS": {}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:", so several threads and processes share it and the
    # WAL/IMMEDIATE options are exercised for real.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-embedded.sqlite3")}

# WhiteNoise serves from the finders in tests (there is no collectstatic run).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
