"""Workout plans: what the athlete means to do, and a live session followed against it.

A plan is a TOML file of sets (exercise, leg, target reps or a range, rest); see docs/plans.md.
Built-in plans live in ``tracker/plans/NAME.toml`` and are named ``builtin:NAME``: the seed
session is ``builtin:runner-strength``. Core work on the floor (planks, crunches, bicycles) may be
listed; the thigh sensor does not count it, so it is shown but never waited for.

:class:`PlanFollower` is pure (events in, events and progress out). It places each detected set
on the plan, names it from the plan where the detector is unsure, and notes sets done off-plan.
:class:`PlannedPipeline` wraps a :class:`~tracker.pipeline.Pipeline` with a follower, so the live
service runs a plan without any change of its own.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.errors import InputFileError, UserError
from tracker.events import Event, RepEvent, SetEvent, WobbleEvent
from tracker.pipeline import Pipeline
from tracker.pipeline.exercises import BY_NAME, EXERCISES, SINGLE_LEG, display_name
from tracker.samples import Samples

BUILTIN_DIR = Path(__file__).resolve().parent / "plans"

#: Exercises the pipeline counts and names (the registry's entries with naming rules, docs/pipeline.md).
TRACKED = tuple(e.name for e in EXERCISES if e.naming)
#: Core work a plan may list; the thigh sensor makes no set of it.
UNTRACKED = tuple(e.name for e in EXERCISES if e.family == "core" and not e.naming)
#: The detector tells the members of a family apart by depth and sway only: where it is least sure.
FAMILY = {name: e.family for name, e in BY_NAME.items()}
_SET_KEYS = ("exercise", "leg", "reps", "duration_s", "rest_s", "sets", "note")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def exercise_title(exercise: str, leg: str = "both") -> str:
    """``single_leg_deadlift``, ``left`` -> ``single-leg deadlift (left)``: how a sentence says it."""
    name = display_name(exercise).replace("_", " ")
    words = name[:1].lower() + name[1:]
    return f"{words} ({leg})" if leg in ("left", "right", "unknown") else words


@dataclass(frozen=True, slots=True)
class PlannedSet:
    """One set of a plan. ``reps_min == reps_max`` for a fixed target; 0 for a timed hold."""

    exercise: str
    leg: str = "both"  # left | right (single-leg work: the standing leg) | both
    reps_min: int = 0
    reps_max: int = 0
    rest_s: float = 60.0
    duration_s: float = 0.0
    note: str = ""

    @property
    def tracked(self) -> bool:
        return self.exercise in TRACKED

    @property
    def title(self) -> str:
        return exercise_title(self.exercise, self.leg)

    @property
    def target(self) -> str:
        """``10``, ``8-12`` or ``30 s``."""
        if self.reps_max == 0:
            return f"{self.duration_s:.0f} s" if self.duration_s else ""
        if self.reps_min == self.reps_max:
            return str(self.reps_max)
        return f"{self.reps_min}-{self.reps_max}"

    def to_json(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "leg": self.leg,
            "reps_min": self.reps_min,
            "reps_max": self.reps_max,
            "target": self.target,
            "rest_s": self.rest_s,
            "duration_s": self.duration_s,
        }


@dataclass(frozen=True)
class Plan:
    name: str
    sets: tuple[PlannedSet, ...]
    description: str = ""
    source: str = ""

    @property
    def tracked(self) -> tuple[PlannedSet, ...]:
        """The sets the sensor counts, in plan order: "set 3 of 6" counts these."""
        return tuple(s for s in self.sets if s.tracked)

    @property
    def untracked(self) -> tuple[PlannedSet, ...]:
        return tuple(s for s in self.sets if not s.tracked)


# --- reading plans ---------------------------------------------------------------------------


def parse_reps(value: object, where: str) -> tuple[int, int]:
    """A target: ``10``, ``"8-12"`` or ``[8, 12]`` -> (min, max)."""
    lo: object
    hi: object
    if isinstance(value, bool):
        raise UserError(f"{where}: expected a number of reps like 10, '8-12' or [8, 12], got {value!r}")
    if isinstance(value, int):
        lo = hi = value
    elif isinstance(value, str) and (m := _RANGE.match(value)):
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    elif isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value):
        lo, hi = value
    else:
        raise UserError(f"{where}: expected a number of reps like 10, '8-12' or [8, 12], got {value!r}")
    assert isinstance(lo, int) and isinstance(hi, int)
    if lo < 1 or hi < lo or hi > 1000:
        raise UserError(f"{where}: expected 1 <= min <= max <= 1000 reps, got {value!r}")
    return lo, hi


def _number(raw: dict[str, Any], key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UserError(f"{where}: field {key!r}: expected a number of seconds >= 0, got {value!r}")
    return float(value)


def _parse_set(raw: object, index: int, source: str) -> list[PlannedSet]:
    where = f"{source}: set {index}"
    if not isinstance(raw, dict):
        raise InputFileError(source, f"set {index}: expected a [[set]] table, got {raw!r}")
    for key in raw:
        if key not in _SET_KEYS:
            raise UserError(f"{where}: unknown field {key!r}; expected one of {', '.join(_SET_KEYS)}")
    exercise = raw.get("exercise")
    if exercise not in TRACKED + UNTRACKED:
        raise UserError(
            f"{where}: field 'exercise': expected one of {', '.join(TRACKED + UNTRACKED)}, got {exercise!r}"
        )
    assert isinstance(exercise, str)
    leg = raw.get("leg", "both")
    legs = ("left", "right") if exercise in SINGLE_LEG else ("both",)
    if leg not in legs:
        raise UserError(f"{where}: field 'leg': {exercise} takes {' or '.join(legs)}, got {leg!r}")
    reps = (0, 0) if "reps" not in raw else parse_reps(raw["reps"], f"{where}: field 'reps'")
    duration = _number(raw, "duration_s", 0.0, where)
    if exercise in TRACKED and reps == (0, 0):
        raise UserError(f"{where}: field 'reps' is missing; expected e.g. reps = 10 or reps = '8-12'")
    if reps == (0, 0) and not duration:
        raise UserError(f"{where}: give 'reps' (e.g. 12) or 'duration_s' (a hold, e.g. 30)")
    repeat = raw.get("sets", 1)
    if type(repeat) is not int or not 1 <= repeat <= 50:
        raise UserError(f"{where}: field 'sets': expected a whole number 1..50, got {repeat!r}")
    one = PlannedSet(
        exercise=exercise,
        leg=str(leg),
        reps_min=reps[0],
        reps_max=reps[1],
        rest_s=_number(raw, "rest_s", 60.0, where),
        duration_s=duration,
        note=str(raw.get("note", "")),
    )
    return [one] * repeat


def plan_from_dict(data: dict[str, Any], source: str = "<plan>") -> Plan:
    for key in data:
        if key not in ("name", "description", "set"):
            raise InputFileError(
                source, f"unknown key {key!r}; expected name, description and [[set]] tables"
            )
    raw_sets = data.get("set")
    if not isinstance(raw_sets, list) or not raw_sets:
        raise InputFileError(source, "expected at least one [[set]] table")
    sets = [s for i, raw in enumerate(raw_sets, start=1) for s in _parse_set(raw, i, source)]
    if not any(s.tracked for s in sets):
        raise InputFileError(source, f"no set the sensor can count; expected one of {', '.join(TRACKED)}")
    name = data.get("name", Path(source).stem)
    return Plan(str(name), tuple(sets), str(data.get("description", "")), source)


def plan_from_toml(text: str, source: str = "<plan>") -> Plan:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(source, f"not valid TOML: {exc}") from None
    return plan_from_dict(data, source)


def builtin_plans() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_plan(spec: str | Path) -> Plan:
    """``builtin:NAME`` or a TOML file."""
    text = str(spec)
    if text.startswith("builtin:"):
        name = text.split(":", 1)[1]
        path = BUILTIN_DIR / f"{name}.toml"
        if not path.is_file():
            raise UserError(f"no built-in plan {name!r}; built-in plans: {', '.join(builtin_plans())}")
        return plan_from_toml(path.read_text(encoding="utf-8"), text)
    path = Path(text)
    if not path.is_file():
        raise UserError(f"{path}: no such plan file (or give builtin:NAME: {', '.join(builtin_plans())})")
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read the plan: {exc}") from None
    return plan_from_toml(content, str(path))


# --- following a session ---------------------------------------------------------------------


@dataclass
class SetProgress:
    """Where one planned set stands. ``set_index`` is the pipeline's set number once placed."""

    number: int  # 1-based among the plan's tracked sets
    planned: PlannedSet
    status: str = "pending"  # pending | active | done | missed
    reps: int = 0
    set_index: int | None = None
    named_by: str = ""  # detector | plan (the detector was unsure and the plan named the set)
    detected_exercise: str = ""
    detected_leg: str = ""
    balance_losses: int = 0

    @property
    def on_target(self) -> bool:
        return self.planned.reps_min <= self.reps <= self.planned.reps_max

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            **self.planned.to_json(),
            "status": self.status,
            "reps": self.reps,
            "on_target": self.on_target,
            "set_index": self.set_index,
            "named_by": self.named_by or None,
            "detected_exercise": self.detected_exercise or None,
            "detected_leg": self.detected_leg or None,
            "balance_losses": self.balance_losses,
        }


