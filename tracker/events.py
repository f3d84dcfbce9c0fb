"""Facts the pipeline emits. The publisher, the replay summary and the dashboard read these.

Every event carries ``t_s``: the session time (sensor clock, seconds) at which the fact became
known, so a rep's event time minus its ``t_end_s`` is the algorithmic delay. Field names are the
ones used in the replay JSON and MQTT payloads (docs/mqtt.md); extend, do not rename.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

Exercise = str
"""The JSON name of an exercise of the registry (:mod:`tracker.pipeline.exercises`): ``squat``,
``single_leg_squat``, ``deadlift``, ``single_leg_deadlift``, ``lunge``, ... (docs/pipeline.md)."""

Leg = Literal["left", "right", "both", "unknown"]
Phase = Literal["idle", "standing", "descent", "bottom", "ascent", "hold", "rest"]


@dataclass(frozen=True, slots=True)
class Rep:
    """One repetition: when, how deep, how fast."""

    n: int  # 1-based number within its set
    t_start_s: float
    t_bottom_s: float
    t_end_s: float
    depth_deg: float  # peak thigh flexion from standing, degrees
    descent_s: float
    bottom_s: float  # time held near the bottom
    ascent_s: float
    peak_velocity_dps: float  # peak thigh angular speed in the sagittal plane
    wobble: dict[str, float] | None = None  # sway metrics during the rep (docs/pipeline.md)

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    def to_json(self) -> dict[str, Any]:
        # every field in order, as dataclasses.asdict gives them, without its recursive deep copy
        # (a live service publishes every rep); the wobble dict is copied, as asdict does
        d = {name: getattr(self, name) for name in _REP_FIELDS}
        if self.wobble is not None:
            d["wobble"] = dict(self.wobble)
        d["duration_s"] = self.duration_s
        return d


_REP_FIELDS = tuple(f.name for f in fields(Rep))


@dataclass(frozen=True, slots=True)
class RepEvent:
    """A rep was completed (emitted as soon as the athlete is back up)."""

    t_s: float
    set_index: int  # 1-based set number in the session
    exercise: Exercise  # best guess so far; the set event has the final word
    leg: Leg
    rep: Rep
    kind: Literal["rep"] = "rep"


@dataclass(frozen=True, slots=True)
class SetEvent:
    """A set ended (after a rest, or at the end of the session)."""

    t_s: float
    index: int
    exercise: Exercise
    leg: Leg
    start_s: float
    end_s: float
    reps: tuple[Rep, ...]
    wobble: dict[str, float] | None = None
    summary: dict[str, float] = field(default_factory=dict)  # e.g. mean depth, depth trend
    kind: Literal["set"] = "set"

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "exercise": self.exercise,
            "leg": self.leg,
            "reps": len(self.reps),
            "start_s": self.start_s,
            "end_s": self.end_s,
            "wobble": self.wobble,
            "summary": self.summary,
            "reps_detail": [r.to_json() for r in self.reps],
        }


@dataclass(frozen=True, slots=True)
class WobbleEvent:
    """Sway rose well above the athlete's own baseline (or the free foot touched down)."""

    t_s: float
    set_index: int
    level: float  # current sway metric (docs/pipeline.md)
    baseline: float
    balance_loss: bool = False
    kind: Literal["wobble"] = "wobble"


@dataclass(frozen=True, slots=True)
class PhaseEvent:
    """The athlete's movement phase changed; feeds the retained MQTT ``state``."""

    t_s: float
    phase: Phase
    set_index: int | None
    exercise: Exercise | None
    reps_in_set: int
    kind: Literal["phase"] = "phase"


Event = RepEvent | SetEvent | WobbleEvent | PhaseEvent
