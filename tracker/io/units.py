"""Units: the scale of each unit a file may name, and the check that the values match the unit read."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracker.errors import InputFileError
from tracker.samples import Samples

STANDARD_GRAVITY_MS2 = 9.80665
DEG_PER_RAD = 180.0 / math.pi
ACCEL_UNITS = ("g", "m/s2")
GYRO_UNITS = ("deg/s", "rad/s")


def accel_scale(path: Path, unit: str, column: str) -> float:
    u = unit.replace(" ", "").replace("²", "^2")
    if u == "g":
        return 1.0
    if u in ("m/s^2", "m/s2", "ms^-2", "m/s/s"):
        return 1.0 / STANDARD_GRAVITY_MS2
    raise InputFileError(path, f"unknown acceleration unit {unit!r}; expected g or m/s^2", column=column)


def gyro_scale(path: Path, unit: str, column: str) -> float:
    u = unit.replace(" ", "").replace("°", "deg")
    if u in ("deg/s", "dps", "degs^-1"):
        return 1.0
    if u in ("rad/s", "rads^-1"):
        return DEG_PER_RAD
    raise InputFileError(path, f"unknown angular rate unit {unit!r}; expected deg/s or rad/s", column=column)


def merge_accel_gyro(
    path: Path,
    t_acc: npt.NDArray[np.float64],
    accel: npt.NDArray[np.float64],
    t_gyr: npt.NDArray[np.float64] | None,
    gyro: npt.NDArray[np.float64] | None,
    warnings: list[str],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64] | None]:
    """Put the gyroscope on the accelerometer's times (linear interpolation) when clocks differ.

    Accelerometer samples outside the gyroscope's time span are dropped (with a warning), so every
    sample has both.
    """
    if t_gyr is None or gyro is None:
        return t_acc, accel, None
    if t_gyr.shape == t_acc.shape and np.allclose(t_gyr, t_acc, rtol=0.0, atol=5e-4):
        return t_acc, accel, gyro
    inside = (t_acc >= t_gyr[0]) & (t_acc <= t_gyr[-1])
    if not inside.any():
        raise InputFileError(
            path,
            f"the gyroscope's time span {t_gyr[0]:.3f}..{t_gyr[-1]:.3f} s does not overlap the "
            f"accelerometer's {t_acc[0]:.3f}..{t_acc[-1]:.3f} s",
        )
    dropped = int((~inside).sum())
    if dropped:
        warnings.append(f"dropped {dropped} accelerometer samples outside the gyroscope's time span")
    t = t_acc[inside]
    resampled = np.column_stack([np.interp(t, t_gyr, gyro[:, i]) for i in range(3)])
    rate_a = 1.0 / float(np.median(np.diff(t_acc))) if t_acc.size > 1 else 0.0
    rate_g = 1.0 / float(np.median(np.diff(t_gyr))) if t_gyr.size > 1 else 0.0
    warnings.append(
        f"gyroscope ({rate_g:.4g} Hz) resampled onto the accelerometer's times ({rate_a:.4g} Hz) by linear interpolation"
    )
    return t, accel[inside], resampled


def rest_accel_magnitude(samples: Samples) -> float | None:
    """Median |a| over the stillest half-second windows; None when the data are too short."""
    n = len(samples)
    rate = samples.estimated_rate_hz()
    w = max(5, round(0.5 * rate)) if rate > 0 else 5
    if n < w:
        return None
    k = n // w
    acc = samples.accel_g[: k * w].reshape(k, w, 3)
    mag = _norms(acc.reshape(-1, 3)).reshape(k, w)
    mean_mag = mag.mean(axis=1)
    spread = acc.std(axis=1).max(axis=1)
    scale = float(np.median(mean_mag))
    if not math.isfinite(scale) or scale <= 0:
        return 0.0
    still = spread <= 0.05 * np.maximum(mean_mag, 1e-12)
    if not still.any():
        still = spread <= np.quantile(spread, 0.25)
    return float(np.median(mean_mag[still]))


PLAUSIBLE_ACCEL_G = 1000.0
PLAUSIBLE_GYRO_DPS = 1e5
"""Beyond these no IMU reads (even in another unit): such samples are corrupt and left out of the
unit check (the pipeline's sanitiser drops them too)."""


def _plausible(samples: Samples) -> Samples:
    """The samples whose values are finite and within what any IMU could read, in any unit."""
    accel, gyro = samples.accel_g, samples.gyro_dps
    with np.errstate(invalid="ignore"):  # the usual case, told by whole-array reductions (cheap)
        accel_ok = bool(np.isfinite(accel).all()) and bool((np.abs(accel) < PLAUSIBLE_ACCEL_G).all())
        if accel_ok and (gyro is None or bool((np.abs(gyro) < PLAUSIBLE_GYRO_DPS).all())):
            return samples
    ok = np.all(np.isfinite(samples.accel_g), axis=1) & np.all(
        np.abs(samples.accel_g) < PLAUSIBLE_ACCEL_G, axis=1
    )
    if samples.gyro_dps is not None:
        with np.errstate(invalid="ignore"):
            ok &= np.all(np.abs(samples.gyro_dps) < PLAUSIBLE_GYRO_DPS, axis=1)
    if ok.all():
        return samples
    keep = np.flatnonzero(ok)
    gyro = None if samples.gyro_dps is None else samples.gyro_dps[keep]
    return Samples(samples.t_s[keep], samples.accel_g[keep], gyro)


def _norms(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``np.linalg.norm(rows, axis=1)`` of (n, 3) rows, summed in the same order (the same bits),
    without the cost of a reduction along the short axis."""
    sq = rows * rows
    return np.sqrt(sq[:, 0] + sq[:, 1] + sq[:, 2])


def gyro_to_tilt_ratio(samples: Samples) -> tuple[float, float, int] | None:
    """How fast the accelerometer says the sensor tilts, over what the gyroscope says it turns.

    Measured over 0.1 s steps in calm stretches only: the accelerometer reads near 1 g at both
    ends and across the step (no impact, jump or stride push in between, where the accelerometer
    is no tilt sensor), and it tilts faster than 30 deg/s. A gyroscope can never turn slower than
    the tilt it causes, so a ratio far above 1 means the gyro values are too small (rad/s read as
    deg/s). Returns (median ratio, 25th-percentile ratio, number of steps used), or None when
    there is too little calm motion to tell.
    """
    samples = _plausible(samples)
    if samples.gyro_dps is None or len(samples) < 20:
        return None
    rate = samples.estimated_rate_hz()
    if not math.isfinite(rate) or rate <= 0:
        return None
    m = max(1, round(0.1 * rate))
    kernel = np.ones(m) / m
    acc = np.column_stack([np.convolve(samples.accel_g[:, i], kernel, mode="valid") for i in range(3)])
    gyr_mag = np.convolve(_norms(samples.gyro_dps), kernel, mode="valid")
    raw_norm = _norms(samples.accel_g)
    # the largest departure from 1 g of any raw sample inside each averaging window
    shaken = np.abs(raw_norm - 1.0)
    worst = shaken[: shaken.size - m + 1].copy()
    for k in range(1, m):  # a running maximum over m samples, m - 1 vector maxima (m is ~10)
        np.maximum(worst, shaken[k : k + worst.size], out=worst)
    t = np.convolve(samples.t_s, kernel, mode="valid")
    if acc.shape[0] <= m:
        return None
    norm = _norms(acc)
    ok = norm > 1e-9
    u = acc / np.where(ok, norm, 1.0)[:, None]
    a, b = u[:-m], u[m:]
    dt = t[m:] - t[:-m]
    cos = np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)
    tilt_dps = np.degrees(np.arccos(cos)) / np.where(dt > 0, dt, np.inf)
    turn_dps = gyr_mag[m // 2 : m // 2 + tilt_dps.shape[0]]
    calm = (worst[:-m] < 0.3) & (worst[m:] < 0.3) & ok[:-m] & ok[m:]
    calm &= (np.abs(norm[:-m] - 1.0) < 0.15) & (np.abs(norm[m:] - 1.0) < 0.15)
    use = calm & (tilt_dps > 30.0) & (dt < 3.0 * m / rate)
    count = int(use.sum())
    if count < 10:
        return None
    ratio = tilt_dps[use] / np.maximum(turn_dps[use], 1e-9)
    return float(np.median(ratio)), float(np.quantile(ratio, 0.25)), count


CLEAR_UNIT_STEPS = 50
"""Calm tilting steps needed before a gyroscope unit mismatch is refused rather than warned about."""
CLEAR_LOW_RATIO = 10.0
"""...and the 25th percentile of their tilt/turn ratios must exceed this. In the right unit it stays
at or below 5.4 on every real recording in ../shared/data (medians up to 7.5); rad/s read as deg/s
puts it at 21 or more (docs/recording.md)."""


def check_sample_units(
    samples: Samples, path: str | Path, *, accel_unit: str = "g", gyro_unit: str = "deg/s", fmt: str = "csv"
) -> list[str]:
    """Refuse data whose magnitudes say the units are not what the reader assumed; return
    warnings where the data only suggest it (too little calm motion to be sure)."""
    plausible = _plausible(samples)
    rest = rest_accel_magnitude(plausible)
    option = fmt == "csv"
    accel_as = f"as {accel_unit}" if option else "in the unit its header names"
    gyro_as = f"as {gyro_unit}" if option else "in the unit its header names"
    if rest is not None and not 0.5 <= rest <= 2.0:
        shown = f"{rest:.3g} g"
        if 6.0 <= rest <= 14.0:
            hint = " It looks like m/s^2" + (": use --accel-unit m/s2." if option else ".")
        elif 0.06 <= rest <= 0.14 and accel_unit == "m/s2":
            hint = " It looks like g: use --accel-unit g."
        elif rest < 0.3:
            hint = " It looks like gravity was removed (linear acceleration); RepTrack needs acceleration with gravity."
        else:
            hint = ""
        raise InputFileError(
            path, f"the accelerometer reads {shown} at rest (read {accel_as}), expected about 1 g.{hint}"
        )
    if rest is None:
        return []
    measured = gyro_to_tilt_ratio(plausible)
    if measured is None or plausible.gyro_dps is None:
        return []
    ratio, low_ratio, count = measured
    gyro_p99 = float(np.quantile(_norms(plausible.gyro_dps), 0.99))
    sure = count >= CLEAR_UNIT_STEPS
    if ratio > 15.0 and gyro_p99 > 0.2:
        hint = " Use --gyro-unit rad/s." if option and gyro_unit == "deg/s" else ""
        message = (
            f"the gyroscope turns about {ratio:.0f} times slower than the accelerometer tilts "
            f"(read {gyro_as}); it looks like rad/s.{hint}"
        )
        if sure and low_ratio > CLEAR_LOW_RATIO:
            raise InputFileError(path, message)
        return [f"{path}: {message} (only {count} calm tilting steps to judge from: loaded as it is)"]
    if ratio < 0.1 or gyro_p99 > 5000.0:
        hint = " Use --gyro-unit deg/s." if option and gyro_unit == "rad/s" else ""
        times = f"about {1 / ratio:.0f} times" if ratio > 0 else "far"
        message = (
            f"the gyroscope turns {times} faster than the accelerometer tilts "
            f"(read {gyro_as}); it looks like deg/s read as rad/s.{hint}"
        )
        if sure or gyro_p99 > 5000.0:
            raise InputFileError(path, message)
        return [f"{path}: {message} (only {count} calm tilting steps to judge from: loaded as it is)"]
    return []
