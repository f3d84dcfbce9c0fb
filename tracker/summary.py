"""The session summary of PRODUCT.md (``reptrack replay FILE --json``), built from events.

``{"source", "duration_s", "total_reps", "sets": [{"index", "exercise", "leg", "reps", "start_s",
"end_s", "wobble", "summary", "reps_detail": [{"n", "t_start_s", "t_end_s", "depth_deg",
"duration_s", ...}]}], "wobble_events": [...], "balance_losses": [...]}``. Only sets count:
a rep event whose set was never closed (a session cut short without ``Pipeline.finish``) is
still counted, in a set of its own index.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracker.events import Event, RepEvent, SetEvent, WobbleEvent


def summarize(source: str, duration_s: float, events: Iterable[Event]) -> dict[str, Any]:
    sets: dict[int, dict[str, Any]] = {}
    loose: dict[int, list[RepEvent]] = {}
    wobbles: list[dict[str, Any]] = []
    losses: list[dict[str, Any]] = []
    for ev in events:
        if isinstance(ev, SetEvent):
            sets[ev.index] = ev.to_json()
        elif isinstance(ev, RepEvent):
            loose.setdefault(ev.set_index, []).append(ev)
        elif isinstance(ev, WobbleEvent):
            item = {"t_s": ev.t_s, "set_index": ev.set_index, "level": ev.level, "baseline": ev.baseline}
            (losses if ev.balance_loss else wobbles).append(item)
    for index, reps in loose.items():
        if index in sets:
            continue
        last = reps[-1]
        sets[index] = {
            "index": index,
            "exercise": last.exercise,
            "leg": last.leg,
            "reps": len(reps),
            "start_s": reps[0].rep.t_start_s,
            "end_s": last.rep.t_end_s,
            "wobble": None,
            "summary": {},
            "reps_detail": [r.rep.to_json() for r in reps],
        }
    ordered = [sets[k] for k in sorted(sets)]
    return {
        "source": source,
        "duration_s": round(float(duration_s), 3),
        "total_reps": sum(s["reps"] for s in ordered),
        "sets": ordered,
        "wobble_events": wobbles,
        "balance_losses": losses,
    }
