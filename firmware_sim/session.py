"""Simulate a workout: thigh motion -> physics -> IMU errors -> sensor clock, with ground truth.

    session = simulate(load_workout("builtin:runner-strength"), seed=3, leg="left")
    session.samples()     # what a decoder would produce from the sensor's packets
    session.packets()     # the packets themselves (tracker.protocol wire format)
    session.truth.to_json()

The same seed gives the same bytes. See docs/simulator.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from firmware_sim.imu import ImuErrors
from firmware_sim.motion import Timeline, render, set_depths
from firmware_sim.physics import (
    body_rates_dps,
    random_rotation,
    rotation_world_from_thigh,
    specific_force_thigh_g,
)
from firmware_sim.truth import GroundTruth
from firmware_sim.workout import Workout
from tracker.protocol import Packetizer, quantize
from tracker.samples import Samples

FloatArray = npt.NDArray[np.float64]

#: Named mountings: sensor axes -> thigh axes (columns are the sensor's x, y, z in the thigh frame).
MOUNTINGS = ("random", "front", "front_up", "side", "aligned")


def mounting_rotation(name: str, leg: str, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """``(R_thigh_from_sensor, lever_arm_thigh_m)`` for a named mounting on this thigh.

    ``front``: on the front of the thigh, x pointing down the thigh, z out of the skin (as in the
    CMU recordings). ``front_up``: the same turned over, x up the thigh. ``side``: on the outer
    side, x down, z outwards. ``aligned``: sensor axes = thigh axes. ``random``: any rotation
    (uniform over all orientations) at a random spot around the thigh.
    """
    out = 1.0 if leg == "left" else -1.0  # the thigh frame's y points left: outwards for the left thigh
    front_arm = np.array([0.075, 0.0, -0.20])
    side_arm = np.array([0.0, 0.08 * out, -0.20])
    if name == "aligned":
        return np.eye(3), front_arm
    if name == "front":
        return np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]), front_arm
    if name == "front_up":
        return np.array([[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]), front_arm
    if name == "side":
        # x_s -> -z, z_s -> +y*out, y_s = z_s x x_s
        z_s = np.array([0.0, out, 0.0])
        x_s = np.array([0.0, 0.0, -1.0])
        return np.column_stack([x_s, np.cross(z_s, x_s), z_s]), side_arm
    if name == "random":
        angle = rng.uniform(-np.pi / 2, np.pi / 2)  # somewhere from the inner-front to the outer side
        arm = np.array([0.075 * np.cos(angle), 0.08 * out * np.sin(abs(angle)), -rng.uniform(0.15, 0.25)])
        return random_rotation(rng), arm
    raise ValueError(f"unknown mounting {name!r}; expected one of {', '.join(MOUNTINGS)} or a 3x3 rotation")


def check_rotation(r: npt.ArrayLike) -> FloatArray:
    m = np.asarray(r, dtype=np.float64)
    if m.shape != (3, 3):
        raise ValueError(f"a mounting rotation must be 3x3, got shape {m.shape}")
    if not np.allclose(m @ m.T, np.eye(3), atol=1e-6) or not np.isclose(np.linalg.det(m), 1.0, atol=1e-6):
        raise ValueError("a mounting rotation must be orthonormal with determinant +1")
    return m


@dataclass(frozen=True)
class SimulatedSession:
    """One simulated recording: true motion, the sensor's measurements and the ground truth."""

    rate_hz: float
    t_true_s: FloatArray  # true time of each sample, from 0
    clock_us: npt.NDArray[np.int64]  # the sensor's clock at each sample (clock error, jitter, offset)
    accel_g: FloatArray  # (N, 3) measured, sensor frame, errors applied, not quantised
    gyro_dps: FloatArray  # (N, 3)
    thigh_pitch_deg: FloatArray  # (N,) true flexion of the sensor's thigh
    R_thigh_from_sensor: FloatArray
    leg: str
    imu_errors: ImuErrors
    truth: GroundTruth
    accel_true_g: FloatArray  # (N, 3) error-free specific force in the sensor frame
    gyro_true_dps: FloatArray  # (N, 3) error-free angular rate in the sensor frame
    R_world_from_thigh: FloatArray

    def __len__(self) -> int:
        return int(self.t_true_s.shape[0])

    @property
    def duration_s(self) -> float:
        return self.truth.duration_s

    @cached_property
    def session_t_s(self) -> FloatArray:
        """Each sample's session time as a decoder shows it (packet clock + nominal period)."""
        return self._decoded_times(10)

    def _decoded_times(self, samples_per_packet: int) -> FloatArray:
        n = len(self)
        period_us = round(1e6 / self.rate_hz)
        first = np.arange(0, n, samples_per_packet)
        t0 = np.repeat(self.clock_us[first], samples_per_packet)[:n]
        offs = np.arange(n) - np.repeat(first, samples_per_packet)[:n]
        return ((t0 - self.clock_us[0]) + offs * period_us) / 1e6

    def samples(
        self, samples_per_packet: int = 10, accel_range_g: float = 8.0, gyro_range_dps: float = 1000.0
    ) -> Samples:
        """Samples as a decoder of :meth:`packets` would return them (quantised, clipped)."""
        acc, _ = quantize(self.accel_g, accel_range_g)
        gyr, _ = quantize(self.gyro_dps, gyro_range_dps)
        return Samples(
            self._decoded_times(samples_per_packet),
            acc.astype(np.float64) * (accel_range_g / 32768.0),
            gyr.astype(np.float64) * (gyro_range_dps / 32768.0),
        )

    def packets(
        self, samples_per_packet: int = 10, accel_range_g: float = 8.0, gyro_range_dps: float = 1000.0
    ) -> list[bytes]:
        """The wire packets a real sensor would send for this session (tracker.protocol)."""
        p = Packetizer(
            rate_hz=self.rate_hz,
            samples_per_packet=samples_per_packet,
            accel_range_g=accel_range_g,
            gyro_range_dps=gyro_range_dps,
        )
        return p.encode(self.clock_us, self.accel_g, self.gyro_dps)


