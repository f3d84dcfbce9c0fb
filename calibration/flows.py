"""Guided calibration flows: what to ask the user, progress as data arrives, and the verdict.

Each flow is fed the sensor's stream chunk by chunk (live, simulated or replayed, it does not
care), returns the lines to show the user as it goes, says when it has enough, and turns what it
saw into a calibration with a verdict. The CLI (``reptrack calibrate``) only moves chunks and prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from calibration.accel import calibrate_gyro_axes, fit_accelerometer, turns_between
from calibration.gyro import MIN_STILL_S, fit_gyro_bias
from calibration.imu import AccelCalibration, GyroCalibration, ImuCalibration
from calibration.mounting import REP_BACK_DEG, REP_TOP_DEG, SMOOTH_S, Leg, MountingEstimate, estimate_mounting
from calibration.stillness import (
    QUIET_STANDING,
    StaticPose,
    StillDetector,
    StillnessThresholds,
    StillPeriod,
    group_poses,
)
from tracker.samples import Samples


@dataclass
class Stream:
    """A sensor's stream for a flow: whose it is, the chunks, and (simulator only) the truth."""

    device_id: str
    chunks: Iterator[Samples]
    rate_hz: float | None
    truth: dict[str, str] | None = None
    true_mounting: np.ndarray | None = None  # simulator only: R_thigh_from_sensor, for tests


POSE_HINTS: tuple[str, ...] = (
    "x axis pointing up (the axes printed on the sensor)",
    "x axis pointing down",
    "y axis pointing up",
    "y axis pointing down",
    "z axis pointing up (usually: flat, label up)",
    "z axis pointing down (flat, label down)",
    "tilted about 45 deg between x up and z up (lean it on a book)",
    "tilted about 45 deg between x down and z up",
    "tilted about 45 deg between y up and z down",
    "on a corner: x, y and z all tilted upwards",
    "on the opposite corner: x, y and z all tilted downwards",
    "any other tilted orientation you have not used",
)
POSE_HOLD_S = 2.0  # how long each pose must be held
POSE_SEPARATION_DEG = 20.0


def _axis_name(a: np.ndarray) -> str:
    """'x up', 'z down', or 'tilted' for a gravity reading in the sensor frame."""
    u = a / np.linalg.norm(a)
    i = int(np.argmax(np.abs(u)))
    if abs(u[i]) > np.cos(np.radians(20)):
        return f"{'xyz'[i]} {'up' if u[i] > 0 else 'down'}"
    return "tilted"


