"""The pipeline's entrance: samples no sensor can produce are replaced before anything sees them.

One corrupt sample (a bit flip, a bad CSV cell, an accelerometer value of 1000 g, a NaN from a
packet without gyroscope) would otherwise pass through the filters into the orientation, the
mounting search and the rep detector, and cost reps or a whole set. A corrupt value is replaced
by the last good value of the same sensor (held across chunks, so streaming equals batch), and
counted, so the caller can say how many were replaced.
"""

from __future__ import annotations

import numpy as np

from tracker.samples import FloatArray, Samples

MAX_ACCEL_G = 32.0
"""Twice the largest accelerometer range of the sensors RepTrack reads (16 g)."""
MAX_GYRO_DPS = 4000.0
"""Twice the largest gyroscope range (2000 deg/s)."""
UPRIGHT_G = np.array([0.0, 0.0, 1.0])


class SampleSanitizer:
    """Replaces non-finite and impossible accelerometer and gyroscope values, streaming."""

    def __init__(self, max_accel_g: float = MAX_ACCEL_G, max_gyro_dps: float = MAX_GYRO_DPS) -> None:
        self.max_accel_g = max_accel_g
        self.max_gyro_dps = max_gyro_dps
        self.replaced_accel = 0  # samples whose accelerometer value was replaced
        self.replaced_gyro = 0
        self._last_accel: FloatArray | None = None
        self._last_gyro: FloatArray | None = None

    @property
    def replaced(self) -> int:
        return self.replaced_accel + self.replaced_gyro

    def clean(self, chunk: Samples) -> Samples:
        """The chunk with every corrupt row held at the last good one (the same object if clean)."""
        accel, bad_a, self._last_accel = _hold(chunk.accel_g, self.max_accel_g, self._last_accel, UPRIGHT_G)
        gyro = chunk.gyro_dps
        bad_g = 0
        if gyro is not None:
            gyro, bad_g, self._last_gyro = _hold(gyro, self.max_gyro_dps, self._last_gyro, np.zeros(3))
        if not bad_a and not bad_g:
            return chunk
        self.replaced_accel += bad_a
        self.replaced_gyro += bad_g
        return Samples(chunk.t_s, accel, gyro)

    def summary(self) -> str | None:
        """One line for the user, or None when nothing was replaced."""
        if not self.replaced:
            return None
        return (
            f"replaced {self.replaced_accel} accelerometer and {self.replaced_gyro} gyroscope samples that no "
            f"sensor can produce (not a finite number, or beyond {self.max_accel_g:g} g / "
            f"{self.max_gyro_dps:g} deg/s) by the sample before them"
        )


def _hold(
    values: FloatArray, limit: float, last: FloatArray | None, fallback: FloatArray
) -> tuple[FloatArray, int, FloatArray | None]:
    """Rows with a non-finite or out-of-range value take the last good row before them.

    Returns the rows, how many were replaced, and the last good row (for the next chunk)."""
    if not len(values):
        return values, 0, last
    if np.maximum.reduce(np.abs(values), axis=None) <= limit:  # the usual case (NaN fails it too)
        return values, 0, values[-1]
    with np.errstate(invalid="ignore"):
        good = np.all(np.abs(values) <= limit, axis=1)  # False for NaN and inf as well
    bad = int((~good).sum())
    index = np.where(good, np.arange(len(values)), -1)
    np.maximum.accumulate(index, out=index)
    before = last if last is not None else fallback
    fixed = np.where((index >= 0)[:, None], values[np.maximum(index, 0)], before[None, :])
    new_last = values[index[-1]] if index[-1] >= 0 else last
    return fixed, bad, new_last
