"""gunicorn settings for the portal: `gunicorn -c deploy/gunicorn.conf.py portal.wsgi`.

Every value can be overridden from the environment (GUNICORN_*), e.g. in the
systemd unit's EnvironmentFile. The access log never shows query strings, and
the secret part of token URLs (webhook, invitation, e-mail confirmation,
password reset) is masked, because anyone who reads the log could otherwise
post to a webhook or accept an invitation.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

# The one masking rule for token paths, shared with the application's log filter (gunicorn has
# put the working directory, the checkout, on sys.path before it reads this file).
from portal.logging import mask_path

# Loopback by default: nginx is in front, and Django trusts its X-Forwarded-Proto.
# Platforms that run the Procfile and route to $PORT get gunicorn's own rule.
_default_bind = f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"
bind = os.environ.get("GUNICORN_BIND", _default_bind).split(",")
# gunicorn's rule of thumb: 2 * cores + 1 sync workers.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# A request (e.g. a PDF rendered on demand) gets this long before the worker is
# restarted; long work belongs to the django-q2 worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so that slow memory growth (WeasyPrint, fonts) stays bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "100"))
# Load the application in the master and warm it (portal/warmup.py) before forking: a worker
# started by the recycling above is then a fork of a warm process and serves at once, instead of
# spending a second or two of a shared core importing Django while requests wait. The price: HUP
# (`systemctl reload portal-web`) reloads this file and restarts the workers but not the code;
# new code needs `systemctl restart portal-web`, as the README says.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"


def when_ready(server):
    """In the master, once the application is loaded and before the first worker is forked."""
    if preload_app:
        from portal.warmup import warm

        server.log.info("warm-up: %d templates compiled before forking", warm())


# gunicorn 27's control socket lives in $HOME; the service user needs none.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")  # "-": stdout, i.e. the journal
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Like "combined" without the query string (%(U)s is the path only) and without
# the referrer (another page's URL, with its query string); %(L)s: seconds taken.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(L)s'


class MaskingLogger(Logger):
    """gunicorn's logger, with the request line reduced to a masked path."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = mask_path(atoms["U"] or "")
        atoms.update(U=path, q="-", f="-", r=f"{atoms['m']} {path} {atoms['H']}")
        atoms.update({key: "-" for key in atoms if key in ("{referer}i", "{cookie}i", "{authorization}i")})
        return atoms

    def exception(self, msg, *args, **kwargs):
        # "Error handling request %s" carries the full URI, query string included.
        super().exception(msg, *(mask_uri(arg) for arg in args), **kwargs)


def mask_uri(value):
    """A request URI as the logs may show it: masked path, no query string."""
    if isinstance(value, str) and value.startswith("/"):
        return mask_path(value.split("?", 1)[0])
    return value


logger_class = MaskingLogger
