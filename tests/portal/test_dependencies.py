"""The lock files are what gets installed, and they say what the requirements say.

requirements*.txt are the lists people edit; `make lock` compiles them into
requirements*.lock, every package of the tree pinned and hashed. These tests
fail when someone edits a list and forgets the lock, or installs around it.
"""

import re
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s\\;#]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if match := PIN.match(line.strip()):
            pins[_name(match[1])] = match[2]
    return pins


def _locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for each entry of a pip-compile lock."""
    entries, current = {}, None
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            current = _name(match[1])
            entries[current] = (match[2], 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = entries[current]
            entries[current] = (version, hashes + 1)
    return entries


@pytest.mark.parametrize(
    ("listed", "lock"), [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]
)
def test_the_lock_pins_every_listed_requirement_at_its_version(listed, lock):
    locked = _locked(ROOT / lock)
    wanted = _pins(ROOT / listed)
    if listed == "requirements-dev.txt":
        wanted |= _pins(ROOT / "requirements.txt")
    assert wanted, listed
    assert {name: locked.get(name, ("missing", 0))[0] for name in wanted} == wanted


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_carries_a_hash(lock):
    locked = _locked(ROOT / lock)
    assert len(locked) > 30
    assert [name for name, (_, hashes) in locked.items() if hashes == 0] == []


def test_the_runtime_and_development_locks_agree():
    runtime, development = _locked(ROOT / "requirements.lock"), _locked(ROOT / "requirements-dev.lock")
    assert {name: development.get(name, ("missing",))[0] for name in runtime} == {
        name: version for name, (version, _) in runtime.items()
    }


def test_this_environment_was_installed_from_the_lock():
    wrong = {}
    for name, (version, _) in _locked(ROOT / "requirements-dev.lock").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            wrong[name] = (installed, version)
    assert wrong == {}


def test_nothing_in_the_repository_reads_outside_it():
    """A clone has nothing beside it: no code, script or fixture may name a sibling folder."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    code = [
        p for p in tracked if p.endswith((".py", ".sh", ".html", ".toml", ".cfg", ".ini", ".txt")) or p == "Makefile"
    ]
    pattern = re.compile(r"\.\./shared|parents?\[\d\]\s*/\s*\"shared\"|\"shared\"\s*/\s*\"fixtures\"")
    offenders = [p for p in code if pattern.search((ROOT / p).read_text(errors="replace"))]
    assert offenders == []
