"""Sensor error corrections: what an accelerometer and gyroscope calibration stores and how it applies.

Error model (the simulator's, firmware_sim.imu): a sensor measures

    m = A @ a + b          accelerometer, g      (A = scale x misalignment, b = bias)
    w_m = w + b_w          gyroscope, deg/s      (only the bias is estimated)

with ``a`` the true specific force in the sensor's axes. The accelerometer correction stored here
is ``a = C @ (m - b)`` with ``C`` symmetric, the unique symmetric matrix with ``C @ A`` a rotation:
static poses fix ``A`` only up to a rotation (docs/calibration.md), and the symmetric choice is the
one that turns the corrected axes least against the sensor's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from tracker.samples import FloatArray, Samples

Verdict = Literal["good", "redo"]


def _vec(x: Any) -> FloatArray:
    return np.asarray(x, dtype=np.float64).reshape(3)


def _mat(x: Any) -> FloatArray:
    return np.asarray(x, dtype=np.float64).reshape(3, 3)


@dataclass(frozen=True)
class AccelQuality:
    """How well the accelerometer fit explains the poses: |a| of every corrected pose against 1 g."""

    residual_rms_g: float
    residual_max_g: float
    raw_residual_rms_g: float  # the same figure before calibration, for comparison
    poses_used: int
    misalignment_estimated: bool
    verdict: Verdict
    reasons: tuple[str, ...] = ()  # why "redo", or notes on a good fit
    gyro_axes_calibrated: bool = False  # gyro scale and axes fitted to the turns (calibration.accel)
    turn_residual_deg: float = float("nan")  # how well the gyro's turns between poses agreed

    def to_json(self) -> dict[str, Any]:
        return {
            "gyro_axes_calibrated": self.gyro_axes_calibrated,
            "turn_residual_deg": self.turn_residual_deg,
            "residual_rms_g": self.residual_rms_g,
            "residual_max_g": self.residual_max_g,
            "raw_residual_rms_g": self.raw_residual_rms_g,
            "poses_used": self.poses_used,
            "misalignment_estimated": self.misalignment_estimated,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class AccelCalibration:
    """``a = correction @ (m - bias_g)``: bias, scale and axis misalignment of the accelerometer."""

    bias_g: FloatArray
    correction: FloatArray
    quality: AccelQuality | None = None
    created_utc: str = ""
    # Gyro scale and axes on the same axes as the corrected accelerometer: w = gyro_correction @ (w_m - b_w).
    gyro_correction: FloatArray = field(default_factory=lambda: np.eye(3))

    def __post_init__(self) -> None:
        object.__setattr__(self, "bias_g", _vec(self.bias_g))
        object.__setattr__(self, "correction", _mat(self.correction))
        object.__setattr__(self, "gyro_correction", _mat(self.gyro_correction))

    @property
    def sensitivity(self) -> FloatArray:
        """The estimated error matrix ``A`` in its symmetric form (``C`` inverted)."""
        return np.asarray(np.linalg.inv(self.correction))

    @property
    def scale(self) -> FloatArray:
        """Gain of each axis (1.0 = exact): the length of each row of ``A``, free of the rotation."""
        return scale_and_axis_angles(self.sensitivity)[0]

    @property
    def axis_angles_deg(self) -> FloatArray:
        """Angles between the sensitive axes, pairs (x,y), (x,z), (y,z): 90 deg = orthogonal."""
        return scale_and_axis_angles(self.sensitivity)[1]

    def correct(self, accel_g: FloatArray) -> FloatArray:
        return np.asarray((accel_g - self.bias_g) @ self.correction.T)


@dataclass(frozen=True)
class GyroQuality:
    """Evidence that the sensor really was still while the gyro bias was measured."""

    still_s: float
    periods_used: int
    gyro_noise_dps: float  # largest per-axis standard deviation while still
    accel_drift_deg: float  # largest turn of the gravity direction within a still period
    verdict: Verdict
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "still_s": self.still_s,
            "periods_used": self.periods_used,
            "gyro_noise_dps": self.gyro_noise_dps,
            "accel_drift_deg": self.accel_drift_deg,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class GyroCalibration:
    """``w = w_m - bias_dps``."""

    bias_dps: FloatArray
    quality: GyroQuality | None = None
    created_utc: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "bias_dps", _vec(self.bias_dps))


@dataclass(frozen=True)
class ImuCalibration:
    """The sensor's own errors; either part may be missing (then that sensor is used as is)."""

    accel: AccelCalibration | None = None
    gyro: GyroCalibration | None = None

    def apply(self, samples: Samples) -> Samples:
        """Correct a block of samples; stays in the sensor's axes."""
        accel = samples.accel_g if self.accel is None else self.accel.correct(samples.accel_g)
        gyro = samples.gyro_dps
        if gyro is not None and self.gyro is not None:
            gyro = gyro - self.gyro.bias_dps
        if gyro is not None and self.accel is not None:
            gyro = np.ascontiguousarray(gyro @ self.accel.gyro_correction.T)
        return Samples(samples.t_s, np.ascontiguousarray(accel), gyro)

    def with_accel(self, accel: AccelCalibration | None) -> ImuCalibration:
        return replace(self, accel=accel)

    def with_gyro(self, gyro: GyroCalibration | None) -> ImuCalibration:
        return replace(self, gyro=gyro)


IDENTITY = ImuCalibration()


def scale_and_axis_angles(sensitivity: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Scale of each axis and angles between axes of an error matrix ``A`` (rotation-invariant).

    Row ``i`` of ``A`` is axis ``i``'s sensitive direction times its gain. ``A @ A.T`` is what static
    poses determine, and it fixes exactly these six numbers.
    """
    aat = sensitivity @ sensitivity.T
    scale = np.sqrt(np.diag(aat))
    pairs = ((0, 1), (0, 2), (1, 2))
    cos = np.array([aat[i, j] / (scale[i] * scale[j]) for i, j in pairs])
    return scale, np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def symmetric_correction(sensitivity_aat: FloatArray) -> FloatArray:
    """The symmetric ``C`` with ``C @ A`` orthogonal, from ``A @ A.T``: ``C = (A A^T)^(-1/2)``."""
    vals, vecs = np.linalg.eigh(sensitivity_aat)
    if np.any(vals <= 0):
        raise ValueError("A @ A.T must be positive definite")
    return np.asarray((vecs * (1.0 / np.sqrt(vals))) @ vecs.T)
