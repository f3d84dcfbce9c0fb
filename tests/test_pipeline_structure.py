"""The pipeline's parts on their own: the set's running median."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tracker.pipeline.sets import RunningMedian

depths = st.floats(min_value=0.0, max_value=180.0, allow_nan=False)


@given(st.lists(depths, min_size=1, max_size=60))
def test_running_median_equals_the_median_of_all_values_at_every_step(values: list[float]) -> None:
    running = RunningMedian()
    for k, value in enumerate(values):
        running.add(value)
        assert len(running) == k + 1
        assert running.median() == float(np.median(values[: k + 1]))
