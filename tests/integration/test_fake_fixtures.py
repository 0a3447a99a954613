"""The shop payloads the fakes carry are the recorded ones in shared/fixtures, unchanged."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "fixtures" / "shops" / "woocommerce"
COPIES = sorted((ROOT / "tests" / "fakes" / "data" / "woocommerce").glob("*.json"))


@pytest.mark.parametrize("copy", COPIES, ids=[c.name for c in COPIES])
def test_the_copy_matches_the_shared_fixture(copy):
    assert copy.read_bytes() == (SHARED / copy.name).read_bytes()
