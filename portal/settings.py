"""Settings of the client portal, read from the environment.

Every variable is documented in README.md ("Configuration"). Nothing here is
production-only code: production differs only by environment values.
"""

import re
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

# ---------------------------------------------------------------- core
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", debug=DEBUG, dev_default="dev-only-insecure-secret-key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",  # "My sessions": a person lists and ends their other sessions
    "django_htmx",
    "django_q",
    "portal",
    "engagements",
    "engagements.integration",
    "billing",
    "books",
]

MIDDLEWARE = [
    "portal.logging.RequestIdMiddleware",  # first: every log line of the request carries its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.PrivateCacheMiddleware",  # answers for a signed-in person: never stored
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.sessions.SessionLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.RequireMFAMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.navigation",
                "portal.context_processors.branding",
            ],
        },
    },
]

# ---------------------------------------------------------------- database
# Default: an embedded SQLite file. WAL lets readers run beside the writer and
# IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on
# busy_timeout instead of failing with "database is locked" on lock upgrade.
_SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=5000;",
    "transaction_mode": "IMMEDIATE",
}
DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # a fresh checkout has no var/ yet
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
# Health checks: a persistent connection (DB_CONN_MAX_AGE) that the server dropped, e.g. after a
# PostgreSQL restart, is noticed and replaced at the start of the next request instead of
# failing that request.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = dict(_SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------- cache
# The cache carries login rate limits and TOTP replay protection, so it must be
# shared by every web process: the database by default, Redis when configured.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Django's default of 300 entries would let anyone who sends failed logins for many made-up
    # addresses cull the real counters (a third of the table goes when it is full).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# ---------------------------------------------------------------- people and login
AUTH_USER_MODEL = "portal.User"
# One backend: allauth's (a ModelBackend that logs in by e-mail). With ModelBackend beside it,
# every failed login hashed the password twice.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "engagements:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
# Before a sensitive change (MFA, e-mail) a person confirms the password or a TOTP code. allauth
# 65.22 also offers an e-mailed code by default: that would let whoever reads the mailbox stand in
# for the password, so it stays off.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
# Failed logins: allauth refuses the eleventh attempt from one address within a minute,
# whichever the accounts; per account, portal.login_throttle delays an address after five
# failures (progressively, never a lock for the owner's own address) and locks out only the
# addresses the account never signed in from. README, "Failed logins".
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip"}
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

MFA_ADAPTER = "portal.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Portal Odoo Tienda Online")

# Fernet keys for secrets at rest (client credentials, TOTP seeds). The first
# key encrypts; all of them decrypt, so a new key is put first and the old one
# kept until `manage.py rotate_encryption_key` has re-encrypted every row.
FERNET_KEYS = env_list("FERNET_KEYS") or [
    env_secret("FERNET_KEYS", debug=DEBUG, dev_default="ZGV2LW9ubHktaW5zZWN1cmUtZmVybmV0LWtleS0wMDA=")
]

INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)

# ---------------------------------------------------------------- engagements
# R2: by default the sweep only flags engagements eligible for administrative
# close and staff decide; 1 makes the sweep close them itself.
ADMIN_CLOSE_AUTOMATIC = env_bool("ADMIN_CLOSE_AUTOMATIC", False)

# ---------------------------------------------------------------- integration
INTEGRATION_ODOO_TIMEOUT = float(env_str("INTEGRATION_ODOO_TIMEOUT", "60"))  # seconds per Odoo call
# A run still "running" after this long lost its worker (killed, restarted): the
# next run marks it interrupted instead of waiting forever. Above the task timeout.
INTEGRATION_RUN_STALE_SECONDS = env_int("INTEGRATION_RUN_STALE_SECONDS", env_int("Q_TIMEOUT", 300) + 60)
# Keys of clients' Odoo and shops travel only over HTTPS to public addresses; plain
# http and loopback or private addresses only for development and the fake servers.
INTEGRATION_ALLOW_LOCAL = env_bool("INTEGRATION_ALLOW_LOCAL", DEBUG)
# A connection check (a person waits for it) gets one try per call and this many
# seconds in all, never more than 10.
INTEGRATION_CHECK_SECONDS = min(10.0, float(env_str("INTEGRATION_CHECK_SECONDS", "10")))

# ---------------------------------------------------------------- the consultancy's books (Odoo)
# Seconds per call to the consultancy's Odoo. Pushes run in the worker, never in a web request.
BOOKS_ODOO_TIMEOUT = float(env_str("BOOKS_ODOO_TIMEOUT", "30"))
# A worker holds a push this long (its lease); a killed worker's push is taken again after it.
# Above the task timeout, so a slow push is never taken twice at once.
BOOKS_LEASE_SECONDS = env_int("BOOKS_LEASE_SECONDS", env_int("Q_TIMEOUT", 300) + 60)

