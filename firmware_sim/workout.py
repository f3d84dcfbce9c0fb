"""Workout scripts: what the simulated athlete does, step by step (docs/simulator.md).

A script is TOML: a name, then ``[[step]]`` tables run in order. A step is an exercise set
(``squat``, ``single_leg_squat``, ``deadlift``, ``single_leg_deadlift``, ``lunge``, core work) or a
movement that is not reps (``walk``, ``run``, ``stairs_up``, ``sit``, ...). Built-in scripts are
named ``builtin:NAME`` and live in ``firmware_sim/builtin/NAME.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tracker.errors import InputFileError, UserError
from tracker.pipeline.exercises import EXERCISES as REGISTRY

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"

#: Exercises whose reps count, and core work (the thigh near horizontal; holds have no reps): the
#: tracker's exercise registry, which also holds their defaults (tracker/pipeline/exercises.py).
EXERCISES = tuple(e.name for e in REGISTRY if e.sim is not None and e.family != "core")
CORE = tuple(e.name for e in REGISTRY if e.family == "core")
#: Movement that is never reps.
NON_EXERCISE = ("stand", "rest", "fidget", "walk", "run", "stairs_up", "stairs_down", "sit", "step_up")
ACTIVITIES = EXERCISES + CORE + NON_EXERCISE
SINGLE_LEG = tuple(e.name for e in REGISTRY if e.single_leg)

_DEFAULTS: dict[str, dict[str, Any]] = {
    e.name: {
        "depth_deg": e.sim.depth_deg,
        "tempo_s": e.sim.tempo_s,
        **({"wobble_deg": e.sim.wobble_deg} if e.sim.wobble_deg is not None else {}),
    }
    for e in REGISTRY
    if e.sim is not None
}


#: Where a single-leg squat's free leg is: foot on the standing knee, hovering a little in front,
#: or held out in front (a pistol squat: the free thigh lifts further as the athlete goes down).
FREE_LEG_POSES = ("knee", "hover", "front")


@dataclass(frozen=True)
class Body:
    """The simulated athlete's segments (metres): they set how far the hip, and the sensor on the
    thigh, come down for a given flexion."""

    thigh_m: float = 0.44
    shank_m: float = 0.44
    # the sensor's distance below the hip, along the thigh (None: the mounting's, 0.15-0.25 m for
    # a random one, else 0.20 m)
    sensor_m: float | None = None

    @classmethod
    def from_dict(cls, raw: Any, source: str) -> Body:
        if not isinstance(raw, dict):
            raise InputFileError(source, "[body] must be a table of thigh_m, shank_m, sensor_m")
        values: dict[str, float] = {}
        for key, value in raw.items():
            if key not in ("thigh_m", "shank_m", "sensor_m"):
                raise InputFileError(
                    source, f"[body]: unknown field {key!r}; expected thigh_m, shank_m or sensor_m"
                )
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0.05 <= value <= 1.0:
                raise InputFileError(source, f"[body]: field {key!r} must be 0.05-1.0 m, got {value!r}")
            values[key] = float(value)
        body = cls(**values)
        if body.sensor_m is not None and body.sensor_m >= body.thigh_m:
            raise InputFileError(
                source, "[body]: sensor_m must be less than thigh_m (the sensor is on the thigh)"
            )
        return body


@dataclass(frozen=True)
class Step:
    """One step of a workout. Fields that do not apply to the activity are ignored."""

    activity: str
    reps: int = 0
    duration_s: float = 0.0  # holds and non-exercise movement; exercise sets last as long as their reps
    leg: str = "both"  # working (standing) leg: left | right | both
    sensor_on: str = (
        ""  # instead of leg, for single-leg work: standing | free (relative to the sensor's thigh)
    )
    depth_deg: float = 0.0  # peak flexion of the working thigh (0: the exercise's default)
    tempo_s: tuple[float, float, float] = (0.0, 0.0, 0.0)  # down, bottom pause, up (0: default)
    variability: float = 0.08  # rep-to-rep relative spread of depth and tempo
    fatigue: float = 0.1  # the last rep is this much slower and half this much shallower
    free_leg: str = "knee"  # single-leg squat: knee (foot on the standing knee) | hover | front
    # single-leg deadlift: the standing thigh's flexion at the bottom (0: a quarter of depth_deg)
    hinge_deg: float = 0.0
    wobble_deg: float = -1.0  # side-to-side sway amplitude (-1: the exercise's default)
    wobble_hz: float = 1.5
    tremor_deg: float = 0.25
    balance_losses: int = 0  # the free foot touches down this many times in the set
    rest_s: float = 0.0  # standing rest after the step
    speed: float = 1.0  # walking/running/stairs pace multiplier
    # ``standing``: a still moment before the first rep; ``moving``: the first rep starts straight
    # from what came before (a walk, standing up), with no quiet stance; ``seated`` (squats only)
    # starts and ends the set on a chair or box (the 30-second chair-stand test, box squats): each
    # rep stands up from the seat and sits back down (firmware_sim/motion.py)
    start: str = "standing"

    @property
    def is_exercise(self) -> bool:
        return self.activity in EXERCISES or self.activity in CORE

    def resolved_depth(self) -> float:
        return self.depth_deg or float(_DEFAULTS.get(self.activity, {}).get("depth_deg", 0.0))

    def resolved_tempo(self) -> tuple[float, float, float]:
        if any(self.tempo_s):
            return self.tempo_s
        return tuple(_DEFAULTS.get(self.activity, {}).get("tempo_s", (1.0, 0.2, 1.0)))

    def resolved_wobble(self) -> float:
        if self.wobble_deg >= 0:
            return self.wobble_deg
        return float(_DEFAULTS.get(self.activity, {}).get("wobble_deg", 0.0))


@dataclass(frozen=True)
class Workout:
    name: str
    steps: tuple[Step, ...]
    description: str = ""
    source: str = ""
    body: Body = Body()

    @property
    def total_reps(self) -> int:
        return sum(s.reps for s in self.steps if s.is_exercise)

    @classmethod
    def from_toml_str(cls, text: str, source: str = "<string>") -> Workout:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputFileError(source, f"not valid TOML: {exc}") from None
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> Workout:
        known_top = {"name", "description", "step", "body"}
        for key in data:
            if key not in known_top:
                raise InputFileError(source, f"unknown key {key!r}; expected one of {sorted(known_top)}")
        raw_steps = data.get("step")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise InputFileError(source, "expected at least one [[step]] table")
        steps = tuple(_parse_step(raw, i, source) for i, raw in enumerate(raw_steps, start=1))
        return cls(
            name=str(data.get("name", Path(source).stem)),
            steps=steps,
            description=str(data.get("description", "")),
            source=source,
            body=Body.from_dict(data["body"], source) if "body" in data else Body(),
        )


_STEP_FIELDS = {f.name: f for f in fields(Step)}


def _parse_step(raw: Any, index: int, source: str) -> Step:
    where = f"step {index}"
    if not isinstance(raw, dict):
        raise InputFileError(source, f"{where}: expected a table")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _STEP_FIELDS:
            raise InputFileError(
                source, f"{where}: unknown field {key!r}; expected one of {sorted(_STEP_FIELDS)}"
            )
        values[key] = value
    activity = values.get("activity")
    if activity not in ACTIVITIES:
        raise InputFileError(
            source, f"{where}: field 'activity' is {activity!r}; expected one of {list(ACTIVITIES)}"
        )
    for key in ("reps", "balance_losses"):
        if key in values and (
            not isinstance(values[key], int) or isinstance(values[key], bool) or values[key] < 0
        ):
            raise InputFileError(
                source, f"{where}: field {key!r} must be a whole number >= 0, got {values[key]!r}"
            )
    for key in (
        "duration_s",
        "depth_deg",
        "hinge_deg",
        "variability",
        "fatigue",
        "wobble_deg",
        "wobble_hz",
        "tremor_deg",
        "rest_s",
        "speed",
    ):
        if key in values:
            v = values[key]
            if not isinstance(v, int | float) or isinstance(v, bool):
                raise InputFileError(source, f"{where}: field {key!r} must be a number, got {v!r}")
            if key != "wobble_deg" and v < 0:
                raise InputFileError(source, f"{where}: field {key!r} must be >= 0, got {v!r}")
            values[key] = float(v)
    if "tempo_s" in values:
        t = values["tempo_s"]
        if (
            not isinstance(t, list)
            or len(t) != 3
            or not all(isinstance(x, int | float) and not isinstance(x, bool) and x >= 0 for x in t)
        ):
            raise InputFileError(
                source, f"{where}: field 'tempo_s' must be [down, pause, up] seconds, got {t!r}"
            )
        values["tempo_s"] = tuple(float(x) for x in t)
    leg = values.get("leg", "both")
    if leg not in ("left", "right", "both"):
        raise InputFileError(source, f"{where}: field 'leg' is {leg!r}; expected left, right or both")
    sensor_on = values.get("sensor_on", "")
    if sensor_on not in ("", "standing", "free"):
        raise InputFileError(
            source, f"{where}: field 'sensor_on' is {sensor_on!r}; expected standing or free"
        )
    if sensor_on and activity not in (*SINGLE_LEG, "lunge"):
        raise InputFileError(
            source, f"{where}: field 'sensor_on' applies to single-leg exercises and lunges only"
        )
    if sensor_on and "leg" in values:
        raise InputFileError(source, f"{where}: give either 'leg' or 'sensor_on', not both")
    if activity in SINGLE_LEG and leg == "both" and not sensor_on:
        raise InputFileError(
            source, f"{where}: a {activity} needs 'leg' = left or right (the standing leg) or 'sensor_on'"
        )
    _check_start(values, activity, source, where)
    if values.get("free_leg", "knee") not in FREE_LEG_POSES:
        raise InputFileError(source, f"{where}: field 'free_leg' must be one of {', '.join(FREE_LEG_POSES)}")
    if activity in EXERCISES and values.get("reps", 0) < 1:
        raise InputFileError(source, f"{where}: a {activity} set needs 'reps' >= 1")
    if (activity in NON_EXERCISE or activity == "plank") and values.get("duration_s", 0.0) <= 0:
        raise InputFileError(source, f"{where}: {activity} needs 'duration_s' > 0")
    if activity in ("crunch", "bicycle") and values.get("reps", 0) < 1:
        raise InputFileError(source, f"{where}: {activity} needs 'reps' >= 1")
    return Step(**values)


def _check_start(values: dict[str, Any], activity: str, source: str, where: str) -> None:
    """``start``: ``standing`` or ``moving`` (every exercise), ``seated`` (squats from a chair or box)."""
    start = values.get("start", "standing")
    if start not in ("standing", "moving", "seated"):
        raise InputFileError(
            source, f"{where}: field 'start' is {start!r}; expected standing, moving or seated"
        )
    if start != "standing" and activity not in EXERCISES:
        raise InputFileError(source, f"{where}: field 'start' applies to exercise sets only")
    if start == "seated" and activity != "squat":
        raise InputFileError(source, f"{where}: field 'start' = seated applies to squat sets only")


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_workout(spec: str | Path) -> Workout:
    """``builtin:NAME`` or the path of a TOML script."""
    text_spec = str(spec)
    if text_spec.startswith("builtin:"):
        name = text_spec.partition(":")[2]
        path = BUILTIN_DIR / f"{name}.toml"
        if not path.is_file():
            raise UserError(f"no built-in workout {name!r}; built-in workouts: {', '.join(builtin_names())}")
        return Workout.from_toml_str(path.read_text(), source=text_spec)
    path = Path(text_spec)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(path, "no such workout file (or use builtin:NAME)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read: {exc}") from None
    return Workout.from_toml_str(text, source=str(path))


__all__ = [
    "ACTIVITIES",
    "CORE",
    "EXERCISES",
    "FREE_LEG_POSES",
    "NON_EXERCISE",
    "Body",
    "Step",
    "Workout",
    "builtin_names",
    "load_workout",
]