@dataclass
class OffPlanSet:
    """A set the detector was sure of that no planned set matches."""

    set_index: int
    exercise: str
    leg: str
    reps: int = 0
    done: bool = False
    balance_losses: int = 0


def legs_agree(planned: str, detected: str) -> bool:
    return detected == "unknown" or planned == detected


@dataclass
class PlanFollower:
    """Follows a session's events against a plan (docs/plans.md, "How the tracker follows").

    A detected set takes the first open planned set with its exercise and leg. When none
    matches and the detector is unsure (the sensor's thigh is unknown, its running vote changed
    within the set, or it is torn between the single- and two-legged form of the next planned
    exercise), the set is the next planned one and takes its name. Otherwise it is off-plan.
    """

    plan: Plan
    entries: list[SetProgress] = field(init=False)
    off_plan: dict[int, OffPlanSet] = field(default_factory=dict)
    t_s: float = 0.0
    finished: bool = False
    last_announcement: str = ""
    _labels: dict[int, set[tuple[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entries = [SetProgress(i + 1, p) for i, p in enumerate(self.plan.tracked)]

    # --- placing sets ----------------------------------------------------------------------

    def entry_of(self, set_index: int | None) -> SetProgress | None:
        return next((e for e in self.entries if set_index is not None and e.set_index == set_index), None)

    def _unsure(self, set_index: int, leg: str) -> bool:
        return leg == "unknown" or len(self._labels.get(set_index, ())) > 1

    def _place(self, set_index: int, exercise: str, leg: str) -> SetProgress | None:
        """(Re)place a detected set on the plan from the detector's current name for it."""
        held = self.entry_of(set_index)
        if held is not None and held.status != "done":
            held.status, held.set_index, held.reps, held.named_by = "pending", None, 0, ""
        self.off_plan.pop(set_index, None)
        open_entries = [e for e in self.entries if e.status == "pending"]
        entry = next(
            (e for e in open_entries if e.planned.exercise == exercise and legs_agree(e.planned.leg, leg)),
            None,
        )
        if entry is None and open_entries:
            expected = open_entries[0]
            same_family = FAMILY.get(exercise) == FAMILY.get(expected.planned.exercise)
            if self._unsure(set_index, leg) or same_family:
                entry = expected
        if entry is None:
            self.off_plan[set_index] = OffPlanSet(set_index, exercise, leg)
            return None
        entry.status, entry.set_index = "active", set_index
        entry.detected_exercise, entry.detected_leg = exercise, leg
        renamed = (entry.planned.exercise, entry.planned.leg) != (exercise, leg)
        entry.named_by = "plan" if renamed else "detector"
        return entry

    def _placed(self, set_index: int, exercise: str, leg: str) -> tuple[SetProgress | None, bool]:
        """The entry of a detected set, placed anew when the detector's name changed."""
        labels = self._labels.setdefault(set_index, set())
        new_label = (exercise, leg) not in labels
        labels.add((exercise, leg))
        entry = self.entry_of(set_index)
        if entry is not None and not new_label:
            return entry, False
        if entry is None and set_index in self.off_plan and not new_label:
            return None, False
        return self._place(set_index, exercise, leg), True

    # --- events ----------------------------------------------------------------------------

    def follow(self, ev: Event) -> tuple[Event, str | None]:
        """The event as it goes out (named from the plan where it named the set) and the line
        to announce, if any."""
        self.t_s = max(self.t_s, ev.t_s)
        if isinstance(ev, RepEvent):
            entry, _ = self._placed(ev.set_index, ev.exercise, ev.leg)
            if entry is None:
                off = self.off_plan[ev.set_index]
                off.reps = max(off.reps, ev.rep.n)
                return ev, self._say(f"off plan: {exercise_title(ev.exercise, ev.leg)} {off.reps} reps")
            entry.reps = max(entry.reps, ev.rep.n)
            return self._named(ev, entry), self._say(self.rep_line(entry))
        if isinstance(ev, SetEvent):
            entry, _ = self._placed(ev.index, ev.exercise, ev.leg)
            if entry is None:
                off = self.off_plan[ev.index]
                off.reps, off.done = len(ev.reps), True
                title = exercise_title(ev.exercise, ev.leg)
                return ev, self._say(f"set done off plan: {off.reps} x {title}; {self.next_line()}")
            entry.reps, entry.status = len(ev.reps), "done"
            return self._named(ev, entry), self._say(self.set_line(entry))
        if isinstance(ev, WobbleEvent) and ev.balance_loss:
            entry = self.entry_of(ev.set_index)
            if entry is not None:
                entry.balance_losses += 1
            elif ev.set_index in self.off_plan:
                self.off_plan[ev.set_index].balance_losses += 1
        return ev, None

    def follow_all(self, events: Iterable[Event]) -> list[Event]:
        return [self.follow(ev)[0] for ev in events]

    def finish(self) -> None:
        """The session ended: planned sets never started are missed."""
        self.finished = True
        for e in self.entries:
            if e.status == "pending":
                e.status = "missed"

    @staticmethod
    def _named(ev: RepEvent | SetEvent, entry: SetProgress) -> Event:
        if entry.named_by != "plan":
            return ev
        return dataclasses.replace(ev, exercise=entry.planned.exercise, leg=entry.planned.leg)  # type: ignore[arg-type]

    def name_for(self, set_index: int | None) -> tuple[str, str] | None:
        """The plan's name for a detected set, when the plan named it."""
        entry = self.entry_of(set_index)
        if entry is None or entry.named_by != "plan":
            return None
        return entry.planned.exercise, entry.planned.leg

    # --- what the athlete hears and sees ---------------------------------------------------

    def _say(self, line: str) -> str:
        self.last_announcement = line
        return line

    def rep_line(self, entry: SetProgress) -> str:
        """``set 3 of 6: single-leg deadlift (left) 7/8-12``."""
        return f"set {entry.number} of {len(self.entries)}: {entry.planned.title} {entry.reps}/{entry.planned.target}"

    def set_line(self, entry: SetProgress) -> str:
        p = entry.planned
        verdict = (
            "" if entry.on_target else (", below target" if entry.reps < p.reps_min else ", above target")
        )
        return f"{self.rep_line(entry).replace(':', ' done:', 1)}{verdict}; {self.next_line()}"

    @property
    def next_entry(self) -> SetProgress | None:
        return next((e for e in self.entries if e.status == "pending"), None)

    def next_line(self) -> str:
        nxt = self.next_entry
        if nxt is not None:
            return f"next: set {nxt.number} of {len(self.entries)}, {nxt.planned.title} {nxt.planned.target}"
        extra = ", ".join(f"{s.title} {s.target}" for s in self.plan.untracked)
        return "plan done" + (f"; then {extra} (not counted by the sensor)" if extra else "")

    def progress(self) -> dict[str, Any]:
        """The plan-progress body (docs/plans.md; docs/schemas/plan.schema.json without the head)."""
        current = next((e for e in self.entries if e.status == "active"), None)
        nxt = self.next_entry
        return {
            "t_s": self.t_s,
            "plan": {
                "name": self.plan.name,
                "description": self.plan.description,
                "source": self.plan.source,
            },
            "sets_total": len(self.entries),
            "sets_done": sum(e.status == "done" for e in self.entries),
            "current": None if current is None else current.number,
            "next": None if nxt is None else nxt.number,
            "complete": all(e.status == "done" for e in self.entries),
            "finished": self.finished,
            "announcement": self.last_announcement or self.next_line(),
            "sets": [e.to_json() for e in self.entries],
            "off_plan": [
                dataclasses.asdict(o) for o in sorted(self.off_plan.values(), key=lambda o: o.set_index)
            ],
            "untracked": [s.to_json() for s in self.plan.untracked],
        }


class PlannedPipeline:
    """A pipeline that follows a plan: the same ``feed``/``finish``/``state``, with events named
    from the plan where it named the set. ``on_progress(progress)`` is called when the progress
    changed, ``on_announce(line)`` for each line to tell the athlete."""

    def __init__(
        self,
        pipeline: Pipeline,
        follower: PlanFollower,
        *,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        on_announce: Callable[[str], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.follower = follower
        self.on_progress = on_progress
        self.on_announce = on_announce
        if on_progress is not None:
            on_progress(follower.progress())

    def _follow(self, events: list[Event]) -> list[Event]:
        out: list[Event] = []
        changed = False
        for ev in events:
            named, line = self.follower.follow(ev)
            out.append(named)
            changed = changed or line is not None or (isinstance(ev, WobbleEvent) and ev.balance_loss)
            if line is not None and self.on_announce is not None:
                self.on_announce(line)
        if changed and self.on_progress is not None:
            self.on_progress(self.follower.progress())
        return out

    def feed(self, chunk: Samples) -> list[Event]:
        return self._follow(self.pipeline.feed(chunk))

    def finish(self) -> list[Event]:
        events = self._follow(self.pipeline.finish())
        self.follower.finish()
        if self.on_progress is not None:
            self.on_progress(self.follower.progress())
        return events

    @property
    def state(self) -> dict[str, Any]:
        state = dict(self.pipeline.state)
        named = self.follower.name_for(state.get("set_index"))
        if named is not None:
            state["exercise"] = named[0]
        return state

    def replaced_samples(self) -> str | None:
        return self.pipeline.replaced_samples()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pipeline, name)
