"""Accelerometer bias, scale and misalignment from static poses (an ellipsoid fit).

At rest an ideal accelerometer reads 1 g, whatever its orientation, so the readings of a sensor held
still in many orientations lie on a sphere. Bias moves the sphere's centre; scale and misalignment
stretch and shear it into an ellipsoid. Fitting ``|T (m - b)| = 1`` to the pose means recovers
``b`` and ``T`` (docs/calibration.md has the details):

- at least 6 poses covering both directions of every axis: bias and scale (6 unknowns);
- at least 9 poses, some of them tilted between the axes: bias, scale and misalignment (9).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from calibration.imu import (
    AccelCalibration,
    AccelQuality,
    Verdict,
    scale_and_axis_angles,
    symmetric_correction,
)
from calibration.stillness import StillPeriod
from tracker.samples import FloatArray, Samples

MIN_POSES = 6
MIN_POSES_MISALIGNMENT = 9
GOOD_RMS_G = 0.01
GOOD_MAX_G = 0.02
# Below this the misalignment terms are not pinned down by the poses (all near the axes).
MIN_RELATIVE_SINGULAR_VALUE = 0.05
MAX_PLAUSIBLE_SKEW_DEG = 10.0  # two axes tilted 3 deg each are 6 deg off square; much more is a bad fit
_AXES = "xyz"


def _unpack(theta: FloatArray, full: bool) -> tuple[FloatArray, FloatArray]:
    b = theta[:3]
    t = np.zeros((3, 3))
    if full:
        t[np.triu_indices(3)] = theta[3:9]
    else:
        t[np.diag_indices(3)] = theta[3:6]
    return b, t


def _residuals(theta: FloatArray, m: FloatArray, full: bool) -> FloatArray:
    b, t = _unpack(theta, full)
    return np.asarray(np.linalg.norm((m - b) @ t.T, axis=1) - 1.0)


def _fit(m: FloatArray, full: bool) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Returns bias, T, residuals and the singular values of the scaled Jacobian."""
    theta0 = np.concatenate([np.zeros(3), np.eye(3)[np.triu_indices(3)] if full else np.ones(3)])
    res = least_squares(_residuals, theta0, args=(m, full), method="lm", xtol=1e-12, ftol=1e-12)
    b, t = _unpack(res.x, full)
    sv = np.linalg.svd(res.jac, compute_uv=False)
    return b, t, res.fun, sv


def _coverage_gaps(m: FloatArray) -> list[str]:
    """Axis directions that no pose pointed up (within 45 deg); each must be seen for the scale."""
    u = m / np.linalg.norm(m, axis=1, keepdims=True)
    gaps = []
    for i, name in enumerate(_AXES):
        for sign, word in ((1, "up"), (-1, "down")):
            if not np.any(sign * u[:, i] > np.cos(np.radians(45))):
                gaps.append(f"no pose had the {name} axis pointing {word}")
    return gaps


def fit_accelerometer(
    pose_means_g: Sequence[FloatArray] | FloatArray,
    pose_times_s: Sequence[float] | None = None,
) -> AccelCalibration:
    """Fit bias, scale and (with enough varied poses) misalignment to the mean readings of static poses.

    Always returns a calibration; its ``quality.verdict`` says whether to keep it ("good") or to
    redo the poses ("redo"), and ``quality.reasons`` says why.
    """
    m_all = np.asarray(pose_means_g, dtype=np.float64).reshape(-1, 3)
    times = list(pose_times_s) if pose_times_s is not None else [float("nan")] * m_all.shape[0]
    k = m_all.shape[0]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    reasons: list[str] = []
    raw_rms = float(np.sqrt(np.mean((np.linalg.norm(m_all, axis=1) - 1.0) ** 2))) if k else float("nan")
    if k < MIN_POSES:
        reasons.append(f"only {k} distinct pose(s) found, at least {MIN_POSES} are needed")
        quality = AccelQuality(float("nan"), float("nan"), raw_rms, k, False, "redo", tuple(reasons))
        return AccelCalibration(np.zeros(3), np.eye(3), quality, now)

    m, b, t, r, full = _fit_without_moved_poses(m_all, times, reasons)
    # C = (T^T T)^(1/2): T and C differ only by a rotation (see calibration.imu).
    correction = symmetric_correction(np.asarray(np.linalg.inv(t.T @ t), dtype=np.float64))
    rms = float(np.sqrt(np.mean(r**2)))
    worst_abs = float(np.max(np.abs(r)))
    verdict = _judge_fit(m, b, correction, rms, worst_abs, reasons)
    if not full:
        note = (
            f"misalignment not estimated: it needs {MIN_POSES_MISALIGNMENT}+ poses, some tilted between axes"
        )
        reasons.append(note)
    quality = AccelQuality(
        residual_rms_g=rms,
        residual_max_g=worst_abs,
        raw_residual_rms_g=raw_rms,
        poses_used=int(m.shape[0]),
        misalignment_estimated=full,
        verdict=verdict,
        reasons=tuple(reasons),
    )
    return AccelCalibration(b, correction, quality, now)