@dataclass
class AccelFlow:
    """Static poses: hold the sensor still in ``target_poses`` different orientations."""

    target_poses: int = 12
    thresholds: StillnessThresholds = field(
        default_factory=lambda: StillnessThresholds(window_s=0.5, min_duration_s=POSE_HOLD_S)
    )
    rate_hz: float | None = None
    periods: list[StillPeriod] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._det = StillDetector(self.thresholds, self.rate_hz)
        self._announced: float | None = None  # start of the still period last announced
        self._blocks: list[Samples] = []  # a few minutes at most: kept to integrate the turns

    def intro(self) -> list[str]:
        return [
            f"Accelerometer calibration: hold the sensor still in {self.target_poses} different orientations,",
            f"about {POSE_HOLD_S:.0f} s each, resting on a firm surface (a table, a book). Between poses, turn it.",
            f"Pose 1: {POSE_HINTS[0]}.",
        ]

    def _held(self) -> StillPeriod | None:
        """The still period in progress once it has been held long enough to count as a pose."""
        cur = self._det.current()
        return cur if cur is not None and cur.duration_s >= self.thresholds.min_duration_s else None

    @property
    def poses(self) -> list[StaticPose]:
        held = self._held()
        return group_poses([*self.periods, *([held] if held is not None else [])], POSE_SEPARATION_DEG)

    @property
    def done(self) -> bool:
        return len(self.poses) >= self.target_poses

    def feed(self, samples: Samples) -> list[str]:
        # A pose is announced as soon as it has been held long enough (live, the sensor may stay in
        # the last pose for ever); one that started and ended within this chunk, when it ends.
        self._blocks.append(samples)
        lines: list[str] = []
        for p in self._det.update(samples):
            before = len(group_poses(self.periods, POSE_SEPARATION_DEG))
            self.periods.append(p)
            if p.start_s != self._announced:
                lines.extend(self._announce(p, before, len(group_poses(self.periods, POSE_SEPARATION_DEG))))
            self._announced = None
        held = self._held()
        if held is not None and held.start_s != self._announced:
            self._announced = held.start_s
            before = len(group_poses(self.periods, POSE_SEPARATION_DEG))
            lines.extend(self._announce(held, before, len(self.poses)))
        return lines

    def _announce(self, p: StillPeriod, before: int, after: int) -> list[str]:
        if after == before:
            return [
                f"  that orientation ({_axis_name(p.accel_mean_g)}) was already captured: turn the sensor"
            ]
        lines = [f"  pose {after}/{self.target_poses} captured ({_axis_name(p.accel_mean_g)})"]
        if after < self.target_poses:
            lines.append(f"Pose {after + 1}: {POSE_HINTS[min(after, len(POSE_HINTS) - 1)]}.")
        return lines

    def finish(self) -> AccelCalibration:
        self.periods.extend(self._det.finish())
        poses = group_poses(self.periods, POSE_SEPARATION_DEG)
        cal = fit_accelerometer([p.accel_mean_g for p in poses], [p.start_s for p in poses])
        samples = Samples.concat(self._blocks)
        if samples.gyro_dps is None or not self.periods:
            return calibrate_gyro_axes(cal, [])
        gyro_bias = fit_gyro_bias(self.periods).bias_dps
        return calibrate_gyro_axes(cal, turns_between(samples, self.periods, gyro_bias))


@dataclass
class GyroFlow:
    """Put the sensor down and leave it alone for ``still_s`` seconds."""

    still_s: float = 10.0
    rate_hz: float | None = None

    def __post_init__(self) -> None:
        self._det = StillDetector(StillnessThresholds(window_s=0.5, min_duration_s=1.0), self.rate_hz)
        self.periods: list[StillPeriod] = []
        self._last_report = 0

    def intro(self) -> list[str]:
        return [
            "Gyroscope calibration: put the sensor down on a table and do not touch it",
            f"for {self.still_s:.0f} s (at least {MIN_STILL_S:.0f} s of stillness are needed).",
        ]

    def _still_total(self) -> float:
        cur = self._det.current()
        return sum(p.duration_s for p in self.periods) + (cur.duration_s if cur else 0.0)

    @property
    def done(self) -> bool:
        return self._still_total() >= self.still_s

    def feed(self, samples: Samples) -> list[str]:
        if not samples.has_gyro:
            raise ValueError("this sensor stream has no gyroscope data")
        lines = []
        for p in self._det.update(samples):
            self.periods.append(p)
            lines.append(f"  moved after {p.duration_s:.1f} s still: put it down and leave it")
        total = self._still_total()
        if int(total) // 2 > self._last_report:
            self._last_report = int(total) // 2
            lines.append(f"  still for {min(total, self.still_s):.0f}/{self.still_s:.0f} s")
        return lines

    def finish(self) -> GyroCalibration:
        self.periods.extend(self._det.finish())
        return fit_gyro_bias(self.periods)


