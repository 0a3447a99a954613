"""The business clock: what time and what day it is where the business is (settings.TIME_ZONE,
America/Santiago by default), for the whole project.

"Today" and every date taken from a moment come from here. Day counts follow the house rule:
convert to the business time zone first, then take the date, then subtract dates. The pure rules
(engagements/rules.py, billing/money.py) import nothing from the project: they take the time zone
as an argument, and their callers pass `business_tz()`.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def business_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local(moment: datetime | None = None) -> datetime:
    """`moment` (default: now) as the business clock reads it."""
    return (moment or timezone.now()).astimezone(business_tz())


def local_date(moment: datetime | None = None) -> date:
    """The business day `moment` (default: now) falls on."""
    return local(moment).date()


def today() -> date:
    return local_date()
