"""Shared fixtures: the path to ../shared, which tests that need real data skip without."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip with a clear message when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"needs the shared data folder at {SHARED} (mocap, media), which is absent here")
    return SHARED
