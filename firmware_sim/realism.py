"""Figures that say whether simulated thigh signals look like real ones (bench/realism.py).

The same code measures a real recording and a simulated one, from the sensor-frame samples
alone (the mounting is unknown for both): the standing gravity direction comes from the stillest
second, the flexion axis from the gyroscope's main axis of rotation, and the thigh angle from the
low-passed accelerometer in the plane they span. Each movement cycle (a rep, a stride) is a peak of
that angle; per cycle we report:

* ``angle_range_deg``: max - min of the thigh angle around the cycle
* ``peak_rate_dps``: the largest angular speed (|gyro|)
* ``acc_min_g`` / ``acc_max_g``: the range of the acceleration magnitude |a|
* ``acc_centroid_hz``: spectral centroid of |a| (0.5-25 Hz), how jerky the movement is
* ``acc_hf_share``: share of |a|'s variance above 5 Hz (impacts, soft tissue)
* ``duration_s``: the cycle's width at 90 % of its angle excursion
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, find_peaks, peak_widths, sosfiltfilt

FloatArray = npt.NDArray[np.float64]

FIGURES = (
    "angle_range_deg",
    "peak_rate_dps",
    "acc_min_g",
    "acc_max_g",
    "acc_centroid_hz",
    "acc_hf_share",
    "duration_s",
)


def thigh_angle_deg(accel_g: FloatArray, gyro_dps: FloatArray, rate_hz: float) -> FloatArray:
    """Sagittal thigh angle from standing, flexion positive, without knowing the mounting."""
    n = accel_g.shape[0]
    win = max(int(rate_hz), 2)
    gmag = np.linalg.norm(gyro_dps, axis=1)
    csum = np.concatenate([[0.0], np.cumsum(gmag)])
    moving = csum[win:] - csum[:-win]
    i = int(np.argmin(moving)) if moving.size else 0
    u0 = accel_g[i : i + win].mean(axis=0)
    u0 /= np.linalg.norm(u0)
    active = gmag > 20.0
    g = gyro_dps[active] if active.sum() > 10 else gyro_dps
    _, vecs = np.linalg.eigh(g.T @ g)
    e = vecs[:, -1] - vecs[:, -1].dot(u0) * u0
    e /= np.linalg.norm(e)
    x = np.cross(e, u0)
    sos = butter(2, min(2.0, 0.4 * rate_hz) / (rate_hz / 2), output="sos")
    a = sosfiltfilt(sos, accel_g, axis=0) if n > 30 else accel_g
    pitch = np.degrees(np.arctan2(a @ x, a @ u0))
    if np.percentile(pitch, 99.5) < -np.percentile(pitch, 0.5):
        pitch = -pitch
    return pitch


def cycle_figures(t_s: FloatArray, accel_g: FloatArray, gyro_dps: FloatArray) -> list[dict[str, float]]:
    """Per-cycle figures (see the module docstring) of one recording."""
    rate = 1.0 / float(np.median(np.diff(t_s)))
    pitch = thigh_angle_deg(accel_g, gyro_dps, rate)
    span = float(np.percentile(pitch, 99.5) - np.percentile(pitch, 0.5))
    peaks, _ = find_peaks(pitch, prominence=max(12.0, 0.45 * span), distance=int(0.5 * rate))
    if not peaks.size:
        return []
    widths, _, left, right = peak_widths(pitch, peaks, rel_height=0.9)
    amag = np.linalg.norm(accel_g, axis=1)
    gmag = np.linalg.norm(gyro_dps, axis=1)
    out = []
    pad = int(0.3 * rate)
    for k in range(peaks.size):
        i0 = max(int(left[k]) - pad, 0)
        i1 = min(int(right[k]) + pad, len(t_s))
        seg = amag[i0:i1] - amag[i0:i1].mean()
        spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size))) ** 2
        f = np.fft.rfftfreq(seg.size, 1.0 / rate)
        band = (f >= 0.5) & (f <= 25.0)
        power = spec[band].sum()
        out.append(
            {
                "angle_range_deg": float(pitch[i0:i1].max() - pitch[i0:i1].min()),
                "peak_rate_dps": float(gmag[i0:i1].max()),
                "acc_min_g": float(amag[i0:i1].min()),
                "acc_max_g": float(amag[i0:i1].max()),
                "acc_centroid_hz": float((f[band] * spec[band]).sum() / power) if power > 0 else 0.0,
                "acc_hf_share": float(spec[f > 5.0].sum() / spec[f >= 0.5].sum()) if power > 0 else 0.0,
                "duration_s": float(widths[k] / rate),
            }
        )
    return out


def load_real_csv(path: Path) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A CMU thigh CSV (t, ax, ay, az in g, gx, gy, gz in deg/s)."""
    d = np.loadtxt(path, delimiter=",", comments="#", skiprows=2)
    return d[:, 0], d[:, 1:4], d[:, 4:7]


#: Movement -> the real recordings (file stems in cmu-thigh) that show it.
REAL_FILES = {
    "squat": ("SqDL_LeftThigh", "SqDL_RightThigh", "SqHalfDL_LeftThigh", "SqHalfDL_RightThigh"),
    "lunge": ("Lunge_LeftThigh", "Lunge_RightThigh"),
    "walking": ("Walk_LeftThigh", "Walk_RightThigh"),
    "step_up": ("StepUpH_LeftThigh", "StepUpH_RightThigh"),
}

#: Movement -> workout script for the simulator (the sensor thigh varies per run).
SIM_SCRIPTS = {
    "squat": '[[step]]\nactivity = "stand"\nduration_s = 3\n[[step]]\nactivity = "squat"\nreps = 6\n',
    "lunge": '[[step]]\nactivity = "stand"\nduration_s = 3\n[[step]]\nactivity = "lunge"\nleg = "{leg}"\nreps = 5\n',
    "walking": '[[step]]\nactivity = "stand"\nduration_s = 3\n[[step]]\nactivity = "walk"\nduration_s = 25\n',
    "step_up": '[[step]]\nactivity = "stand"\nduration_s = 3\n[[step]]\nactivity = "step_up"\nduration_s = 25\n',
}


def real_figures(data_dir: Path, movement: str) -> list[dict[str, float]]:
    out: list[dict[str, float]] = []
    for stem in REAL_FILES[movement]:
        out += cycle_figures(*load_real_csv(data_dir / f"{stem}.csv"))
    return out


def sim_figures(movement: str, seeds: range, rate_hz: float = 100.0) -> list[dict[str, float]]:
    from firmware_sim.session import simulate
    from firmware_sim.workout import Workout

    out: list[dict[str, float]] = []
    for seed in seeds:
        leg = ("left", "right")[seed % 2]
        other = ("right", "left")[(seed // 2) % 2]
        text = f'name = "{movement}"\n' + SIM_SCRIPTS[movement].format(leg=other)
        s = simulate(Workout.from_toml_str(text), seed=seed, leg=leg, rate_hz=rate_hz)
        samples = s.samples()
        assert samples.gyro_dps is not None
        out += cycle_figures(samples.t_s, samples.accel_g, samples.gyro_dps)
    return out


def summarise(cycles: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """min / median / max of each figure over the cycles."""
    res: dict[str, dict[str, float]] = {}
    for k in FIGURES:
        v = np.array([c[k] for c in cycles]) if cycles else np.array([np.nan])
        res[k] = {
            "min": float(np.min(v)),
            "median": float(np.median(v)),
            "max": float(np.max(v)),
            "n": len(cycles),
        }
    return res