def _resolve_imu(imu: ImuErrors | str, rng: np.random.Generator) -> ImuErrors:
    if isinstance(imu, ImuErrors):
        return imu
    if imu == "ideal":
        return ImuErrors.ideal()
    if imu == "default":
        return ImuErrors.random(rng)
    raise ValueError(f"imu must be an ImuErrors, 'default' or 'ideal', got {imu!r}")


def _resolve_mounting(
    mounting: str | npt.ArrayLike, leg: str, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, str]:
    """``(R_thigh_from_sensor, lever_arm_thigh_m, name)`` for a named mounting or a given rotation."""
    if isinstance(mounting, str):
        r_ts, arm = mounting_rotation(mounting, leg, rng)
        return r_ts, arm, mounting
    return check_rotation(mounting), np.array([0.075, 0.0, -0.20]), "custom"


def simulate(
    workout: Workout,
    *,
    seed: int = 0,
    rate_hz: float = 100.0,
    leg: str = "left",
    mounting: str | npt.ArrayLike = "random",
    imu: ImuErrors | str = "default",
) -> SimulatedSession:
    """Run ``workout`` through the thigh model, the physics and the IMU error model."""
    if leg not in ("left", "right"):
        raise ValueError(f"leg must be left or right, got {leg!r}")
    if not 5.0 <= rate_hz <= 2000.0:
        raise ValueError(f"rate must be 5..2000 Hz, got {rate_hz}")
    seq = np.random.SeedSequence(seed)
    rng_plan, rng_render, rng_mount, rng_imu, rng_noise, rng_clock = (
        np.random.default_rng(s) for s in seq.spawn(6)
    )

    errors = _resolve_imu(imu, rng_imu)
    r_ts, arm, mount_name = _resolve_mounting(mounting, leg, rng_mount)

    if workout.body.sensor_m is not None:  # along the thigh, below the hip
        arm = np.array([arm[0], arm[1], -workout.body.sensor_m])
    tl = Timeline(rng_plan, leg)
    tl.add_workout(workout)
    duration_true = tl.t
    # The sensor samples on its own clock: a fast clock takes more samples per true second.
    clock_scale = 1.0 + errors.clock_error_ppm * 1e-6
    n = int(np.floor(duration_true * rate_hz * clock_scale)) + 1
    t = np.arange(n) / (rate_hz * clock_scale)
    dt = 1.0 / (rate_hz * clock_scale)

    tracks = render(tl, t, rate_hz * clock_scale, rng_render)
    set_depths(tl, t, tracks.pitch_base_deg)
    r_wt = rotation_world_from_thigh(tracks.pitch_deg, tracks.abd_deg, tracks.yaw_deg)
    gyro_thigh = body_rates_dps(tracks.pitch_deg, tracks.abd_deg, tracks.yaw_deg, dt)
    r_bone = rotation_world_from_thigh(tracks.bone_deg[:, 0], tracks.bone_deg[:, 1], tracks.bone_deg[:, 2])
    accel_thigh = specific_force_thigh_g(r_wt, tracks.hip_m, arm, dt, r_bone) + tracks.extra_accel_thigh_g
    accel_true = accel_thigh @ r_ts  # v_sensor = R^T v_thigh, row-wise
    gyro_true = gyro_thigh @ r_ts
    accel, gyro = errors.apply(accel_true, gyro_true, rate_hz, rng_noise)

    truth = GroundTruth(
        workout=workout.name,
        seed=seed,
        duration_s=round(t[-1] * clock_scale, 4),  # numpy's round (t is an array): same truth files as before
        rate_hz=rate_hz,
        leg=leg,
        mounting={
            "R_thigh_from_sensor": r_ts.tolist(),
            "leg": leg,
            "name": mount_name,
            "lever_arm_m": arm.tolist(),
        },
        imu_errors=errors.to_json(),
        **_timeline_truth(tl, clock_scale),
    )
    return SimulatedSession(
        rate_hz=rate_hz,
        t_true_s=t,
        clock_us=_sensor_clock_us(errors, n, rate_hz, rng_clock),
        accel_g=accel,
        gyro_dps=gyro,
        thigh_pitch_deg=tracks.pitch_deg,
        R_thigh_from_sensor=r_ts,
        leg=leg,
        imu_errors=errors,
        truth=truth,
        accel_true_g=accel_true,
        gyro_true_dps=gyro_true,
        R_world_from_thigh=r_wt,
    )


