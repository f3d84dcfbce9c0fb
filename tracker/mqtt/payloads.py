"""JSON payloads of the MQTT topics, one builder per topic (docs/mqtt.md, docs/schemas/).

Every payload carries ``schema`` (``reptrack.<topic>/<version>``; the version goes up only on an
incompatible change, new optional fields keep it), ``sensor``, ``session`` and ``sent_at`` (Unix
time of publication, for latency). Events carry an ``id`` that stays the same when the message is
delivered twice, so a subscriber can drop duplicates: ``<sensor>/<session>/<set>/<rep>`` for a rep.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tracker.events import Event, PhaseEvent, RepEvent, SetEvent, WobbleEvent

if TYPE_CHECKING:  # the Sink seam's type; the service imports this module, so not at run time
    from tracker.service.seams import Telemetry

SCHEMA_VERSION = 1
SCHEMAS = ("status", "state", "rep", "set", "wobble", "telemetry", "plan")


def schema_name(kind: str) -> str:
    return f"reptrack.{kind}/{SCHEMA_VERSION}"


def clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null, numpy scalars plain numbers, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return clean(value.item())
    return str(value)


def encode(payload: Mapping[str, Any]) -> bytes:
    try:  # the usual payload is plain JSON already: no copy
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError):  # NaN, infinities, numpy scalars, other objects: cleaned first
        return json.dumps(clean(payload), separators=(",", ":"), allow_nan=False).encode()


def _head(kind: str, sensor: str, session: str) -> dict[str, Any]:
    return {"schema": schema_name(kind), "sensor": sensor, "session": session, "sent_at": time.time()}


def event_id(sensor: str, session: str, event: Event, wobble_count: int = 0) -> str:
    """The dedup id of an event: the same event always gets the same id within a session."""
    if isinstance(event, RepEvent):
        return f"{sensor}/{session}/{event.set_index}/{event.rep.n}"
    if isinstance(event, SetEvent):
        return f"{sensor}/{session}/{event.index}/set"
    if isinstance(event, WobbleEvent):
        return f"{sensor}/{session}/{event.set_index}/wobble/{wobble_count}"
    raise TypeError(f"{type(event).__name__} is not published as an event")


def rep_payload(sensor: str, session: str, ev: RepEvent) -> dict[str, Any]:
    return {
        **_head("rep", sensor, session),
        "id": event_id(sensor, session, ev),
        "t_s": ev.t_s,
        "set_index": ev.set_index,
        "exercise": ev.exercise,
        "leg": ev.leg,
        "rep": ev.rep.to_json(),
    }


def set_payload(sensor: str, session: str, ev: SetEvent) -> dict[str, Any]:
    return {
        **_head("set", sensor, session),
        "id": event_id(sensor, session, ev),
        "t_s": ev.t_s,
        **ev.to_json(),
    }


def wobble_payload(sensor: str, session: str, ev: WobbleEvent, count: int) -> dict[str, Any]:
    return {
        **_head("wobble", sensor, session),
        "id": event_id(sensor, session, ev, count),
        "t_s": ev.t_s,
        "set_index": ev.set_index,
        "level": ev.level,
        "baseline": ev.baseline,
        "balance_loss": ev.balance_loss,
    }


def event_message(
    sensor: str, session: str, ev: Event, wobble_count: int
) -> tuple[str, dict[str, Any]] | None:
    """The topic leaf (``event/rep``, ...) and payload of an event; None for a phase change
    (which only updates ``state``). ``wobble_count`` numbers this sensor's wobble events."""
    if isinstance(ev, RepEvent):
        return "event/rep", rep_payload(sensor, session, ev)
    if isinstance(ev, SetEvent):
        return "event/set", set_payload(sensor, session, ev)
    if isinstance(ev, WobbleEvent):
        return "event/wobble", wobble_payload(sensor, session, ev, wobble_count)
    if isinstance(ev, PhaseEvent):
        return None
    raise TypeError(f"cannot publish {type(ev).__name__}")


def status_payload(sensor: str, session: str, online: bool, reason: str = "") -> dict[str, Any]:
    from tracker import __version__

    return {
        **_head("status", sensor, session),
        "status": "online" if online else "offline",
        "reason": reason,
        "version": __version__,
    }