@dataclass
class MountingFlow:
    """Quiet standing, then a few slow squats or leg swings, with the sensor on the thigh."""

    imu: ImuCalibration = field(default_factory=ImuCalibration)
    leg: Leg | None = None
    reps: int = 3
    rate_hz: float | None = None

    def __post_init__(self) -> None:
        self._blocks: list[Samples] = []
        self._det = StillDetector(QUIET_STANDING, self.rate_hz)
        self._standing: StillPeriod | None = None
        self._up: np.ndarray | None = None
        self._out = False
        self.reps_seen = 0
        self._tail = np.zeros((0, 3))
        self._said_stand = False

    def intro(self) -> list[str]:
        return [
            "Mounting calibration: strap the sensor on your thigh as you will wear it.",
            "1. Stand still, upright, for 3 s.",
            f"2. Then do {self.reps} slow squats (or swing the leg slowly forward and back), facing forward.",
        ]

    @property
    def done(self) -> bool:
        return self._standing is not None and self.reps_seen >= self.reps and not self._out

    def feed(self, samples: Samples) -> list[str]:
        corrected = self.imu.apply(samples)
        self._blocks.append(corrected)
        lines: list[str] = []
        ended = self._det.update(corrected)
        if self._standing is None:
            cur = self._det.current()
            for p in [*ended, *([cur] if cur is not None else [])]:
                if p.duration_s >= 2.0:
                    self._standing = p
                    self._up = p.accel_mean_g / np.linalg.norm(p.accel_mean_g)
                    lines.append(f"  standing captured ({p.duration_s:.1f} s). Now the slow squats.")
                    break
            return lines
        assert self._up is not None
        # Causal moving average: the thigh's own acceleration (up to 1 g in a squat) must not
        # count as tilt. The tail of the previous chunk carries over, so chunking does not matter.
        n = max(1, round(SMOOTH_S * (self.rate_hz or corrected.estimated_rate_hz() or 100.0)))
        a_all = np.concatenate([self._tail, corrected.accel_g])
        self._tail = a_all[-(n - 1) :] if n > 1 else a_all[:0]
        if a_all.shape[0] < n:
            return lines
        c = np.concatenate([np.zeros((1, 3)), np.cumsum(a_all, axis=0)])
        a = (c[n:] - c[:-n]) / n
        tilt = np.degrees(
            np.arccos(np.clip((a / np.linalg.norm(a, axis=1, keepdims=True)) @ self._up, -1, 1))
        )
        for v in tilt:
            if not self._out and v > REP_TOP_DEG:
                self._out = True
            elif self._out and v < REP_BACK_DEG:
                self._out = False
                self.reps_seen += 1
                lines.append(f"  movement {self.reps_seen}/{self.reps}")
        return lines

    def finish(self) -> MountingEstimate:
        return estimate_mounting(Samples.concat(self._blocks), self.leg)


def describe_accel(cal: AccelCalibration) -> list[str]:
    q = cal.quality
    lines = [
        f"bias: {_fmt(cal.bias_g, 4)} g",
        f"scale: {_fmt((cal.scale - 1) * 100, 2)} %",
    ]
    if q is not None and q.misalignment_estimated:
        lines.append(f"axis angles (x-y, x-z, y-z): {_fmt(cal.axis_angles_deg - 90, 2)} deg from square")
    if q is not None:
        lines.append(
            f"|a| against 1 g: {q.residual_rms_g:.4f} g rms after, {q.raw_residual_rms_g:.4f} g before; "
            f"{q.poses_used} poses used"
        )
    return lines


def describe_gyro(cal: GyroCalibration) -> list[str]:
    lines = [f"bias: {_fmt(cal.bias_dps, 3)} deg/s"]
    if (q := cal.quality) is not None:
        lines.append(
            f"still for {q.still_s:.1f} s; gyro noise {q.gyro_noise_dps:.3f} deg/s; "
            f"gravity direction turned {q.accel_drift_deg:.2f} deg"
        )
    return lines


def describe_mounting(est: MountingEstimate) -> list[str]:
    m = est.mounting
    lines = []
    if (q := m.quality) is not None:
        lines.append(
            f"standing {q.standing_s:.1f} s, {q.reps_seen} movement(s), deepest {q.max_flexion_deg:.0f} deg, "
            f"{q.planarity:.0%} in the sagittal plane"
        )
    axes = m.R_thigh_from_sensor
    for name, row in zip(("forward", "left", "up"), axes, strict=True):
        lines.append(f"thigh {name:7s} = sensor {_fmt(row, 3)}")
    lines.append(f"leg: {m.leg}")
    return lines


def _fmt(v: np.ndarray, digits: int) -> str:
    return "[" + ", ".join(f"{x:+.{digits}f}" for x in np.asarray(v).ravel()) + "]"
