"""Vendored third-party data is byte-for-byte what its README says (source, licence, checksum)."""

from __future__ import annotations

import hashlib
from pathlib import Path

PENGUINS = Path(__file__).parents[1] / "fixtures" / "data" / "penguins"
PENGUINS_SHA256 = "f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93"


def test_penguins_csv_matches_its_recorded_checksum() -> None:
    digest = hashlib.sha256((PENGUINS / "penguins.csv").read_bytes()).hexdigest()
    assert digest == PENGUINS_SHA256
    assert PENGUINS_SHA256 in (PENGUINS / "README.md").read_text()


def test_penguins_licence_is_shipped_with_the_data() -> None:
    assert "CC0" in (PENGUINS / "LICENSE").read_text()
    assert "palmerpenguins" in (PENGUINS / "README.md").read_text()
