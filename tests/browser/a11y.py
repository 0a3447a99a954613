"""What the browser tests check on every page a person reads: axe-core's serious and critical
violations (axe is vendored under tests/browser/vendor/, injected by Playwright, never served by
the portal), English words left in a Spanish page, and a screenshot at desktop and phone width."""

from __future__ import annotations

import re
from pathlib import Path

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WIDTHS = {1366: 768, 390: 844}

# Words of the English UI that have no place in a Spanish page (whole words, case-sensitive).
ENGLISH = [
    "the", "and", "your", "you", "with", "from", "Engagement", "Engagements", "Payment", "Payments", "Quote",
    "Quotes", "Invoice", "Session", "Sessions", "Request", "Requests", "Due", "Overdue", "Balance", "Waiting",
    "Progress", "History", "Timeline", "Pipeline", "Finance", "Workspace", "Save", "Send", "Submit", "Cancel",
    "Download", "Pending", "Paid", "Issued", "Draft", "Active", "Closed", "Client", "Clients", "Settings",
    "Delivery", "Estimated", "Nothing", "items", "days", "weeks", "months", "Previous", "Next", "Page", "need",
    "action", "Sign", "Status", "owe", "What", "When", "Runs", "Failed", "Succeeded", "Orders", "Shop",
]  # fmt: skip
ENGLISH_RE = re.compile(r"\b(" + "|".join(ENGLISH) + r")\b")

SERIOUS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} -> ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}"""


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations of the page as it is now. Evaluated through the
    DevTools protocol, which the page's Content-Security-Policy does not apply to."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE)
    return page.evaluate(SERIOUS)


def english_words(page) -> list[str]:
    return sorted(set(ENGLISH_RE.findall(page.inner_text("body"))))


def check_page(page, folder: str, name: str) -> None:
    """At each width: no serious or critical axe violation, nothing wider than the screen, a
    full-page screenshot; and no English word."""
    out = ARTIFACTS / folder
    out.mkdir(parents=True, exist_ok=True)
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, f"{name} is wider than {width}"
        violations = axe_violations(page)
        assert not violations, f"{name} at {width} px: " + "; ".join(violations)
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
    assert english_words(page) == [], (name, page.url)