def _sensor_clock_us(
    errors: ImuErrors, n: int, rate_hz: float, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """The sensor's timestamp of each sample: its offset, the nominal period, and jitter (none on the first)."""
    nominal_us = np.arange(n, dtype=np.int64) * round(1e6 / rate_hz)
    jitter = (
        np.rint(rng.normal(0.0, errors.timestamp_jitter_us, n)).astype(np.int64)
        if (errors.timestamp_jitter_us > 0)
        else np.zeros(n, np.int64)
    )
    jitter[0] = 0
    return errors.clock_offset_us + nominal_us + jitter


def _timeline_truth(tl: Timeline, clock_scale: float) -> dict[str, list[dict[str, object]]]:
    """The timeline's sets, activities, wobble events and balance losses on the session clock
    (true time stretched by the sensor's clock error), as ground truth records them."""

    def session_time(x: float) -> float:
        return round(x * clock_scale, 4)

    sets: list[dict[str, object]] = [
        {
            "index": s.index,
            "exercise": s.exercise,
            "leg": s.leg,
            "sensor_on": s.sensor_on,
            "reps": len(s.reps),
            "start_s": session_time(s.start),
            "end_s": session_time(s.end),
            "wobble": s.wobble,
            "reps_detail": [
                {
                    "n": r.n,
                    "t_start_s": session_time(r.t_start),
                    "t_bottom_s": session_time(r.t_bottom),
                    "t_end_s": session_time(r.t_end),
                    "depth_deg": round(r.depth_deg, 2),
                    "duration_s": round(session_time(r.t_end) - session_time(r.t_start), 4),
                }
                for r in s.reps
            ],
        }
        for s in tl.sets
    ]
    activities = [
        {**a, "start_s": session_time(a["start_s"]), "end_s": session_time(a["end_s"])} for a in tl.activities
    ]
    wobble_events = [
        {**w, "t_start_s": session_time(w["t_start_s"]), "t_end_s": session_time(w["t_end_s"])}
        for w in tl.wobble_events
    ]
    balance = [{**b, "t_s": session_time(b["t_s"])} for b in tl.balance_losses]
    return {
        "sets": sets,
        "activities": activities,
        "wobble_events": sorted(wobble_events, key=lambda w: w["t_start_s"]),
        "balance_losses": balance,
    }


__all__ = ["MOUNTINGS", "ImuErrors", "SimulatedSession", "mounting_rotation", "simulate"]