# ---------------------------------------------------------------- billing
# Currencies and their minor unit (decimals), e.g. "CLP:0,USD:2,EUR:2".
CURRENCY_DECIMALS = {
    code.strip().upper(): int(decimals)
    for code, decimals in (item.split(":") for item in env_list("CURRENCIES", "CLP:0,USD:2"))
}
DEFAULT_TAX_RATE = env_str("DEFAULT_TAX_RATE", "0.19")  # IVA Chile
INVOICE_SERIES = env_str("INVOICE_SERIES", "F")
INVOICE_DUE_DAYS = env_int("INVOICE_DUE_DAYS", 15)
QUOTE_VALID_DAYS = env_int("QUOTE_VALID_DAYS", 30)
# 1: a reached milestone creates a draft invoice for staff review instead of issuing it.
MILESTONE_INVOICE_DRAFT = env_bool("MILESTONE_INVOICE_DRAFT", False)
# The consultancy: the portal's brand (name, logo, colours, contact; portal/branding.py) and the
# letterhead of quotes and payment requests.
CONSULTANCY = {
    "name": env_str("CONSULTANCY_NAME", "AsesórateYa SpA"),
    "short_name": env_str("CONSULTANCY_SHORT_NAME", "AsesórateYa"),  # the name in titles and the header
    "rut": env_str("CONSULTANCY_RUT", "76.000.000-0"),
    "address": env_str("CONSULTANCY_ADDRESS", "Santiago, Chile"),
    "email": env_str("CONSULTANCY_EMAIL", "facturacion@asesorateya.cl"),
    "contact_email": env_str("CONSULTANCY_CONTACT_EMAIL", "hola@asesorateya.cl"),  # for people's questions
    "phone": env_str("CONSULTANCY_PHONE", "+56 2 2900 1234"),
    "website": env_str("CONSULTANCY_WEBSITE", "https://asesorateya.cl"),
    "logo": env_str("CONSULTANCY_LOGO", "img/logo.svg"),  # a static file
    # Brand colours (#rrggbb): buttons, links and the header line; the accent marks what needs action.
    "color": env_str("CONSULTANCY_COLOR", "#0f5c63"),
    "accent": env_str("CONSULTANCY_ACCENT", "#c2410c"),
}
for _key in ("color", "accent"):
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", CONSULTANCY[_key]):
        raise ImproperlyConfigured(f"CONSULTANCY_{_key.upper()} must be a colour written #rrggbb.")

# Shown instead of the Webpay button where a payment request cannot be paid online (USD and
# other currencies, or Webpay off), and printed on every payment request PDF.
BANK_TRANSFER = {
    "bank": env_str("BANK_NAME", "Banco de Chile"),
    "account_type": env_str("BANK_ACCOUNT_TYPE", "Cuenta corriente"),
    "account_number": env_str("BANK_ACCOUNT_NUMBER", "00-000-00000-00"),
    "holder": env_str("BANK_ACCOUNT_HOLDER", CONSULTANCY["name"]),
    "rut": env_str("BANK_ACCOUNT_RUT", CONSULTANCY["rut"]),
    "email": env_str("BANK_TRANSFER_EMAIL", CONSULTANCY["email"]),
    "swift": env_str("BANK_SWIFT", ""),  # for payments from abroad (USD)
}

# Webpay Plus (Transbank): off unless both the commerce code and its API key secret are set.
# WEBPAY_API_URL replaces the environment's host (the demo's and the tests' fake Transbank).
WEBPAY = {
    "commerce_code": env_str("WEBPAY_COMMERCE_CODE").strip(),
    "api_key_secret": env_str("WEBPAY_API_KEY_SECRET").strip(),
    "environment": env_str("WEBPAY_ENVIRONMENT", "integration"),
    "api_url": env_str("WEBPAY_API_URL").strip(),
    # Seconds per call. A return makes at most two calls (commit, then status), so a web
    # request waits at most 2 x this on Transbank: keep it at 5 or less.
    "timeout": float(env_str("WEBPAY_TIMEOUT", "4")),
}
if WEBPAY["environment"] not in ("integration", "production"):
    raise ImproperlyConfigured("WEBPAY_ENVIRONMENT must be 'integration' or 'production'.")
if not 0 < WEBPAY["timeout"] <= 5:
    raise ImproperlyConfigured("WEBPAY_TIMEOUT must be between 0 and 5 seconds.")

# ---------------------------------------------------------------- i18n
LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language switch's cookie: sent back on same-site navigation only, and over HTTPS only
# in production (LANGUAGE_COOKIE_SECURE is set with the other cookies under "security").
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = env_str("TIME_ZONE", "America/Santiago")
USE_I18N = True
USE_TZ = True
# dd-mm-aaaa and Chilean numbers in both languages (portal/formats/).
FORMAT_MODULE_PATH = ["portal.formats"]

