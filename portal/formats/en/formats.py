"""English, as read in Chile: the same dates and numbers as Spanish (see portal/formats/__init__.py)."""

from portal.formats.es.formats import *  # noqa: F403
