"""The named rules that turn a rep candidate (an excursion from standing) down, in the order tried.

Each rule is a small object with a name (the reason logged at debug level on the
``tracker.pipeline.reps`` logger, and kept on the :class:`~tracker.pipeline.reps.Excursion`), a
predicate over the candidate's features and one sentence on why it exists. The first rule that
applies names the reason; a candidate no rule applies to is a rep. docs/pipeline.md lists them
with the figures that justify them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tracker.pipeline.config import PipelineConfig


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the rules look at. ``signed_depth_deg`` is measured from the detector's latched standing
    angle (so which movements are reps does not depend on the finer depth a coach reads)."""

    depth_deg: float
    signed_depth_deg: float  # negative: extension (a free leg swinging back)
    duration_s: float
    bottom_s: float = 0.0  # time held near the bottom
    max_abs_pitch_deg: float = 0.0
    from_standing: bool = True  # the thigh turned around slowly, shortly before it started
    max_impact_g: float = 0.0
    parked: bool = False  # measured from a free leg held in the air
    rise_height_m: float = 0.0  # sensor height change from the start to the bottom
    drop_m: float = 0.0  # how far the sensor came down from its highest point before the bottom
    stood_before: bool = True  # the thigh stood still since the excursion before this one
    gyro: bool = True  # the angles come from a gyroscope (without one, a quick rep's pitch is unsure)
    stance: bool = False  # measured from a split stance (the thigh held behind: a split squat's back leg)


@dataclass(frozen=True, slots=True)
class RejectionRule:
    """A named reason a candidate is no rep."""

    name: str
    applies: Callable[[Candidate, PipelineConfig], bool]
    why: str


def repeatable_shallow(c: Candidate, cfg: PipelineConfig) -> bool:
    """A slow, shallow flexion (``repeat_min_depth_deg`` to ``min_depth_deg``): a rep only in a
    set of such reps (the set tracker asks for ``repeat_set_reps`` of them first)."""
    return (
        cfg.repeat_min_depth_deg <= c.depth_deg < cfg.min_depth_deg
        and c.signed_depth_deg > 0
        and c.duration_s >= cfg.repeat_min_s
    )


def too_short(c: Candidate, cfg: PipelineConfig) -> bool:
    """Quicker than ``min_rep_s``, unless a flexion of ``quick_rep_deg`` or more lasting at least
    ``quick_rep_s`` (a quick, deep squat) measured with a gyroscope: without one, the pitch of a
    quick movement is mostly the sensor's acceleration (stand-ups and step-ups made false sets);
    or a flexion from a split stance lasting that long (the back leg of a split squat)."""
    if c.duration_s >= cfg.min_rep_s:
        return False
    if c.stance and c.signed_depth_deg > 0 and c.duration_s >= cfg.quick_rep_s:
        return (
            False  # a split squat's back thigh travels little however quick the rep: no stride holds a stance
        )
    return not (c.gyro and c.signed_depth_deg >= cfg.quick_rep_deg and c.duration_s >= cfg.quick_rep_s)


def _stepped(c: Candidate, cfg: PipelineConfig) -> bool:
    """The sensor rose more than ``knee_lift_m`` within ``knee_lift_max_s`` while the thigh flexed."""
    return c.signed_depth_deg > 0 and c.rise_height_m > cfg.knee_lift_m and c.duration_s < cfg.knee_lift_max_s


RULES: tuple[RejectionRule, ...] = (
    RejectionRule(
        "shallow",
        lambda c, cfg: c.depth_deg < cfg.min_depth_deg and not repeatable_shallow(c, cfg),
        "fidgets and sway (a slow shallow flexion may still count if it repeats)",
    ),
    RejectionRule("short", too_short, "strides and kicks are quick (a deep squat may be quicker)"),
    RejectionRule("hold", lambda c, cfg: c.bottom_s > cfg.max_bottom_s, "sitting down or a hold"),
    RejectionRule(
        "not_upright",
        lambda c, cfg: c.max_abs_pitch_deg > cfg.max_thigh_pitch_deg,
        "lying or kneeling: crunches, bicycles, planks are no squats",
    ),
    RejectionRule(
        "not_from_standing",
        lambda c, cfg: not c.from_standing,
        "walking, running and stairs never turn around slowly between swings",
    ),
    RejectionRule("impact", lambda c, cfg: c.max_impact_g > cfg.max_impact_g, "heel strikes"),
    RejectionRule(
        "below_parked_leg",
        lambda c, cfg: c.signed_depth_deg < 0 and c.parked,
        "a parked free leg sagging and lifted back",
    ),
    RejectionRule(
        "shallow_extension",
        lambda c, cfg: c.signed_depth_deg < 0 and c.depth_deg < cfg.min_extension_deg,
        "backward swings of a free leg go far",
    ),
    RejectionRule(
        "knee_lift",
        lambda c, cfg: _stepped(c, cfg) and c.drop_m < cfg.knee_lift_m,
        "the sensor rose quickly while the thigh flexed and never came down: a step up",
    ),
    RejectionRule(
        "stride",
        lambda c, cfg: _stepped(c, cfg) and not c.stood_before,
        "a dipping stairs stride: a lunge's step starts from standing still, strides follow each other",
    ),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}


def first_rejection(candidate: Candidate, config: PipelineConfig) -> RejectionRule | None:
    """The first rule (in :data:`RULES` order) that turns the candidate down, or None: a rep."""
    for rule in RULES:
        if rule.applies(candidate, config):
            return rule
    return None
