"""Rigid-body physics of a thigh-worn IMU: orientation, angular velocity and specific force.

World frame: ``X`` forward (the way the person faces at the start), ``Y`` to the person's left,
``Z`` up. Thigh frame as in docs/architecture.md: ``x`` anterior, ``y`` left, ``z`` along the thigh
from knee to hip. The thigh's orientation is built from three angles (all in degrees)::

    R_world_from_thigh = Rz(yaw) @ Ry(-pitch) @ Rx(roll_about_x)

``pitch`` is sagittal flexion (knee forward and up, positive), so a thigh at rest reads gravity as
``(sin pitch, 0, cos pitch)`` and ``atan2(a_x, a_z)`` gives the pitch back exactly, as the
architecture note defines it. ``roll_about_x`` is a right-handed rotation about the thigh's
anterior axis; ``yaw`` turns about the vertical.

Everything is vectorised over samples: angles are ``(N,)`` arrays, matrices ``(N, 3, 3)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

STANDARD_GRAVITY_MS2 = 9.80665


def rotation_world_from_thigh(pitch_deg: FloatArray, roll_deg: FloatArray, yaw_deg: FloatArray) -> FloatArray:
    """``Rz(yaw) @ Ry(-pitch) @ Rx(roll)`` for every sample, shape ``(N, 3, 3)``."""
    th = -np.radians(pitch_deg)
    ph = np.radians(roll_deg)
    ps = np.radians(yaw_deg)
    c_th, s_th = np.cos(th), np.sin(th)
    c_ph, s_ph = np.cos(ph), np.sin(ph)
    c_ps, s_ps = np.cos(ps), np.sin(ps)
    r = np.empty((np.shape(th)[0], 3, 3))
    r[:, 0, 0] = c_ps * c_th
    r[:, 0, 1] = c_ps * s_th * s_ph - s_ps * c_ph
    r[:, 0, 2] = c_ps * s_th * c_ph + s_ps * s_ph
    r[:, 1, 0] = s_ps * c_th
    r[:, 1, 1] = s_ps * s_th * s_ph + c_ps * c_ph
    r[:, 1, 2] = s_ps * s_th * c_ph - c_ps * s_ph
    r[:, 2, 0] = -s_th
    r[:, 2, 1] = c_th * s_ph
    r[:, 2, 2] = c_th * c_ph
    return r


def body_rates_dps(
    pitch_deg: FloatArray, roll_deg: FloatArray, yaw_deg: FloatArray, dt_s: float
) -> FloatArray:
    """Angular velocity of the thigh in the thigh frame (deg/s), shape ``(N, 3)``.

    The Euler-angle rates come from central differences of the (smooth) angle tracks; the
    kinematic relation is the standard one for the Z-Y-X sequence used above.
    """
    th = -np.radians(pitch_deg)
    ph = np.radians(roll_deg)
    d_th = -np.gradient(pitch_deg, dt_s)
    d_ph = np.gradient(roll_deg, dt_s)
    d_ps = np.gradient(yaw_deg, dt_s)
    c_th, s_th = np.cos(th), np.sin(th)
    c_ph, s_ph = np.cos(ph), np.sin(ph)
    w = np.empty((np.shape(th)[0], 3))
    w[:, 0] = d_ph - d_ps * s_th
    w[:, 1] = d_th * c_ph + d_ps * c_th * s_ph
    w[:, 2] = -d_th * s_ph + d_ps * c_th * c_ph
    return w


def specific_force_thigh_g(
    r_world_from_thigh: FloatArray,
    hip_m: FloatArray,
    lever_arm_thigh_m: FloatArray,
    dt_s: float,
    r_bone: FloatArray | None = None,
) -> FloatArray:
    """Specific force at the sensor's position, in g, expressed in the thigh frame.

    The sensor sits at ``hip + R @ lever_arm``: the thigh rotates about the hip and the hip moves
    with the body, so the reading is ``(d²p/dt² - g) / g0`` rotated into the thigh frame. At rest
    this is gravity's reaction, 1 g pointing up.

    ``r_bone`` (default: the same orientation) places the sensor: the femur's orientation without
    the small, fast rotations of the strapped sensor on skin and muscle, which turn the sensor
    about its own spot rather than about the hip.
    """
    r_pos = r_world_from_thigh if r_bone is None else r_bone
    pos = hip_m + np.einsum("nij,j->ni", r_pos, lever_arm_thigh_m)
    acc = np.gradient(np.gradient(pos, dt_s, axis=0), dt_s, axis=0) / STANDARD_GRAVITY_MS2
    acc[:, 2] += 1.0
    return np.einsum("nji,nj->ni", r_world_from_thigh, acc)


def pitch_from_gravity_deg(accel_thigh_g: FloatArray) -> FloatArray:
    """Thigh pitch as docs/architecture.md defines it: ``atan2(a_x, a_z)`` in degrees."""
    return np.degrees(np.arctan2(accel_thigh_g[..., 0], accel_thigh_g[..., 2]))


def rotation_from_vector(rotvec_rad: FloatArray) -> FloatArray:
    """Rodrigues' formula for one rotation vector ``(3,)`` or many ``(N, 3)``."""
    v = np.atleast_2d(np.asarray(rotvec_rad, dtype=np.float64))
    angle = np.linalg.norm(v, axis=1)
    safe = np.where(angle > 1e-12, angle, 1.0)
    k = v / safe[:, None]
    kx, ky, kz = k[:, 0], k[:, 1], k[:, 2]
    zeros = np.zeros_like(kx)
    kmat = np.stack(
        [np.stack([zeros, -kz, ky], -1), np.stack([kz, zeros, -kx], -1), np.stack([-ky, kx, zeros], -1)], 1
    )
    s = np.sin(angle)[:, None, None]
    c = (1 - np.cos(angle))[:, None, None]
    r = np.eye(3)[None] + s * kmat + c * (kmat @ kmat)
    r[angle <= 1e-12] = np.eye(3)
    return r if np.ndim(rotvec_rad) == 2 else r[0]


def integrate_gyro(r0: FloatArray, gyro_dps: FloatArray, dt_s: float) -> FloatArray:
    """Orientation after integrating body rates (trapezoidal increments), start ``r0`` (3x3)."""
    w = np.radians(gyro_dps)
    inc = rotation_from_vector(0.5 * (w[:-1] + w[1:]) * dt_s)
    r = np.array(r0, dtype=np.float64)
    for step in inc:
        r = r @ step
    return r


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A rotation drawn uniformly over SO(3) (from a random unit quaternion)."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
