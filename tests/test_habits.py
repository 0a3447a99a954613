"""Habits the suite keeps: the integration and the pure rules type-check (mypy with django-stubs,
strict where the code is pure; pyproject.toml [tool.mypy]), the templates pass djlint's lint rules,
and no comment or docstring cites a document outside the repository (a clone has nothing beside it).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Where code cites the reference material kept outside the repository (research notes, the service
# sheet, the domain and architecture notes).
OUTSIDE = re.compile(r"\bresearch\b|§|\.\./shared|\bDOMAIN\.md|\bARCHITECTURE\.md|STACK-NOTES|\bseeds/", re.I)
SOURCES = (".py", ".html", ".sh", ".toml", ".yaml", ".yml", ".txt", ".cfg", ".ini")


def _run(*command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings_test"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_the_integration_and_the_pure_rules_type_check():
    (ROOT / "var").mkdir(exist_ok=True)  # mypy's cache
    done = _run(str(BIN / "mypy"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_the_templates_pass_djlint():
    done = _run(str(BIN / "djlint"), "templates", "--lint")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Linted [1-9]\d* files, found 0 errors", done.stdout), done.stdout


def test_the_pre_commit_configuration_is_valid():
    done = _run(str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_comment_cites_a_document_outside_the_repository():
    tracked = _run("git", "ls-files").stdout.split()
    sources = [p for p in tracked if p.endswith(SOURCES) or p == "Makefile"]
    assert len(sources) > 100
    offenders = [
        f"{path}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate((ROOT / path).read_text(errors="replace").splitlines(), start=1)
        if OUTSIDE.search(line) and path != "tests/test_habits.py" and "/vendor/" not in path  # licences of others
    ]
    assert offenders == []
