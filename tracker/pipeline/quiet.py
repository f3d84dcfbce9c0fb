"""Runs of quiet samples carried across chunks: the one helper behind "still for a while".

The mounting finder (quiet standing gives the thigh axis), the rep detector's pause (quiet standing
re-learns the standing angle) and its hold phase (quiet after sitting) all ask how long each sample
has been quiet. A run may have begun in an earlier chunk, so the answer depends on a value carried
from chunk to chunk; the same vectorised rule everywhere keeps every chunking's result the same.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracker.samples import FloatArray

IntArray = npt.NDArray[np.intp]


def quiet_run_starts(quiet: npt.NDArray[np.bool_]) -> IntArray:
    """Per sample: the index in this chunk where its quiet run began, or -1 when that run began in
    an earlier chunk (every sample since the chunk's start is quiet). For a sample that is not
    quiet the value is the next sample's (or the last index): callers mask those."""
    m = len(quiet)
    last_break = np.maximum.accumulate(np.where(quiet, -1, np.arange(m)))
    return np.where(last_break >= 0, np.minimum(last_break + 1, m - 1), -1)


def carried(values: FloatArray, first: IntArray, before: float) -> FloatArray:
    """``values`` at each sample's run start, ``before`` for a run carried from an earlier chunk."""
    return np.where(first >= 0, values[np.maximum(first, 0)], before)


def quiet_since_s(t_s: FloatArray, quiet: npt.NDArray[np.bool_], since_s: float | None) -> FloatArray:
    """Start time of each sample's quiet run; a run carried from an earlier chunk began at
    ``since_s`` (None: no run was going on, so it begins at this chunk's first sample)."""
    return carried(t_s, quiet_run_starts(quiet), t_s[0] if since_s is None else since_s)


def still_going(start_s: FloatArray, quiet: npt.NDArray[np.bool_]) -> float | None:
    """The start time to carry into the next chunk: the last run's, if it is still quiet."""
    return float(start_s[-1]) if quiet[-1] else None
