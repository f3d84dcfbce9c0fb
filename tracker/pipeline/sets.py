"""Sets and exercises: group reps into sets, name the exercise and the working leg.

A set is a run of reps with less than ``set_rest_s`` between the end of one and the start of the
next; it is closed (and its :class:`~tracker.events.SetEvent` emitted) at the first sample
``set_rest_s`` after its last rep, or by :meth:`SetTracker.finish` at the end of the session.

The exercise is voted per rep, from one thigh, by the naming rules of the exercise registry
(:mod:`tracker.pipeline.exercises`; docs/pipeline.md explains them): a free leg held in the air or
swinging back, a foot strike (lunge), then by depth and side-to-side sway.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import Counter

import numpy as np

from tracker.events import Leg, Rep, RepEvent, SetEvent, WobbleEvent
from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.exercises import MODEL_NAMES, SINGLE_LEG, RepShape, name_by_model, name_rep
from tracker.pipeline.naming import FALL_FLOOR_M, hinge_score, set_single_score, single_score, split_stance
from tracker.pipeline.reps import Excursion
from tracker.pipeline.wobble import SwayStats
from tracker.samples import FloatArray

# the registry's name for reps measured from a thigh held in the air
HELD_FREE_LEG: tuple[str, str] = ("single_leg_squat", "free")


def classify(ex: Excursion, config: PipelineConfig, accel_only: bool = False) -> tuple[str, str]:
    """One rep's exercise and where the sensor is (``standing``, ``free`` or ``both``), by the
    registry's naming rules (:mod:`tracker.pipeline.exercises`)."""
    sway = ex.sway.metrics()
    shape = RepShape(
        depth_deg=ex.rep.depth_deg,
        signed_depth_deg=ex.signed_depth_deg,
        ml_sway_deg=sway["ml_rms_deg"] if sway else 0.0,
        max_impact_g=ex.max_impact_g,
        rise_height_m=ex.rise_height_m,
        parked=ex.parked,
        physics=ex.physics,
        accel_only=accel_only,
    )
    return name_rep(shape, config)


def unambiguous_first(ex: Excursion, config: PipelineConfig) -> bool:
    """A lone rep whose shape leaves no doubt is announced at once (docs/pipeline.md): slow and
    smooth (no jolt), the sensor lowered rather than lifted (stepping up and sitting down lift it),
    hinges and backward swings slower still, a flexion not slower than a rep of a set (a slow
    sit-down and stand-up); anything else waits for a second rep."""
    r = ex.rep
    duration = r.t_end_s - r.t_start_s
    if ex.max_impact_g >= config.first_max_impact_g or duration < config.first_min_s:
        return False
    if r.peak_velocity_dps > config.first_max_speed_ratio * r.depth_deg:
        return False
    if ex.parked:
        return True  # measured from a free leg lifted and held still: no stride, step or sit does that
    if ex.signed_depth_deg < 0:
        return -ex.signed_depth_deg <= config.first_max_extension_deg and duration >= config.first_hinge_min_s
    if r.depth_deg >= config.deadlift_max_deg and ex.physics.fall_m < FALL_FLOOR_M:
        return False  # deep, and the sensor rose more than a squat raises it: a knee lift (a step up)
    if duration > config.first_max_s:
        return False  # sitting down and standing up again (a free leg's slow backward swing is no sit)
    if ex.rise_height_m > config.knee_lift_m and (
        duration < config.first_slow_s or r.depth_deg >= config.squat_min_deg
    ):
        return False  # lifted quickly (a step) or deep (sitting down); slow single-leg reps drift
    return r.depth_deg >= config.deadlift_max_deg or duration >= config.first_hinge_min_s


def stairs_strides(first: Excursion, second: Excursion, config: PipelineConfig) -> bool:
    """Two flexions in a row, neither after the thigh stood still, one with a foot strike (a jolt of
    ``lunge_impact_g`` or more): strides up or down stairs, not the first two reps of a set. A lunge
    set starts from standing (its first lunge may follow its step without a pause, its second rep
    starts from standing); the ``stride`` rule turns such strides down one by one when the sensor's
    rise is measured, which without a gyroscope it is not, well enough."""
    if first.stood_before or second.stood_before:
        return False
    return max(first.max_impact_g, second.max_impact_g) >= config.lunge_impact_g


