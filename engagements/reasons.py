"""Reasons the portal writes by itself (on the timeline, on credits) are stored in English: stable
codes that logs and support can search for. People read them in their language, through
`reason_text`. A reason typed by a person is shown as typed.

Each app registers the reasons it writes (billing from its AppConfig.ready()); a template with
placeholders (`%(days)d`, `%(number)s`) also matches the stored text it produced.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

_templates: dict[str, re.Pattern[str]] = {}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)([sd])", template)
    regex = ""
    for index, part in enumerate(parts):
        if index % 3 == 0:
            regex += re.escape(part)
        elif index % 3 == 1:
            regex += rf"(?P<{part}>\d+)" if parts[index + 1] == "d" else rf"(?P<{part}>.+?)"
    return re.compile(f"^{regex}$")


def register(*templates: str) -> None:
    for template in templates:
        _templates.setdefault(template, _pattern(template))


def reason_text(reason: str) -> str:
    """The stored reason in the active language (unchanged when it is not one of ours)."""
    for template, pattern in _templates.items():
        found = pattern.match(reason)
        if found:
            values = {k: int(v) if v.isdigit() else v for k, v in found.groupdict().items()}
            return gettext(template) % values if values else gettext(template)
    return reason


LEAD_CONVERTED = gettext_noop("lead converted")
ANSWER_REACTIVATES = gettext_noop("client answered the request the wait was about")
R1_REASON = gettext_noop("R1: latest formal request unanswered for more than %(days)d days")
R2_REASON = gettext_noop("R2: waiting on the client for %(days)d days")
register(LEAD_CONVERTED, ANSWER_REACTIVATES, R1_REASON, R2_REASON, gettext_noop("R1"))
