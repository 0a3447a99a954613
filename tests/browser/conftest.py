"""Shared fixtures of the browser tests."""

import pytest


@pytest.fixture
def violations(page):
    """Chromium's console reports of anything the CSP refused."""
    seen: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and seen.append(message.text))
    return seen
