"""The business clock (portal/clock.py) is the one place that says what day it is for the business."""

import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.test import override_settings

from portal import clock

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal/", "engagements/", "billing/", "bench/")


def test_a_utc_evening_is_already_tomorrow_nowhere_but_it_is_still_today_in_santiago():
    late = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)  # 23:30 on 1 March in Santiago (UTC-3 in summer)
    with override_settings(TIME_ZONE="America/Santiago"):
        assert clock.local_date(late) == date(2026, 3, 1)
        assert clock.local(late).hour == 23
    with override_settings(TIME_ZONE="UTC"):
        assert clock.local_date(late) == date(2026, 3, 2)


def test_today_is_the_business_day_of_now(monkeypatch):
    monkeypatch.setattr(clock.timezone, "now", lambda: datetime(2026, 7, 1, 3, 59, tzinfo=UTC))  # 23:59, 30 June
    with override_settings(TIME_ZONE="America/Santiago"):
        assert clock.today() == date(2026, 6, 30)


# Other spellings of "today in the business time zone" (and of the zone itself) than portal/clock.py's.
SPELLINGS = re.compile(
    r"ZoneInfo\(settings\.TIME_ZONE\)|timezone\.local(?:date|time)\(|def _?today\(|def business_tz\("
)


@pytest.mark.parametrize("spelling", ["ZoneInfo(settings.TIME_ZONE)", "timezone.localdate()", "def _today():"])
def test_the_guard_recognises_another_spelling(spelling):
    assert SPELLINGS.search(spelling)


def test_no_other_module_spells_the_business_day():
    tracked = subprocess.run(["git", "ls-files", *APPS], cwd=ROOT, capture_output=True, text=True, check=True)
    sources = [p for p in tracked.stdout.split() if p.endswith(".py") and "/migrations/" not in p]
    offenders = [
        f"{path}:{number}: {line.strip()}"
        for path in sources
        if path != "portal/clock.py"
        for number, line in enumerate((ROOT / path).read_text().splitlines(), start=1)
        if SPELLINGS.search(line)
    ]
    assert offenders == []
