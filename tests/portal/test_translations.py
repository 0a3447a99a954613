"""Every string is translatable and the Spanish catalogue is complete."""

import shutil
import subprocess
import sys
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["manage.py", "portal", "engagements", "billing", "books", "templates", "locale"]


def _entries(po: Path, flag: str) -> int:
    out = subprocess.run(["msgattrib", flag, str(po)], capture_output=True, text=True, check=True).stdout
    # The header entry (msgid "") is not a string to translate.
    return sum(1 for line in out.splitlines() if line.startswith("msgid ") and line != 'msgid ""')


def test_makemessages_leaves_no_untranslated_or_fuzzy_spanish_entry(tmp_path):
    """Run makemessages on a copy of the tree, as a developer would, and read the result."""
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-obsolete", "-v0"],
        cwd=tmp_path,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
        check=True,
        capture_output=True,
        text=True,
    )
    po = tmp_path / "locale/es/LC_MESSAGES/django.po"
    assert _entries(po, "--untranslated") == 0, subprocess.run(
        ["msgattrib", "--untranslated", str(po)], capture_output=True, text=True
    ).stdout
    assert _entries(po, "--only-fuzzy") == 0


def test_spanish_is_the_default_and_english_is_available(client):
    assert 'lang="es"' in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in page and "Sign in" in page
    with translation.override("es"):
        assert translation.gettext("Sign in") != "Sign in"
