"""Shared test fixtures: where the repository and the real recordings are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# The shared recordings beside the repository, or beside the folder of worktrees it sits in.
SHARED_DATA_DIR = next(
    (p / "shared" / "data" for p in REPO_ROOT.parents[:2] if (p / "shared" / "data").is_dir()),
    REPO_ROOT.parent / "shared" / "data",
)
REAL_DATA_DIR = SHARED_DATA_DIR / "cmu-thigh"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real thigh recordings (../shared/data/cmu-thigh), read in place, never copied."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real recordings not found at {REAL_DATA_DIR}")
    return REAL_DATA_DIR


@pytest.fixture(autouse=True, scope="session")
def _private_config_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read or write the user's own calibrations: an empty config dir unless a test
    sets its own (child processes inherit it)."""
    os.environ["REPTRACK_CONFIG_DIR"] = str(tmp_path_factory.mktemp("reptrack-config"))
