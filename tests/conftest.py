"""Shared fixtures: where the real NTU samples live (../shared, absent in a user's clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
NTU_SAMPLES = Path(os.environ.get("STA_HANDS_NTU_SAMPLES", REPO.parent / "shared" / "samples" / "ntu"))


@pytest.fixture(scope="session")
def ntu_samples() -> Path:
    """The folder of real NTU RGB+D files; the test skips where it is absent (their licence bars copies)."""
    if not NTU_SAMPLES.is_dir():
        pytest.skip(f"real NTU samples not found at {NTU_SAMPLES} (set STA_HANDS_NTU_SAMPLES)")
    return NTU_SAMPLES