# ---------------------------------------------------------------- static and media
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]  # our files and the vendored ones (static/vendor/)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "portal.storage.CleanFileSystemStorage"},  # no partial files on a failed write
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# In development runserver and WhiteNoise read files straight from the finders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# ---------------------------------------------------------------- email
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds: an unreachable server must not hold a request
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Portal <no-reply@localhost>")
STAFF_NOTIFICATION_EMAILS = env_list("STAFF_NOTIFICATION_EMAILS")

# ---------------------------------------------------------------- error reports
# ADMINS ("Name <address>, other@example.cl") get an e-mail for every 500 and every failed
# background task (LOGGING below); SENTRY_DSN, when set, sends the same to Sentry. Both go
# through the redaction of portal/logging.py.
ADMINS = [(name or address, address) for name, address in getaddresses(env_list("ADMINS")) if address]
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from portal.monitoring import sentry_init  # sentry-sdk is imported only when it is used

    sentry_init(SENTRY_DSN, environment=env_str("SENTRY_ENVIRONMENT", "production"))

# /healthz answers anyone with its status and the names of failed checks; the detail needs
# `Authorization: Bearer <HEALTHZ_TOKEN>`. Unset: nobody gets the detail.
HEALTHZ_TOKEN = env_str("HEALTHZ_TOKEN")

# ---------------------------------------------------------------- background jobs
# timeout < retry: a task still running at `timeout` is killed before the broker
# hands it out again at `retry`, so no task ever runs twice at once because of
# slowness; max_attempts bounds a task that keeps failing.
Q_CLUSTER = {
    "name": "portal",
    "workers": env_int("Q_WORKERS", 1),
    "timeout": env_int("Q_TIMEOUT", 300),
    "retry": env_int("Q_RETRY", 420),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3),
    "catch_up": False,
    "poll": 1,
    "ack_failures": True,
    "save_limit": 1000,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# ---------------------------------------------------------------- security
# HTTPS_ONLY (default: on when DEBUG is off): the site is served only over TLS
# by a reverse proxy (nginx, deploy/nginx-portal.conf) that sets
# X-Forwarded-Proto. Then plain http is redirected, cookies are Secure and HSTS
# is sent. gunicorn must listen only on loopback or a socket, because the
# X-Forwarded-Proto header is trusted. DEBUG=1 development stays on plain http.
HTTPS_ONLY = env_bool("HTTPS_ONLY", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS_ONLY else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # local probes may ask over plain http
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
LANGUAGE_COOKIE_SECURE = HTTPS_ONLY
# HSTS: one year by default; roll out with a small SECURE_HSTS_SECONDS first
# (e.g. 3600) if unsure that every subdomain has HTTPS.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preload stays off: the preload list is for a whole registrable domain (the
# consultancy's, not just the portal's host), is hard to leave, and is the
# domain owner's decision. Its check (W021) is silenced while preload is off.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts and styles only from our own
# static files; no inline <script>, no on...= handlers, no style="" attributes
# in pages (tests/portal/test_production.py checks the templates). data: images
# are Bootstrap's CSS icons and the TOTP QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Sessions live in the database: logging out deletes the row, so a copied
# cookie is useless afterwards. portal.sessions.SessionLimitMiddleware ends a
# session after SESSION_IDLE_MINUTES_* without a request (by role) or
# SESSION_ABSOLUTE_HOURS after login, whichever comes first.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_SECONDS_CLIENT = 60 * env_int("SESSION_IDLE_MINUTES_CLIENT", 120)
SESSION_IDLE_SECONDS_INTERNAL = 60 * env_int("SESSION_IDLE_MINUTES_INTERNAL", 30)  # staff and consultants
SESSION_ABSOLUTE_SECONDS = 3600 * env_int("SESSION_ABSOLUTE_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS  # rows left behind expire too (clearsessions)

# ---------------------------------------------------------------- logging
# LOG_FORMAT=json: one JSON object per line (portal/logging.py). In every format
# known secret shapes (shop keys, Fernet tokens, Authorization, password=...) are
# redacted from messages and tracebacks by a filter on the handler.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.logging.RequestIdFilter"},
        "redact": {"()": "portal.logging.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "portal.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if env_str("LOG_FORMAT", "plain") == "json" else "plain",
            "filters": ["request_id", "redact"],
        },
        # ERROR records of the loggers below, e-mailed to ADMINS (none: nothing is sent).
        "mail_admins": {
            "level": "ERROR",
            "class": "portal.monitoring.RedactingAdminEmailHandler",
            "filters": ["require_debug_false", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # 500s (django.request) and failed background tasks (django-q2 logs "Failed ..."; our
        # tasks log their own failures, e.g. an e-mail given up, under the app's logger).
        "django": {"handlers": ["mail_admins"], "level": LOG_LEVEL},
        "django-q": {"handlers": ["mail_admins"], "level": LOG_LEVEL},
        "portal.mail": {"handlers": ["mail_admins"], "level": LOG_LEVEL},
        "weasyprint": {"level": "WARNING"},  # its INFO is a line per rendering step
        "fontTools": {"level": "WARNING"},
    },
}
