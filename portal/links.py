"""Addresses of objects in long lists, without a full `reverse()` for each row.

`reverse()` walks the URL resolver every time; a list of fifty rows with three links each spent
more time there than in its query. The pattern of a URL name is reversed once with a
placeholder and then filled in: the same address `reverse(name, args=[value])` gives, for the
patterns of one string argument (codes, public ids) this is used for.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import reverse

_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"  # fits <str:...> and <uuid:...> alike


@lru_cache(maxsize=64)
def _pattern(name: str, script_prefix: str) -> str:
    return reverse(name, args=[_PLACEHOLDER])


def link(name: str, value: object) -> str:
    from django.urls import get_script_prefix

    return _pattern(name, get_script_prefix()).replace(_PLACEHOLDER, str(value), 1)