class StateTracker:
    """Keeps the retained ``state`` of one sensor up to date from the events it sees.

    The pipeline's own ``state`` dict (phase, exercise, set_index, reps_in_set, total_reps) can be
    merged in with :meth:`update`; events alone are enough otherwise.
    """

    def __init__(self) -> None:
        self.phase: str = "idle"
        self.exercise: str | None = None
        self.leg: str | None = None
        self.set_index: int | None = None
        self.reps_in_set = 0
        self.total_reps = 0
        self.sets_done = 0
        self.last_rep: dict[str, Any] | None = None
        self.wobble: float | None = None
        self.battery_pct: float | None = None
        self.t_s = 0.0

    def apply(self, ev: Event) -> None:
        self.t_s = max(self.t_s, ev.t_s)
        if isinstance(ev, RepEvent):
            if ev.set_index != self.set_index:
                self.reps_in_set = 0
            self.set_index = ev.set_index
            self.exercise = ev.exercise
            self.leg = ev.leg
            self.reps_in_set = max(self.reps_in_set, ev.rep.n)
            self.total_reps += 1
            self.last_rep = {
                "set_index": ev.set_index,
                "n": ev.rep.n,
                "depth_deg": ev.rep.depth_deg,
                "duration_s": ev.rep.duration_s,
                "descent_s": ev.rep.descent_s,
                "ascent_s": ev.rep.ascent_s,
            }
        elif isinstance(ev, SetEvent):
            self.set_index = ev.index
            self.exercise = ev.exercise
            self.leg = ev.leg
            self.reps_in_set = len(ev.reps)
            self.sets_done = max(self.sets_done, ev.index)
            self.phase = "rest"
        elif isinstance(ev, WobbleEvent):
            self.wobble = ev.level
        elif isinstance(ev, PhaseEvent):
            self.phase = ev.phase
            if ev.set_index is not None:
                if ev.set_index != self.set_index:
                    self.reps_in_set = 0
                self.set_index = ev.set_index
                self.reps_in_set = max(self.reps_in_set, ev.reps_in_set)
            if ev.exercise is not None:
                self.exercise = ev.exercise

    def update(self, pipeline_state: Mapping[str, Any]) -> None:
        for key in ("phase", "exercise", "set_index", "reps_in_set", "total_reps"):
            if key in pipeline_state and pipeline_state[key] is not None:
                setattr(self, key, pipeline_state[key])

    def key(self) -> tuple[Any, ...]:
        """What the retained ``state`` says, but for its times (``sent_at``, ``t_s``): a sink
        publishes the state again only when this changed (a tuple compares cheaper than JSON)."""
        last = None if self.last_rep is None else tuple(self.last_rep.values())
        return (
            self.phase,
            self.exercise,
            self.leg,
            self.set_index,
            self.reps_in_set,
            self.total_reps,
            self.sets_done,
            last,
            self.wobble,
            self.battery_pct,
        )

    def payload(self, sensor: str, session: str) -> dict[str, Any]:
        return {
            **_head("state", sensor, session),
            "t_s": self.t_s,
            "phase": self.phase,
            "exercise": self.exercise,
            "leg": self.leg,
            "set_index": self.set_index,
            "reps_in_set": self.reps_in_set,
            "total_reps": self.total_reps,
            "sets_done": self.sets_done,
            "last_rep": self.last_rep,
            "wobble": self.wobble,
            "battery_pct": self.battery_pct,
        }


def telemetry_payload(
    sensor: str, session: str, telemetry: Telemetry, *, buffered_events: int = 0, dropped_events: int = 0
) -> dict[str, Any]:
    """The ``telemetry`` topic: the link's :class:`~tracker.service.seams.Telemetry` and what the
    sink itself holds back (events waiting for the broker, events dropped from a full buffer)."""
    return {
        **_head("telemetry", sensor, session),
        "t_s": telemetry.t_s,
        "battery_pct": telemetry.battery_pct,
        "packet_loss": telemetry.packet_loss,
        "lost_packets": telemetry.lost_packets,
        "packets": telemetry.packets,
        "rate_hz": telemetry.rate_hz,
        "buffered_events": buffered_events,
        "dropped_events": dropped_events,
        "link": telemetry.link,
    }


def plan_payload(sensor: str, session: str, progress: Mapping[str, Any]) -> dict[str, Any]:
    """The retained ``plan`` topic: progress through a workout plan (tracker.plan, docs/plans.md)."""
    return {**_head("plan", sensor, session), **progress}