def working_leg(exercise: str, sensor_on: str, sensor_leg: str) -> Leg:
    """Single-leg work (the registry says which): the sensor's leg if it is on the standing leg,
    the other if on the free leg; anything else works both legs."""
    if exercise not in SINGLE_LEG:
        return "both"
    if sensor_leg not in ("left", "right"):
        return "unknown"
    if sensor_on == "free":
        return "right" if sensor_leg == "left" else "left"
    return "left" if sensor_leg == "left" else "right"


def _trend(values: list[float]) -> float:
    """Least-squares change per rep (0 for fewer than 3 reps)."""
    if len(values) < 3:
        return 0.0
    x = np.arange(len(values), dtype=float)
    return float(np.polyfit(x, np.asarray(values), 1)[0])


def set_summary(reps: tuple[Rep, ...]) -> dict[str, float]:
    """Means and per-rep trends (fatigue shows as shallower, slower reps late in a set)."""
    if not reps:
        return {}
    depth = [r.depth_deg for r in reps]
    dur = [r.duration_s for r in reps]
    vel = [r.peak_velocity_dps for r in reps]
    return {
        "mean_depth_deg": round(float(np.mean(depth)), 2),
        "depth_trend_deg_per_rep": round(_trend(depth), 3),
        "mean_duration_s": round(float(np.mean(dur)), 3),
        "duration_trend_s_per_rep": round(_trend(dur), 4),
        "mean_descent_s": round(float(np.mean([r.descent_s for r in reps])), 3),
        "mean_bottom_s": round(float(np.mean([r.bottom_s for r in reps])), 3),
        "mean_ascent_s": round(float(np.mean([r.ascent_s for r in reps])), 3),
        "mean_peak_velocity_dps": round(float(np.mean(vel)), 1),
        "peak_velocity_trend_dps_per_rep": round(_trend(vel), 2),
    }


class RunningMedian:
    """The median of the values added so far, in O(log n) per value (two heaps: the lower half as
    a max-heap, the upper half as a min-heap), so a 500-rep set costs no more per rep than a
    10-rep one. Equal to ``np.median`` of the values (the mean of the middle two when even)."""

    __slots__ = ("_high", "_low")

    def __init__(self) -> None:
        self._low: list[float] = []  # negated: heapq is a min-heap
        self._high: list[float] = []

    def __len__(self) -> int:
        return len(self._low) + len(self._high)

    def add(self, value: float) -> None:
        if self._low and value > -self._low[0]:
            heapq.heappush(self._high, value)
        else:
            heapq.heappush(self._low, -value)
        if len(self._low) > len(self._high) + 1:
            heapq.heappush(self._high, -heapq.heappop(self._low))
        elif len(self._high) > len(self._low):
            heapq.heappush(self._low, -heapq.heappop(self._high))

    def median(self) -> float:
        if len(self._low) > len(self._high):
            return -self._low[0]
        return (-self._low[0] + self._high[0]) / 2.0


