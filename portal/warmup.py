"""Everything a worker would otherwise do on its first requests, done once in gunicorn's master
before it forks (deploy/gunicorn.conf.py: preload_app and when_ready).

A worker that gunicorn recycles (max_requests) is then a fork of a warm process: no import of
Django and the apps, no URL resolver to build, no template to parse, no translation catalogue to
read, while the other workers keep serving. No database connection is opened here: a connection
made in the master would be shared by every child.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import TemplateDoesNotExist, engines
from django.urls import get_resolver
from django.utils import translation


def templates() -> list[str]:
    """Every template of the project's templates/ directory, by name."""
    root = Path(settings.BASE_DIR) / "templates"
    return sorted(str(path.relative_to(root)) for path in root.rglob("*.html") if path.is_file())


def warm() -> int:
    """Load what the first requests would; returns how many templates were compiled."""
    get_resolver()._populate()
    compiled = 0
    engine = engines["django"]
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Sign in")  # reads the language's catalogue
    for name in templates():
        try:
            engine.get_template(name)  # parsed and kept by the cached loader
        except TemplateDoesNotExist:
            continue
        compiled += 1
    connections.close_all()
    return compiled
