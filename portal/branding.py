"""The consultancy's brand on every page: name, logo, contact and colours (settings.CONSULTANCY).

The colours reach the page as a small stylesheet of our own (`brand_css`, served at a versioned
URL and cached for a year): the Content-Security-Policy allows no inline style, and one
stylesheet keeps every page, button and chart in the same two colours.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.conf import settings


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _mix(colour: str, other: str, share: float) -> str:
    """`colour` moved `share` of the way towards `other` (both #rrggbb)."""
    mixed = (round(a + (b - a) * share) for a, b in zip(_rgb(colour), _rgb(other), strict=True))
    return "#" + "".join(f"{value:02x}" for value in mixed)


@cache
def brand_css() -> str:
    """The brand's custom properties and the few Bootstrap variables they replace."""
    main, accent = settings.CONSULTANCY["color"], settings.CONSULTANCY["accent"]
    dark, light = _mix(main, "#000000", 0.25), _mix(main, "#ffffff", 0.88)
    r, g, b = _rgb(main)
    return (
        ":root{"
        f"--brand:{main};--brand-dark:{dark};--brand-light:{light};--brand-accent:{accent};"
        f"--bs-primary:{main};--bs-primary-rgb:{r},{g},{b};--bs-link-color:{main};--bs-link-color-rgb:{r},{g},{b};"
        f"--bs-link-hover-color:{dark};--bs-link-hover-color-rgb:{','.join(map(str, _rgb(dark)))};"
        f"--bs-focus-ring-color:rgba({r},{g},{b},.35)}}"
        f".btn-primary{{--bs-btn-bg:{main};--bs-btn-border-color:{main};--bs-btn-hover-bg:{dark};"
        f"--bs-btn-hover-border-color:{dark};--bs-btn-active-bg:{dark};--bs-btn-active-border-color:{dark};"
        f"--bs-btn-disabled-bg:{main};--bs-btn-disabled-border-color:{main}}}"
        f".btn-outline-primary{{--bs-btn-color:{main};--bs-btn-border-color:{main};--bs-btn-hover-bg:{main};"
        f"--bs-btn-hover-border-color:{main};--bs-btn-active-bg:{dark};--bs-btn-active-border-color:{dark}}}"
        f".progress{{--bs-progress-bar-bg:{main}}}"
        f".form-control:focus,.form-select:focus,.form-check-input:focus{{border-color:{main}}}"
        f".form-check-input:checked{{background-color:{main};border-color:{main}}}\n"
    )


@cache
def css_version() -> str:
    return hashlib.sha256(brand_css().encode()).hexdigest()[:12]


def brand() -> dict:
    consultancy = settings.CONSULTANCY
    return {
        "name": consultancy["name"],
        "short_name": consultancy["short_name"],
        "logo": consultancy["logo"],
        "email": consultancy["contact_email"],
        "phone": consultancy["phone"],
        "website": consultancy["website"],
        "css_version": css_version(),
    }
