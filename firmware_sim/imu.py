"""The IMU error model: what separates a real MEMS sensor's output from the physics.

Applied in this order, per sample, in the sensor frame::

    accel_measured = M_a @ accel_true + bias_a + drift_a(t) + noise_a
    gyro_measured  = M_g @ gyro_true  + bias_g + drift_g(t) + noise_g
    M = (I + diag(scale)) @ (I + misalignment)       # misalignment: small off-diagonal terms

Quantisation to int16 and clipping at full scale happen when samples are put on the wire
(``tracker.protocol.quantize``), because the range is a sensor setting. The sample clock runs
``clock_error_ppm`` fast (positive) or slow, and every timestamp carries Gaussian jitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _zeros3() -> FloatArray:
    return np.zeros(3)


def _zeros33() -> FloatArray:
    return np.zeros((3, 3))


@dataclass(frozen=True)
class ImuErrors:
    """All the error terms of one simulated sensor. Defaults are an ideal sensor."""

    accel_noise_density_g_rthz: float = 0.0  # white noise, g/√Hz
    gyro_noise_density_dps_rthz: float = 0.0  # white noise, deg/s/√Hz
    accel_bias_g: FloatArray = field(default_factory=_zeros3)  # constant (turn-on) bias
    gyro_bias_dps: FloatArray = field(default_factory=_zeros3)
    accel_bias_walk_g_rts: float = 0.0  # bias drift: random walk, g per √s
    gyro_bias_walk_dps_rts: float = 0.0  # deg/s per √s
    accel_scale: FloatArray = field(default_factory=_zeros3)  # scale-factor error per axis (0.01 = +1 %)
    gyro_scale: FloatArray = field(default_factory=_zeros3)
    accel_misalignment: FloatArray = field(default_factory=_zeros33)  # off-diagonal cross-axis terms, rad
    gyro_misalignment: FloatArray = field(default_factory=_zeros33)
    clock_error_ppm: float = 0.0  # sensor clock runs this much fast (+) or slow (-)
    timestamp_jitter_us: float = 0.0  # standard deviation of each timestamp's error
    clock_offset_us: int = 0  # sensor clock at the first sample

    @classmethod
    def ideal(cls) -> ImuErrors:
        return cls()

    @classmethod
    def random(
        cls,
        rng: np.random.Generator,
        *,
        bias_g_max: float = 0.03,
        scale_max: float = 0.02,
        misalignment_deg_max: float = 1.0,
        gyro_bias_dps_max: float = 2.0,
        gyro_scale_max: float = 0.02,
        accel_noise_density_g_rthz: float = 250e-6,
        gyro_noise_density_dps_rthz: float = 0.02,
        accel_bias_walk_g_rts: float = 2e-5,
        gyro_bias_walk_dps_rts: float = 2e-3,
        clock_error_ppm_max: float = 50.0,
        timestamp_jitter_us: float = 150.0,
    ) -> ImuErrors:
        """Errors drawn uniformly within the given bounds (typical consumer MEMS by default).

        The noise defaults match the still parts of the real thigh recordings (about 0.002 g and
        0.1-0.4 deg/s RMS at 100 Hz).
        """

        def misalign(max_deg: float) -> FloatArray:
            m = rng.uniform(-1, 1, (3, 3)) * np.radians(max_deg)
            np.fill_diagonal(m, 0.0)
            return m

        return cls(
            accel_noise_density_g_rthz=accel_noise_density_g_rthz,
            gyro_noise_density_dps_rthz=gyro_noise_density_dps_rthz,
            accel_bias_g=rng.uniform(-bias_g_max, bias_g_max, 3),
            gyro_bias_dps=rng.uniform(-gyro_bias_dps_max, gyro_bias_dps_max, 3),
            accel_bias_walk_g_rts=accel_bias_walk_g_rts,
            gyro_bias_walk_dps_rts=gyro_bias_walk_dps_rts,
            accel_scale=rng.uniform(-scale_max, scale_max, 3),
            gyro_scale=rng.uniform(-gyro_scale_max, gyro_scale_max, 3),
            accel_misalignment=misalign(misalignment_deg_max),
            gyro_misalignment=misalign(misalignment_deg_max),
            clock_error_ppm=float(rng.uniform(-clock_error_ppm_max, clock_error_ppm_max)),
            timestamp_jitter_us=timestamp_jitter_us,
            clock_offset_us=int(rng.integers(0, 1 << 32)),
        )

    @property
    def accel_matrix(self) -> FloatArray:
        """``M_a``: true specific force (sensor frame) to measured, before bias and noise."""
        return (np.eye(3) + np.diag(self.accel_scale)) @ (np.eye(3) + self.accel_misalignment)

    @property
    def gyro_matrix(self) -> FloatArray:
        return (np.eye(3) + np.diag(self.gyro_scale)) @ (np.eye(3) + self.gyro_misalignment)

    def apply(
        self, accel_g: FloatArray, gyro_dps: FloatArray, rate_hz: float, rng: np.random.Generator
    ) -> tuple[FloatArray, FloatArray]:
        """Measured (accel, gyro) from true sensor-frame values sampled at ``rate_hz``."""
        n = accel_g.shape[0]
        dt = 1.0 / rate_hz
        acc = accel_g @ self.accel_matrix.T + self.accel_bias_g
        gyr = gyro_dps @ self.gyro_matrix.T + self.gyro_bias_dps
        if self.accel_bias_walk_g_rts > 0:
            acc += np.cumsum(rng.normal(0.0, self.accel_bias_walk_g_rts * np.sqrt(dt), (n, 3)), axis=0)
        if self.gyro_bias_walk_dps_rts > 0:
            gyr += np.cumsum(rng.normal(0.0, self.gyro_bias_walk_dps_rts * np.sqrt(dt), (n, 3)), axis=0)
        if self.accel_noise_density_g_rthz > 0:
            acc += rng.normal(0.0, self.accel_noise_density_g_rthz * np.sqrt(rate_hz / 2), (n, 3))
        if self.gyro_noise_density_dps_rthz > 0:
            gyr += rng.normal(0.0, self.gyro_noise_density_dps_rthz * np.sqrt(rate_hz / 2), (n, 3))
        return acc, gyr

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImuErrors:
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in data:
                v = data[f.name]
                kwargs[f.name] = np.asarray(v, dtype=np.float64) if isinstance(v, list) else v
        return cls(**kwargs)