class SetTracker:
    """Turns accepted rep candidates into rep, set and wobble events."""

    def __init__(self, config: PipelineConfig, sensor_leg: str = "unknown") -> None:
        self.config = config
        self.sensor_leg = sensor_leg
        self.set_index = 0
        self.total_reps = 0
        self._reps: list[Rep] = []
        # the typical depth of the set's reps, apart for those measured from a free leg held in
        # the air (like with like)
        self._typical_depth = {False: RunningMedian(), True: RunningMedian()}
        self._votes: Counter[tuple[str, str]] = Counter()  # reps named by a rule of their own
        # reps the naming model names (squat and deadlift families, no free leg, no step) are
        # named together: their summed log-odds (docs/pipeline.md, "Naming from the physics")
        self._model_sums = [0.0, 0.0]  # hinge, single leg
        self._model_reps = 0
        # and the sway while the thigh stood still between those reps: squared deviation x seconds,
        # seconds (naming.still_sway_score)
        self._still = [0.0, 0.0]
        # reps measured from a thigh held flexed (a free leg in the air, or a split stance's front
        # leg: naming.split_stance): their single-leg log-odds, depth, count, still sway's sums
        self._held = [0.0, 0.0, 0.0, 0.0, 0.0]
        self._sway = SwayStats()
        self._start_s = 0.0
        self._last_end_s: float | None = None
        self._sway_baseline: float | None = None  # EMA of single-leg rep sway RMS, this athlete
        self._last_event_s = -np.inf  # when the last rep was announced
        self._last_touchdown_s: float | None = None
        self._tentative: Excursion | None = None  # a lone rep waits for a second one to make a set
        self.accel_only = False  # the sensor has no gyroscope (set by the pipeline)
        self._run: list[Excursion] = []  # reps waiting for a set of shallow reps to open

    @property
    def open(self) -> bool:
        return bool(self._reps)

    def current(self) -> tuple[str, str]:
        if not self._votes and not self._model_reps:
            return "none", "both"
        votes = self._votes
        held_single, depth, reps, still_sq, still = self._held
        if reps and not self.accel_only and split_stance(held_single, int(reps), depth, still_sq, still):
            votes = votes.copy()  # a split stance's front leg, not a free leg in the air
            votes[("lunge", "both")] += votes.pop(HELD_FREE_LEG)
        if not self._model_reps:
            return votes.most_common(1)[0][0]
        votes = votes.copy()
        still_sq_s, still_s = self._still
        single = set_single_score(self._model_sums[1], self._model_reps, still_sq_s, still_s, self.accel_only)
        votes[name_by_model(self._model_sums[0] > 0.0, single > 0.0)] += self._model_reps
        return votes.most_common(1)[0][0]

    @property
    def exercise(self) -> str | None:
        return self.current()[0] if self._reps else None

    @property
    def reps_in_set(self) -> int:
        return len(self._reps)

    def close_due(self, t_s: FloatArray, until_s: float | None = None) -> list[SetEvent]:
        """Close the open set at the first sample of ``t_s`` that is ``set_rest_s`` after its last rep."""
        if self._last_end_s is None or not self._reps:
            return []
        due = self._last_end_s + self.config.set_rest_s
        k = int(np.searchsorted(t_s, due, side="left"))
        if k >= len(t_s) or (until_s is not None and t_s[k] > until_s):
            return []
        return [self._close(float(t_s[k]))]

    def finish(self, t_s: float) -> list[SetEvent]:
        return [self._close(t_s)] if self._reps else []

    def add(self, ex: Excursion) -> list[RepEvent | SetEvent | WobbleEvent]:
        """A rep candidate passed the gates. It is emitted at once, except the first rep of a set
        when its shape is ambiguous: that one waits for a second rep (a lone stride, step or sit
        is no set)."""
        # like with like: a free leg's reps are measured from where it is held, and a first rep
        # merged with the lift of that leg is measured from standing (much deeper)
        same = self._typical_depth[ex.parked]
        if len(same) >= 2 and ex.rep.depth_deg < self.config.min_relative_depth * same.median():
            return []  # a half-hearted movement between or after reps (stepping back, a shuffle)
        if self._reps or self.config.min_set_reps <= 1:
            return self._add(ex)
        first = self._tentative
        near = first is not None and ex.rep.t_start_s - first.rep.t_end_s <= self.config.set_rest_s
        # two reps of a set are alike: one under min_relative_depth of the other is no rep of it (a
        # step up, then the step down; a free leg's lift is measured from standing). Shallow reps
        # too: without a gyroscope, the small flexions after a step up would join it in a run
        ratio = self.config.min_relative_depth
        if (
            near
            and first is not None
            and ex.parked == first.parked
            and ex.rep.depth_deg < ratio * first.rep.depth_deg
        ):
            return []
        if ex.shallow or self._run:
            return self._add_run(ex)
        if first is None and unambiguous_first(ex, self.config):
            return self._add(ex)
        if first is not None and near:
            if ex.parked == first.parked and first.rep.depth_deg < ratio * ex.rep.depth_deg:
                self._tentative = ex
                return []
            if stairs_strides(first, ex, self.config):
                self._tentative = ex
                return []
            self._tentative = None
            events = self._add(first, t_event=ex.t_event_s)
            return events + self._add(ex)
        self._tentative = ex
        return []

    def _add_run(self, ex: Excursion) -> list[RepEvent | SetEvent | WobbleEvent]:
        """A shallow rep (or a rep after one) with no set open: reps that repeat as a set open it
        once there are ``repeat_set_reps`` of them, each within ``set_rest_s`` of the one before
        (a lone rep waiting for its second joins them); they are announced together."""
        cfg = self.config
        run = self._run
        if run and ex.rep.t_start_s - run[-1].rep.t_end_s > cfg.set_rest_s:
            run.clear()
        first = self._tentative
        if not run and first is not None and ex.rep.t_start_s - first.rep.t_end_s <= cfg.set_rest_s:
            run.append(first)
        self._tentative = None
        run.append(ex)
        if len(run) < cfg.repeat_set_reps:
            return []
        events: list[RepEvent | SetEvent | WobbleEvent] = []
        for waiting in run:
            events += self._add(waiting, t_event=ex.t_event_s)
        run.clear()
        return events

    def touchdown(self, t_s: float, jolt_g: float) -> list[WobbleEvent]:
        """A jolt (foot strike) during a single-leg set, soon after a rep: the free foot touched
        down to catch the balance (docs/pipeline.md)."""
        cfg = self.config
        last = self._last_end_s
        if not self._reps or last is None or self.current()[0] not in SINGLE_LEG:
            return []
        if not (self._last_event_s < t_s <= last + cfg.balance_loss_window_s):
            return []
        if self._last_touchdown_s is not None and t_s - self._last_touchdown_s < cfg.balance_loss_gap_s:
            return []
        self._last_touchdown_s = t_s
        return [
            WobbleEvent(t_s, self.set_index, round(jolt_g, 3), round(self._sway_baseline or 0.0, 3), True)
        ]

    def drop_stale(self, t_s: float) -> None:
        """Forget a lone rep once its would-be set has rested too long."""
        if self._tentative is not None and t_s - self._tentative.rep.t_end_s > self.config.set_rest_s:
            self._tentative = None
        if self._run and t_s - self._run[-1].rep.t_end_s > self.config.set_rest_s:
            self._run.clear()

    def _add(self, ex: Excursion, t_event: float | None = None) -> list[RepEvent | SetEvent | WobbleEvent]:
        events: list[RepEvent | SetEvent | WobbleEvent] = []
        t_ev = ex.t_event_s if t_event is None else t_event
        last = self._last_end_s
        if self._reps and last is not None and ex.rep.t_start_s - last > self.config.set_rest_s:
            events.append(self._close(t_ev))
        if not self._reps:
            self.set_index += 1
            self._start_s = ex.rep.t_start_s
            self._votes.clear()
            self._model_sums = [0.0, 0.0]
            self._model_reps = 0
            self._still = [0.0, 0.0]
            self._held = [0.0, 0.0, 0.0, 0.0, 0.0]
            self._sway = SwayStats()
        label = classify(ex, self.config, self.accel_only)
        if label == HELD_FREE_LEG and not self.accel_only:
            held = self._held
            held[0] += single_score(ex.rep.depth_deg, ex.physics)
            held[1] += ex.rep.depth_deg
            if held[2]:  # (the stance before the first is left out, as for the model's reps)
                held[3] += ex.physics.still_sq_s
                held[4] += ex.physics.still_s
            held[2] += 1
        if label in MODEL_NAMES:
            self._model_sums[0] += hinge_score(ex.rep.depth_deg, ex.physics)
            if not self.accel_only:  # (without a gyroscope only the still sway tells: set_single_score)
                self._model_sums[1] += single_score(ex.rep.depth_deg, ex.physics)
            if self._reps:  # the pauses between reps: the stance before the first is left out
                self._still[0] += ex.physics.still_sq_s  # (a weight shift there reads as sway)
                self._still[1] += ex.physics.still_s
            self._model_reps += 1
        else:
            self._votes[label] += 1
        exercise, sensor_on = self.current()
        wob = ex.sway.metrics()
        rep = dataclasses.replace(ex.rep, n=len(self._reps) + 1, wobble=wob)
        self._reps.append(rep)
        self._typical_depth[ex.parked].add(rep.depth_deg)
        self._sway = self._sway + ex.sway
        self._last_end_s = rep.t_end_s
        self._last_event_s = t_ev
        self.total_reps += 1
        leg = working_leg(exercise, sensor_on, self.sensor_leg)
        events.append(RepEvent(t_ev, self.set_index, exercise, leg, rep))
        if exercise in SINGLE_LEG and wob is not None:
            level = wob["rms_deg"]
            base = self._sway_baseline
            cfg = self.config
            if base is not None and level > cfg.wobble_ratio * base and level > cfg.wobble_min_deg:
                events.append(WobbleEvent(t_ev, self.set_index, level, round(base, 3)))
            self._sway_baseline = level if base is None else 0.8 * base + 0.2 * level
        return events

    def _close(self, t_s: float) -> SetEvent:
        exercise, sensor_on = self.current()
        reps = tuple(self._reps)
        ev = SetEvent(
            t_s=t_s,
            index=self.set_index,
            exercise=exercise,
            leg=working_leg(exercise, sensor_on, self.sensor_leg),
            start_s=self._start_s,
            end_s=reps[-1].t_end_s,
            reps=reps,
            wobble=self._sway.metrics(),
            summary=set_summary(reps),
        )
        self._reps = []
        self._typical_depth = {False: RunningMedian(), True: RunningMedian()}
        self._last_end_s = None
        return ev
