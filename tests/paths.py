"""Where the repository and the shared real recordings are, in one place for every test module.

The recordings live beside the repository (``../shared/data``) and are read in place, never copied.
A git worktree sits deeper (``/work/wt/NAME``), so the first ancestor of the repository that holds
``shared/data`` is used; ``REPTRACK_SHARED_DATA`` overrides the search.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    override = os.environ.get("REPTRACK_SHARED_DATA")
    if override:
        return Path(override)
    for ancestor in REPO_ROOT.parents:
        candidate = ancestor / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return REPO_ROOT.parent / "shared" / "data"  # absent: the tests that need it skip and say where


SHARED_DATA_DIR = _shared_data_dir()
CMU_THIGH_DIR = SHARED_DATA_DIR / "cmu-thigh"
DAILY_DIR = SHARED_DATA_DIR / "daily"