def _fit_without_moved_poses(
    m_all: FloatArray, times: Sequence[float], reasons: list[str]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, bool]:
    """The fit over the poses that agree: ``(poses used, bias, T, residuals, misalignment fitted)``.

    One pose far off while the others agree: the sensor moved during it. With few poses the fit
    bends towards it, so each pose is judged by a fit made without it; two are dropped at most, each
    with a reason. Misalignment is given up when the poses do not pin it down.
    """
    k = m_all.shape[0]
    keep = np.ones(k, dtype=bool)
    full = k >= MIN_POSES_MISALIGNMENT
    while True:
        m = m_all[keep]
        full = full and m.shape[0] >= MIN_POSES_MISALIGNMENT
        b, t, r, sv = _fit(m, full)
        if full and sv[-1] / sv[0] < MIN_RELATIVE_SINGULAR_VALUE:
            full = False
            continue
        n_dropped = int(k - keep.sum())
        n_min = MIN_POSES_MISALIGNMENT if full else MIN_POSES
        worst_abs = float(np.max(np.abs(r)))
        if worst_abs > GOOD_MAX_G / 2 and n_dropped < 2 and m.shape[0] - 1 >= n_min + 1:
            rms_rest, i, off = _most_suspect_pose(m, full)
            if off > GOOD_MAX_G and off > 5 * max(rms_rest, 0.001):
                idx = int(np.flatnonzero(keep)[i])
                keep[idx] = False
                when = f" (at {times[idx]:.1f} s)" if np.isfinite(times[idx]) else ""
                reasons.append(f"pose {idx + 1}{when} ignored: off by {off:.3f} g, it probably moved")
                full = k >= MIN_POSES_MISALIGNMENT
                continue
        return m, b, t, r, full


def _most_suspect_pose(m: FloatArray, full: bool) -> tuple[float, int, float]:
    """The pose whose removal fits the others best: ``(rms of the others, its index, its 1 g error)``."""
    best: tuple[float, int, float] | None = None
    for i in range(m.shape[0]):
        rest = np.delete(m, i, axis=0)
        bi, ti, ri, _ = _fit(rest, full)
        rms_rest = float(np.sqrt(np.mean(ri**2)))
        off = abs(float(np.linalg.norm(ti @ (m[i] - bi))) - 1.0)
        if best is None or rms_rest < best[0]:
            best = (rms_rest, i, off)
    assert best is not None
    return best


def _judge_fit(
    m: FloatArray, b: FloatArray, correction: FloatArray, rms: float, worst_abs: float, reasons: list[str]
) -> Verdict:
    """ "good" or "redo" for a finished fit, appending why to ``reasons``: poses that leave an axis
    direction unseen, residuals above the bars, or a result no real accelerometer has."""
    verdict: Verdict = "good"
    gaps = _coverage_gaps(m)
    if gaps:
        verdict = "redo"
        reasons.extend(gaps)
    if rms > GOOD_RMS_G or worst_abs > GOOD_MAX_G:
        verdict = "redo"
        reasons.append(
            f"poses disagree with 1 g by {rms:.3f} g rms ({worst_abs:.3f} g worst): "
            "hold each pose still against a firm surface"
        )
    bias_norm = float(np.linalg.norm(b))
    scale = np.linalg.svd(np.linalg.inv(correction), compute_uv=False)
    if bias_norm > 0.5 or np.any(np.abs(scale - 1.0) > 0.25):
        verdict = "redo"
        reasons.append(f"implausible result (bias {bias_norm:.2f} g): is the sensor reporting in g?")
    else:
        skew = float(
            np.max(
                np.abs(
                    scale_and_axis_angles(np.asarray(np.linalg.inv(correction), dtype=np.float64))[1] - 90.0
                )
            )
        )
        if skew > MAX_PLAUSIBLE_SKEW_DEG:
            verdict = "redo"
            reasons.append(
                f"implausible result (axes {skew:.1f} deg from square): the poses were probably not still"
            )
    return verdict


@dataclass(frozen=True)
class Turn:
    """The sensor turned between two still periods: raw accel means before and after, and the
    bias-corrected gyro increments (``rate * dt``, rad, gyro axes) over the turn."""

    accel_before_g: FloatArray
    accel_after_g: FloatArray
    increments_rad: FloatArray  # (n, 3)


def turns_between(samples: Samples, periods: Sequence[StillPeriod], gyro_bias_dps: FloatArray) -> list[Turn]:
    """The gyro from the end of each still period to the start of the next."""
    if samples.gyro_dps is None:
        return []
    turns = []
    for before, after in itertools.pairwise(periods):
        i0 = int(np.searchsorted(samples.t_s, before.end_s))
        i1 = int(np.searchsorted(samples.t_s, after.start_s, side="right"))
        if i1 - i0 < 2:
            continue
        w = np.radians(samples.gyro_dps[i0 : i1 - 1] - gyro_bias_dps)
        dt = np.diff(samples.t_s[i0:i1])
        turns.append(Turn(before.accel_mean_g, after.accel_mean_g, w * dt[:, None]))
    return turns


