"""The exercise registry: every exercise RepTrack knows, in one place (docs/pipeline.md, "How to add
an exercise").

An entry says what the exercise is called (its documented JSON name in the replay JSON and MQTT
payloads, and a display name), its family, whether it is single-leg work (then the working leg
follows from where the sensor is: on the standing or on the free leg), how the pipeline names a rep
of it (ranked naming rules over the rep's shape, with the thresholds they read) and the
simulator's defaults for a set of it. The set tracker, the simulator's workout scripts and the
accuracy bench all read this table; none of them lists exercises of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.naming import NO_PHYSICS, RepPhysics, is_hinge, is_single_leg

Family = Literal["squat", "hinge", "lunge", "core"]
SensorOn = Literal["standing", "free", "both"]


@dataclass(frozen=True, slots=True)
class RepShape:
    """What the naming rules look at: one accepted rep, seen from one thigh."""

    depth_deg: float  # from the standing angle around the rep
    signed_depth_deg: float  # negative: the thigh swung back (extension)
    ml_sway_deg: float  # side-to-side sway RMS during the rep
    max_impact_g: float  # the largest jolt (a foot strike)
    rise_height_m: float  # sensor height change from the start to the bottom
    parked: bool  # measured from a free leg held in the air
    physics: RepPhysics = NO_PHYSICS  # the sensor's fall, frontal sway (naming.py)
    accel_only: bool = False  # no gyroscope: the frontal sway cannot be told from the rep's pushes


@dataclass(frozen=True, slots=True)
class NamingRule:
    """ "A rep of this shape is this exercise, with the sensor on this leg." Rules of all exercises
    are tried by ``rank`` (lowest first); the first that matches names the rep."""

    rank: int
    sensor_on: SensorOn
    matches: Callable[[RepShape, PipelineConfig], bool]


@dataclass(frozen=True, slots=True)
class SimulatorDefaults:
    """firmware_sim's defaults for a set of this exercise (a workout script may override them)."""

    depth_deg: float
    tempo_s: tuple[float, float, float]  # down, pause at the bottom, up
    wobble_deg: float | None = None  # sway amplitude (single-leg work)
    shank: float = 0.4  # how far the shank leans with the thigh (knee travel)


@dataclass(frozen=True, slots=True)
class Exercise:
    name: str  # the documented JSON name (replay JSON, MQTT payloads)
    display_name: str
    family: Family
    single_leg: bool  # the working leg follows from the sensor's leg (standing or free)
    looks_like: str  # from one thigh (PRODUCT.md)
    naming: tuple[NamingRule, ...] = ()  # none: the pipeline does not name it (yet)
    thresholds: tuple[str, ...] = ()  # the PipelineConfig fields its naming rules read
    sim: SimulatorDefaults | None = None  # None: the simulator has no motion for it
    seed: bool = False  # one of the seed article's four (the accuracy bench scores these)


def _wobbly(r: RepShape, cfg: PipelineConfig) -> bool:
    """One leg balancing: the naming model's frontal sway (tracker/pipeline/naming.py)."""
    return is_single_leg(r.depth_deg, r.physics, r.accel_only)


def _hinge(r: RepShape, cfg: PipelineConfig) -> bool:
    """The thigh turned about a hip that barely came down: the naming model's depth and fall."""
    return is_hinge(r.depth_deg, r.physics)


def _stepped(r: RepShape, cfg: PipelineConfig) -> bool:
    """A foot strike: stepping into a lunge (squats land no step)."""
    return r.signed_depth_deg > 0 and (
        r.max_impact_g >= cfg.lunge_impact_g
        or (r.max_impact_g >= cfg.lunge_step_impact_g and r.rise_height_m > 0)
    )


EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        "squat",
        "Squat",
        "squat",
        single_leg=False,
        looks_like="both thighs from about 0 to 70-100 deg and back, 1.5-4 s a rep",
        naming=(NamingRule(90, "both", lambda r, cfg: True),),  # a squat-family rep without sway
        sim=SimulatorDefaults(85.0, (1.1, 0.15, 0.95), shank=0.5),
        seed=True,
    ),
    Exercise(
        "single_leg_squat",
        "Single-leg squat",
        "squat",
        single_leg=True,
        looks_like="the standing thigh to about 45-80 deg, slower, with side-to-side wobble",
        naming=(
            NamingRule(10, "free", lambda r, cfg: r.parked),  # measured from a free leg held in the air
            NamingRule(70, "standing", _wobbly),
        ),
        thresholds=("park_s", "park_min_deg", "park_max_deg"),
        sim=SimulatorDefaults(62.0, (1.6, 0.3, 1.3), wobble_deg=2.0, shank=0.55),
        seed=True,
    ),
    Exercise(
        "deadlift",
        "Deadlift",
        "hinge",
        single_leg=False,
        looks_like="the thighs move much less (about 10-45 deg) while the torso hinges",
        naming=(NamingRule(50, "both", _hinge),),
        thresholds=(),
        sim=SimulatorDefaults(30.0, (1.5, 0.6, 1.3), shank=0.2),
        seed=True,
    ),
    Exercise(
        "single_leg_deadlift",
        "Single-leg deadlift",
        "hinge",
        single_leg=True,
        looks_like="standing thigh near vertical and wobbling; the free thigh swings back on every rep",
        naming=(
            NamingRule(30, "free", lambda r, cfg: r.signed_depth_deg < 0),  # the free leg swings back
            NamingRule(40, "standing", lambda r, cfg: _hinge(r, cfg) and _wobbly(r, cfg)),
        ),
        thresholds=("min_extension_deg",),
        sim=SimulatorDefaults(75.0, (1.7, 0.5, 1.4), wobble_deg=2.0, shank=0.25),
        seed=True,
    ),
    Exercise(
        "lunge",
        "Lunge",
        "lunge",
        single_leg=False,
        looks_like="a step forward (a foot strike), the front thigh to about 80 deg, a push back",
        naming=(NamingRule(20, "both", _stepped),),
        thresholds=("lunge_impact_g", "lunge_step_impact_g"),
        sim=SimulatorDefaults(82.0, (1.0, 0.2, 1.0), shank=0.3),
    ),
    Exercise(
        "plank",
        "Plank",
        "core",
        single_leg=False,
        looks_like="a still hold with the thigh near horizontal (no reps)",
    ),
    Exercise(
        "crunch",
        "Crunch",
        "core",
        single_leg=False,
        looks_like="lying, the thigh near horizontal and flexing a little",
        sim=SimulatorDefaults(30.0, (0.9, 0.3, 0.9)),
    ),
    Exercise(
        "bicycle",
        "Bicycle crunch",
        "core",
        single_leg=False,
        looks_like="lying, the thighs pedalling",
        sim=SimulatorDefaults(60.0, (0.7, 0.0, 0.7)),
    ),
)
BY_NAME = {exercise.name: exercise for exercise in EXERCISES}
SINGLE_LEG = tuple(e.name for e in EXERCISES if e.single_leg)
NAMING_ORDER = tuple(sorted(((rule, e) for e in EXERCISES for rule in e.naming), key=lambda re: re[0].rank))


def name_rep(shape: RepShape, config: PipelineConfig) -> tuple[str, SensorOn]:
    """The exercise of one rep and where the sensor is, by the first naming rule that matches."""
    for rule, exercise in NAMING_ORDER:
        if rule.matches(shape, config):
            return exercise.name, rule.sensor_on
    raise AssertionError("the registry's last naming rule matches every rep")


def name_by_model(hinge: bool, single: bool) -> tuple[str, SensorOn]:
    """The name the naming model's rules (ranks 40-90 above) give a rep the model calls a hinge
    or not, single-leg work or not: the set tracker names a set's such reps together."""
    if hinge:
        return ("single_leg_deadlift", "standing") if single else ("deadlift", "both")
    return ("single_leg_squat", "standing") if single else ("squat", "both")


MODEL_NAMES = frozenset(name_by_model(h, s) for h in (False, True) for s in (False, True))


def display_name(name: str) -> str:
    """The display name of a JSON exercise name (the name itself for one the registry lacks)."""
    exercise = BY_NAME.get(name)
    return name if exercise is None else exercise.display_name
