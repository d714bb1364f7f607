"""Shared fixtures. Real media come from ../shared/data (never copied into the repo); tests that
need them skip with a clear message where that folder is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(os.environ.get("UNMASK_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared research media folder (set UNMASK_DATA to use another location)."""
    if not (DATA / "labels.csv").exists():
        pytest.skip(f"shared research data not found at {DATA} (set UNMASK_DATA)")
    return DATA
