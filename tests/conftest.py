"""Shared test fixtures: where the repository and the real recordings are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.paths import CMU_THIGH_DIR, REPO_ROOT

REAL_DATA_DIR = CMU_THIGH_DIR
__all__ = ["REAL_DATA_DIR", "REPO_ROOT"]


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
