"""The sensor's mounting on the thigh: ``R_thigh_from_sensor`` and which thigh it is on.

Two movements fix the rotation (docs/architecture.md has the thigh frame):

- quiet standing: the thigh is vertical, so the accelerometer's mean is the thigh's ``z`` axis
  (up along the thigh) seen in the sensor's axes;
- slow squats or leg swings: the thigh turns about its ``y`` axis (the person's left-right), so
  the gyroscope's dominant rotation axis is ``+-y``. Without a gyroscope the gravity direction's
  path does the same job: it sweeps the thigh's x-z plane.

``x = y x z`` completes the frame. Its sign comes from the direction the thigh moves: squats,
deadlifts and leg swings all go further into flexion (knee forward and up, ``+x`` tilting down)
than into extension.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from calibration.imu import Verdict
from calibration.stillness import QUIET_STANDING, StillDetector, StillnessThresholds, StillPeriod
from tracker.samples import FloatArray, Samples

Leg = Literal["left", "right", "unknown"]
LEGS: tuple[str, ...] = ("left", "right", "unknown")

MIN_STANDING_S = 1.5
MIN_EXCURSION_DEG = 20.0  # a movement must take the thigh at least this far from vertical
REP_TOP_DEG = 20.0  # a rep: thigh beyond this ...
REP_BACK_DEG = 10.0  # ... and back within this
MIN_PLANARITY = 0.6  # share of the rotation about the dominant axis
SMOOTH_S = 0.5  # s: the thigh's own acceleration in a squat reaches 1 g for a moment


@dataclass(frozen=True)
class MountingQuality:
    standing_s: float
    reps_seen: int
    max_flexion_deg: float
    planarity: float  # 1.0 = all rotation about one axis
    verdict: Verdict
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "standing_s": self.standing_s,
            "reps_seen": self.reps_seen,
            "max_flexion_deg": self.max_flexion_deg,
            "planarity": self.planarity,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Mounting:
    """``v_thigh = R_thigh_from_sensor @ v_sensor``, and the thigh the sensor is strapped to."""

    R_thigh_from_sensor: FloatArray
    leg: Leg = "unknown"
    source: str = "flow"  # "flow" (reptrack calibrate mounting), "auto" (first reps of a session), "file"
    quality: MountingQuality | None = None
    created_utc: str = ""

    def __post_init__(self) -> None:
        r = np.asarray(self.R_thigh_from_sensor, dtype=np.float64).reshape(3, 3)
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
            raise ValueError("R_thigh_from_sensor must be a rotation matrix (orthonormal, det +1)")
        object.__setattr__(self, "R_thigh_from_sensor", r)
        if self.leg not in LEGS:
            raise ValueError(f"leg must be one of {', '.join(LEGS)}, got {self.leg!r}")

    def apply(self, samples: Samples) -> Samples:
        r = self.R_thigh_from_sensor
        gyro = None if samples.gyro_dps is None else np.ascontiguousarray(samples.gyro_dps @ r.T)
        return Samples(samples.t_s, np.ascontiguousarray(samples.accel_g @ r.T), gyro)


def rotation_angle_deg(r1: FloatArray, r2: FloatArray) -> float:
    """Angle of the rotation that takes ``r2`` to ``r1`` (0 = the same mounting)."""
    c = (np.trace(r1 @ r2.T) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def _smooth(x: FloatArray, n: int) -> FloatArray:
    if n <= 1 or x.shape[0] < n:
        return x
    k = np.ones(n) / n
    return np.stack([np.convolve(x[:, i], k, mode="same") for i in range(x.shape[1])], axis=1)


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v))


def _count_reps(tilt_deg: FloatArray) -> int:
    reps, out = 0, False
    for v in tilt_deg:
        if not out and v > REP_TOP_DEG:
            out = True
        elif out and v < REP_BACK_DEG:
            out = False
            reps += 1
    return reps


@dataclass
class MountingEstimate:
    mounting: Mounting
    standing: StillPeriod | None
    flexion_deg: FloatArray = field(default_factory=lambda: np.zeros(0))  # thigh pitch over the input


def _redo(reasons: list[str], standing_s: float = 0.0, reps: int = 0, flex: float = 0.0) -> MountingEstimate:
    q = MountingQuality(standing_s, reps, flex, 0.0, "redo", tuple(reasons))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return MountingEstimate(Mounting(np.eye(3), "unknown", "flow", q, now), None)


def estimate_mounting(
    samples: Samples,
    leg: Leg | None = None,
    standing: StillnessThresholds = QUIET_STANDING,
    source: str = "flow",
) -> MountingEstimate:
    """Estimate the mounting from quiet standing followed by slow squats or leg swings.

    ``samples`` must already be corrected for the sensor's own errors (``ImuCalibration.apply``).
    ``leg`` is what the user said; without it the leg is guessed from the movement when it can be
    (docs/calibration.md), else ``"unknown"``.
    """
    if len(samples) < 10:
        return _redo(["the recording is too short"])
    rate = samples.estimated_rate_hz()
    det = StillDetector(standing, rate)
    periods = det.update(samples) + det.finish()
    stands = [p for p in periods if p.duration_s >= MIN_STANDING_S]
    if not stands:
        return _redo([f"no quiet standing of {MIN_STANDING_S:.1f} s or more was found: stand still first"])
    stand = stands[0]
    z = _unit(stand.accel_mean_g)

    # Movement before or after the standing both count: only the standing direction is special.
    after = np.ones(len(samples), dtype=bool)
    acc = _smooth(samples.accel_g[after], max(1, round(SMOOTH_S * rate)))
    gdir = acc / np.maximum(np.linalg.norm(acc, axis=1, keepdims=True), 1e-9)
    tilt = np.degrees(np.arccos(np.clip(gdir @ z, -1.0, 1.0)))
    max_tilt = float(tilt.max()) if tilt.size else 0.0
    reps = _count_reps(tilt)
    if max_tilt < MIN_EXCURSION_DEG:
        return _redo(
            [f"the thigh moved only {max_tilt:.0f} deg from vertical: do slow, deep squats or leg swings"],
            stand.duration_s,
            reps,
            max_tilt,
        )

    # In-plane direction of the gravity path (perpendicular to z): +-x.
    d = gdir - np.outer(gdir @ z, z)
    moving = tilt > 5.0
    planarity_acc = 0.0
    x_acc = None
    if np.count_nonzero(moving) >= 3:
        dm = d[moving]
        vals, vecs = np.linalg.eigh(dm.T @ dm)
        x_acc = vecs[:, -1]
        planarity_acc = float(vals[-1] / max(vals.sum(), 1e-12))

    y_axis = None
    planarity = planarity_acc
    if samples.gyro_dps is not None:
        g = samples.gyro_dps[after]
        if stand.gyro_mean_dps is not None:
            g = g - stand.gyro_mean_dps  # whatever bias is left; standing sway averages out
        fast = np.linalg.norm(g, axis=1) > 10.0
        if np.count_nonzero(fast) >= 3:
            gf = g[fast]
            vals, vecs = np.linalg.eigh(gf.T @ gf)
            y_axis = vecs[:, -1]
            planarity = float(vals[-1] / max(vals.sum(), 1e-12))
    if y_axis is not None:
        y0 = _unit(y_axis - (y_axis @ z) * z)
        x0 = np.cross(y0, z)
    elif x_acc is not None:
        x0 = _unit(x_acc - (x_acc @ z) * z)
    else:
        return _redo(["no movement was found after standing: do slow squats or leg swings"], stand.duration_s)
    p = d @ x0
    if p.max() < -p.min():
        x0 = -x0
    y = np.cross(z, x0)
    r = np.vstack([x0, y, z])

    flexion = np.degrees(np.arctan2(gdir @ x0, gdir @ z))
    reasons: list[str] = []
    verdict: Verdict = "good"
    if planarity < MIN_PLANARITY:
        verdict = "redo"
        reasons.append(
            f"only {planarity:.0%} of the movement was a forward bend of the thigh: "
            "face forward and keep the knee in line with the foot"
        )
    if reps < 2:
        reasons.append(f"{reps} full movement(s) seen; two or more give a steadier estimate")
        if reps < 1:
            verdict = "redo"
    chosen: Leg = leg if leg is not None else guess_leg(samples, r, stand)
    quality = MountingQuality(
        standing_s=stand.duration_s,
        reps_seen=reps,
        max_flexion_deg=float(flexion.max()),
        planarity=planarity,
        verdict=verdict,
        reasons=tuple(reasons),
    )
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return MountingEstimate(Mounting(r, chosen, source, quality, now), stand, flexion)


def guess_leg(samples: Samples, r: FloatArray, stand: StillPeriod) -> Leg:
    """Which thigh, from the movement; ``"unknown"`` when the movement does not tell.

    The rotation alone cannot tell a left thigh from a right one (the thigh frame is the same for
    both), so this is left to the user unless the movement gives it away (docs/calibration.md).
    """
    return "unknown"


class LiveMountingEstimator:
    """Finds the mounting from the first reps of a live session (when none was calibrated).

    Feed the sensor-corrected stream with :meth:`update`; it returns a :class:`Mounting` (source
    ``"auto"``) once it has seen quiet standing and two reps after it, and ``None`` until then.
    Memory is bounded: it keeps at most ``max_window_s`` of samples and starts over after that.
    """

    def __init__(self, leg: Leg | None = None, max_window_s: float = 90.0) -> None:
        self.leg = leg
        self.max_window_s = max_window_s
        self._blocks: list[Samples] = []
        self._n = 0
        self.result: Mounting | None = None
        self._last_try_s = -np.inf

    def update(self, samples: Samples) -> Mounting | None:
        if self.result is not None or len(samples) == 0:
            return self.result
        self._blocks.append(samples)
        self._n += len(samples)
        t_end = float(samples.t_s[-1])
        t_start = float(self._blocks[0].t_s[0])
        if t_end - t_start > self.max_window_s:
            # Keep the recent half: quiet standing may be in it.
            keep_from = t_end - self.max_window_s / 2
            whole = Samples.concat(self._blocks)
            i = int(np.searchsorted(whole.t_s, keep_from))
            self._blocks = [whole.slice(i, len(whole))]
        if t_end - self._last_try_s < 1.0:
            return None
        self._last_try_s = t_end
        est = estimate_mounting(Samples.concat(self._blocks), self.leg, source="auto")
        q = est.mounting.quality
        if q is not None and q.verdict == "good" and q.reps_seen >= 2:
            self.result = est.mounting
            self._blocks = []
        return self.result
