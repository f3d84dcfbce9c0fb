"""Balance losses (the free foot touching down in single-leg work) do not depend on the sample
rate: the same session resampled to 25 and to 200 Hz finds the same touchdowns, and quiet
single-leg work finds none at any rate (issue 11; docs/pipeline.md, "The jolt")."""

from __future__ import annotations

from typing import Any

import pytest

from bench.accuracy import resampled, run_pipeline
from tests import workouts
from tracker.events import SetEvent, WobbleEvent

#: single-leg squats on the free leg with the sensor on it, no touchdown
QUIET_SINGLE_LEG = workouts.script(
    *workouts.WARM_UP,
    workouts.step("single_leg_squat", leg="left", reps=8, free_leg="hover", rest_s=15),
    workouts.step("single_leg_squat", leg="right", reps=8, free_leg="knee", rest_s=15),
)


def _losses(events: list[Any]) -> list[tuple[float, int | None]]:
    return [(e.t_s, e.set_index) for e in events if isinstance(e, WobbleEvent) and e.balance_loss]


def test_same_touchdown_at_25_and_200_hz() -> None:
    """The free foot dropped from the standing knee to the floor, seen by a sensor on that thigh:
    the same event, in the same set, at both rates (the step of |f| from one sample to the next
    found it only at 100 Hz, and saw many more at 25 and 50 Hz)."""
    session = workouts.simulated(workouts.FREE_LEG_SINGLE_LEG_WORK, 7, "right")
    (loss,) = session.truth.to_json()["balance_losses"]
    found = {rate: _losses(run_pipeline(resampled(session.samples(), rate))) for rate in (25.0, 200.0)}
    for losses in found.values():
        assert [round(t - loss["t_s"]) for t, _ in losses] == [0]
    assert [i for _, i in found[25.0]] == [i for _, i in found[200.0]]
    assert abs(found[25.0][0][0] - found[200.0][0][0]) < 0.2


@pytest.mark.parametrize("rate_hz", [25.0, 50.0, 200.0])
def test_no_balance_loss_in_single_leg_work_without_one(rate_hz: float) -> None:
    session = workouts.simulated(QUIET_SINGLE_LEG, 1, "left")
    assert session.truth.to_json()["balance_losses"] == []
    events = run_pipeline(resampled(session.samples(), rate_hz))
    assert [s.exercise for s in events if isinstance(s, SetEvent)][-2:] == ["single_leg_squat"] * 2
    assert _losses(events) == []