def _quat_mul(p: FloatArray, q: FloatArray) -> FloatArray:
    pw, px, py, pz = p[:, 0], p[:, 1], p[:, 2], p[:, 3]
    qw, qx, qy, qz = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ],
        axis=1,
    )


def _integrate(increments: FloatArray) -> FloatArray:
    """Rotation matrices ``(T, 3, 3)`` of padded body-frame increments ``(T, L, 3)``, composed in order."""
    t_n = increments.shape[0]
    q = np.tile([1.0, 0.0, 0.0, 0.0], (t_n, 1))
    angle = np.linalg.norm(increments, axis=2)
    half = angle / 2
    sinc = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    dq = np.concatenate([np.cos(half)[..., None], increments * sinc[..., None]], axis=2)
    for step in range(increments.shape[1]):
        q = _quat_mul(q, dq[:, step])
    return np.asarray(Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_matrix())


def calibrate_gyro_axes(cal: AccelCalibration, turns: Sequence[Turn]) -> AccelCalibration:
    """Put the accelerometer and the gyroscope on common axes, using the turns between poses.

    Static poses fix the accelerometer's axes only up to a rotation; the gyroscope has its own
    scale and misalignment. While the sensor turns from one pose to the next, the gyroscope,
    corrected by a matrix ``K``, must turn the gravity direction seen before into the one seen
    after. Fitting ``K`` (9 numbers) to all turns expresses the gyroscope in the accelerometer's
    corrected axes. Each sensor's axes are off the true ones by the rotating part of its own
    misalignment, which nothing on the sensor can observe; the best guess of the true axes is
    half-way between the two, so both corrections are turned by half the rotation between them
    (docs/calibration.md). Left as is, with a note, when the turns do not pin ``K`` down.
    """
    q0 = cal.quality
    if q0 is None or q0.verdict != "good":
        return cal
    if len(turns) < MIN_TURNS:
        return _with_note(cal, "gyroscope axes not calibrated: no gyro data between poses")
    ub = np.array([_unit(cal.correct(t.accel_before_g)) for t in turns])
    ua = np.array([_unit(cal.correct(t.accel_after_g)) for t in turns])
    length = max(t.increments_rad.shape[0] for t in turns)
    inc = np.zeros((len(turns), length, 3))
    for k, t in enumerate(turns):
        inc[k, : t.increments_rad.shape[0]] = t.increments_rad

    def residuals(theta: FloatArray) -> FloatArray:
        rot = _integrate(inc @ theta.reshape(3, 3).T)
        pred = np.einsum("kji,kj->ki", rot, ub)  # R^T u_before
        return np.asarray((pred - ua).ravel())

    res = least_squares(residuals, np.eye(3).ravel(), method="lm", x_scale=0.05)
    sv = np.linalg.svd(res.jac, compute_uv=False)
    per_turn_deg = np.degrees(np.linalg.norm(res.fun.reshape(-1, 3), axis=1))
    rms_deg = float(np.sqrt(np.mean(per_turn_deg**2)))
    k_inv = res.x.reshape(3, 3)
    if sv[-1] < 0.05 * sv[0] or rms_deg > MAX_TURN_RESIDUAL_DEG or np.linalg.det(k_inv) <= 0:
        return _with_note(
            cal, f"gyroscope axes not calibrated: the turns between poses disagree by {rms_deg:.1f} deg rms"
        )
    gyro_scale = np.linalg.svd(k_inv, compute_uv=False)
    if np.any(np.abs(gyro_scale - 1.0) > 0.2):
        return _with_note(
            cal, "gyroscope axes not calibrated: implausible gyro scale (was the sensor still?)"
        )
    # k_inv = Q_rel @ S: S the gyro's symmetric correction, Q_rel its axes' rotation onto the accel's.
    s_sym = symmetric_correction(np.asarray(np.linalg.inv(k_inv.T @ k_inv), dtype=np.float64))
    q_rel = k_inv @ np.linalg.inv(s_sym)
    h_t = Rotation.from_rotvec(-Rotation.from_matrix(q_rel).as_rotvec() / 2).as_matrix()
    quality = replace(q0, gyro_axes_calibrated=True, turn_residual_deg=rms_deg)
    return replace(cal, correction=h_t @ cal.correction, gyro_correction=h_t @ k_inv, quality=quality)


MIN_TURNS = 6
MAX_TURN_RESIDUAL_DEG = 1.0


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v))


def _with_note(cal: AccelCalibration, note: str) -> AccelCalibration:
    assert cal.quality is not None
    return replace(cal, quality=replace(cal.quality, reasons=(*cal.quality.reasons, note)))
