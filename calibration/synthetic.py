"""Ideal sensor streams for calibration sessions: static poses and still periods.

The simulator (firmware_sim) models the thigh during exercise; a calibration session is a sensor
being turned by hand between poses on a table. This module makes that motion, ideal (true specific
force and angular rate in the sensor's axes), so the simulator's IMU error model, or any other,
can be applied on top: ``reptrack calibrate accel --sim`` and the tests use it.
"""

from __future__ import annotations

import numpy as np

from tracker.samples import FloatArray, Samples


def default_pose_directions() -> FloatArray:
    """Gravity directions (sensor frame, "up") of the 12 poses the accel flow asks for."""
    faces = [np.eye(3)[i] * s for i in range(3) for s in (1.0, -1.0)]
    tilted = [
        (1, 0, 1),
        (-1, 0, 1),
        (0, 1, -1),
        (1, 1, 1),
        (-1, -1, -1),
        (1, -1, 0.5),
    ]
    dirs = np.array(faces + [np.array(v, dtype=np.float64) for v in tilted])
    return np.asarray(dirs / np.linalg.norm(dirs, axis=1, keepdims=True))


def _slerp(u0: FloatArray, u1: FloatArray, f: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Points from u0 to u1 along the great circle at fractions f; also the turn axis and angle."""
    axis = np.cross(u0, u1)
    s = np.linalg.norm(axis)
    angle = float(np.arctan2(s, np.dot(u0, u1)))
    if s < 1e-9:  # opposite or equal: pick any perpendicular axis
        axis = np.cross(u0, [1.0, 0.0, 0.0] if abs(u0[0]) < 0.9 else [0.0, 1.0, 0.0])
        s = np.linalg.norm(axis)
    n = axis / s
    phi = f * angle
    # Rodrigues' rotation of u0 about n by phi.
    pts = (
        np.outer(np.cos(phi), u0)
        + np.outer(np.sin(phi), np.cross(n, u0))
        + np.outer(1 - np.cos(phi), n * np.dot(n, u0))
    )
    return pts, n, angle


def pose_session(
    up_dirs: FloatArray | None = None,
    rate_hz: float = 100.0,
    hold_s: float = 2.5,
    move_s: float = 1.2,
    t0_s: float = 0.0,
) -> Samples:
    """Hold each orientation for ``hold_s``, turn smoothly to the next in ``move_s``; ideal readings.

    Turning the sensor at angular rate ``w`` (sensor frame) makes the fixed "up" direction seen by
    the sensor move as ``du/dt = -w x u``; the gyro readings are made to agree with that.
    """
    dirs = default_pose_directions() if up_dirs is None else np.asarray(up_dirs, dtype=np.float64)
    dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    dt = 1.0 / rate_hz
    n_hold = round(hold_s * rate_hz)
    n_move = max(2, round(move_s * rate_hz))
    acc: list[FloatArray] = []
    gyr: list[FloatArray] = []
    for k, u in enumerate(dirs):
        acc.append(np.tile(u, (n_hold, 1)))
        gyr.append(np.zeros((n_hold, 3)))
        if k + 1 < len(dirs):
            # Smooth start and stop: fraction follows (1 - cos)/2.
            tau = (np.arange(n_move) + 0.5) / n_move
            f = (1 - np.cos(np.pi * tau)) / 2
            pts, n, angle = _slerp(u, dirs[k + 1], f)
            rate_rad_s = angle * np.pi / 2 * np.sin(np.pi * tau) / (n_move * dt)
            acc.append(pts)
            gyr.append(-np.degrees(np.outer(rate_rad_s, n)))
    a = np.concatenate(acc)
    g = np.concatenate(gyr)
    t = t0_s + np.arange(a.shape[0]) * dt
    return Samples.from_arrays(t, a, g)


def still_session(duration_s: float, up: FloatArray | None = None, rate_hz: float = 100.0) -> Samples:
    """A sensor lying still with ``up`` (sensor frame) pointing up; ideal readings."""
    u = np.array([0.0, 0.0, 1.0]) if up is None else np.asarray(up, dtype=np.float64)
    n = round(duration_s * rate_hz)
    return Samples.from_arrays(
        np.arange(n) / rate_hz, np.tile(u / np.linalg.norm(u), (n, 1)), np.zeros((n, 3))
    )


def apply_errors(
    samples: Samples,
    sensitivity: FloatArray,
    bias_g: FloatArray,
    gyro_bias_dps: FloatArray,
    rng: np.random.Generator,
    accel_noise_g: float = 0.004,
    gyro_noise_dps: float = 0.1,
) -> Samples:
    """``m = A a + b + noise``, ``w_m = w + b_w + noise``: the error model of docs/calibration.md."""
    a = (
        samples.accel_g @ np.asarray(sensitivity).T
        + bias_g
        + rng.normal(0, accel_noise_g, samples.accel_g.shape)
    )
    g = None
    if samples.gyro_dps is not None:
        g = samples.gyro_dps + gyro_bias_dps + rng.normal(0, gyro_noise_dps, samples.gyro_dps.shape)
    return Samples(samples.t_s, np.ascontiguousarray(a), g)


def squat_session(
    reps: int = 3,
    depth_deg: float = 80.0,
    rep_s: float = 3.0,
    stand_s: float = 3.0,
    rate_hz: float = 100.0,
    roll_deg: float = 0.0,
) -> Samples:
    """Quiet standing, then slow squats, ideal readings in the *thigh* frame.

    Rotate into a sensor frame with ``Mounting(R).apply`` inverted, i.e. ``a_sensor = a_thigh @ R``.
    ``roll_deg`` adds abduction (knee out) in proportion to the flexion.
    """
    t = np.arange(0.0, stand_s + reps * rep_s + 2.0, 1.0 / rate_hz)
    pitch = np.zeros_like(t)
    for k in range(reps):
        start = stand_s + k * rep_s
        m = (t >= start) & (t < start + rep_s)
        pitch[m] = depth_deg * (1 - np.cos(2 * np.pi * (t[m] - start) / rep_s)) / 2
    roll = roll_deg * pitch / max(depth_deg, 1e-9)
    p, r = np.radians(pitch), np.radians(roll)
    # Up direction in the thigh frame after flexion p (about -y) then abduction r (about x).
    up = np.stack([np.sin(p), np.cos(p) * np.sin(r), np.cos(p) * np.cos(r)], axis=1)
    dp = np.gradient(pitch, 1.0 / rate_hz)
    dr = np.gradient(roll, 1.0 / rate_hz)
    gyro = np.stack([-dr, -dp, np.zeros_like(t)], axis=1)
    return Samples.from_arrays(t, up, gyro)
