"""Accuracy of the calibration flows against known errors, and the cost of applying a calibration.

For N simulated sensors with random errors of the simulator's model (firmware_sim.imu: accel
bias up to 0.1 g, scale error up to 5%, misalignment up to 3 deg per term, gyro bias up to
5 deg/s, gyro scale 2% and misalignment 3 deg, noise and bias drift) and random mountings, runs the same
flows as ``reptrack calibrate`` (poses, stillness, and the simulator's standing and squats) and reports the worst and
95th-percentile estimation errors (the mounting against the simulator's truth as the calibrated
axes see it, ``mount_deg``, and against the package axes, ``mount_vs_package_deg``: see
docs/calibration.md, "Measured accuracy"); then times ``DeviceCalibration.apply`` on one hour of 100 Hz
samples. Prints the figures and writes bench/results/calibration_accuracy.json.

    python bench/calibration_accuracy.py [--sensors N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from calibration import DeviceCalibration, ImuCalibration, Mounting
from calibration.flows import AccelFlow, GyroFlow, MountingFlow
from calibration.imu import scale_and_axis_angles
from calibration.mounting import Leg, rotation_angle_deg
from calibration.synthetic import pose_session, still_session
from firmware_sim.calibration_source import (
    MOUNTING_WORKOUT,
    calibrate_simulated,
    ideal_twin,
    measure,
    run_flow,
    sim_imu_errors,
    sim_mounting,
)
from firmware_sim.session import simulate
from firmware_sim.workout import Workout, load_workout
from tracker.events import SetEvent
from tracker.pipeline import Pipeline
from tracker.samples import Samples


def _sets(samples: Samples, calibration: DeviceCalibration) -> list[SetEvent]:
    pipeline = Pipeline(calibration=calibration)
    events = [e for chunk in samples.chunks(10) for e in pipeline.feed(chunk)] + pipeline.finish()
    return [e for e in events if isinstance(e, SetEvent)]


def twins(sensors: int) -> dict[str, object]:
    """Badly mounted, error-laden sensors, calibrated with the user's flows, against ideal twins.

    Each sensor and its twin (thigh-aligned, no bias, scale or misalignment; the same noise) wear
    the same simulated body through builtin:everything (every exercise, both legs' single-leg
    sets, walking, stairs, running, sitting); the figures are the share of sets whose exercise and
    count agree and the worst depth difference of the reps they share.
    """
    workout = load_workout("builtin:everything")
    sets_same = sets_total = 0
    depth_diff: list[float] = []
    for seed in range(sensors):
        leg: Leg = ("left", "right")[seed % 2]
        errors = sim_imu_errors(seed)
        r_true, _ = sim_mounting(seed)
        cal = calibrate_simulated(f"sim-{seed}", errors, r_true, leg, seed)
        ideal = simulate(workout, seed=seed, leg=leg, mounting=np.eye(3), imu=ideal_twin(errors))
        bad = simulate(workout, seed=seed, leg=leg, mounting=r_true, imu=errors)
        ref = _sets(ideal.samples(), DeviceCalibration("ideal", mounting=Mounting(np.eye(3), leg)))
        got = _sets(bad.samples(), cal)
        sets_total += len(ref)
        for a in ref:
            same = [b for b in got if abs(b.start_s - a.start_s) < 2.0]
            if same and (same[0].exercise, len(same[0].reps)) == (a.exercise, len(a.reps)):
                sets_same += 1
                depth_diff += [
                    abs(x.depth_deg - y.depth_deg) for x, y in zip(a.reps, same[0].reps, strict=True)
                ]
    return {
        "twins_sensors": sensors,
        "twins_sets_same_pct": round(100 * sets_same / max(sets_total, 1), 1),
        "twins_depth_diff_deg_max": round(max(depth_diff, default=float("nan")), 2),
        "twins_depth_diff_deg_median": round(float(np.median(depth_diff)) if depth_diff else float("nan"), 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sensors", type=int, default=50)
    ap.add_argument(
        "--twins", type=int, default=10, help="calibrated sensors whose reps are compared with an ideal twin"
    )
    args = ap.parse_args()
    err: dict[str, list[float]] = {
        k: []
        for k in (
            "bias_g",
            "scale_pct",
            "axis_deg",
            "gyro_dps",
            "mount_deg",
            "mount_vs_package_deg",
            "accel_vs_gyro_axes_deg",
        )
    }
    verdict_redo = 0
    for seed in range(args.sensors):
        rng = np.random.default_rng(seed)
        errors = sim_imu_errors(seed)
        bias, gbias = errors.accel_bias_g, errors.gyro_bias_dps
        accel = run_flow(AccelFlow(), measure(errors, pose_session(), rng))
        gyro = run_flow(GyroFlow(), measure(errors, still_session(12.0, rng.normal(size=3)), rng))
        s_true, ang_true = scale_and_axis_angles(errors.accel_matrix)
        err["bias_g"].append(float(np.max(np.abs(accel.bias_g - bias))))
        err["scale_pct"].append(float(np.max(np.abs(accel.scale / s_true - 1)) * 100))
        err["axis_deg"].append(float(np.max(np.abs(accel.axis_angles_deg - ang_true))))
        err["gyro_dps"].append(float(np.max(np.abs(gyro.bias_dps - gbias))))
        # The simulator's thigh: quiet standing and three slow squats, random mounting, either leg.
        leg = ("left", "right")[seed % 2]
        session = simulate(
            Workout.from_toml_str(MOUNTING_WORKOUT), seed=seed, leg=leg, mounting="random", imu=errors
        )
        r = session.R_thigh_from_sensor
        sensor = session.samples()
        est = run_flow(MountingFlow(imu=ImuCalibration(accel, gyro)), sensor)
        # The corrected axes are the sensor's true (package) axes turned by a small rotation H that
        # no calibration can observe: the rotating part of the accelerometer's and gyroscope's own
        # misalignments (the flow splits the difference, docs/calibration.md). The thigh angles only
        # depend on R_est @ H, so the mounting's truth, as the calibrated sensor sees it, is R @ H^T.
        ua, _, va = np.linalg.svd(accel.correction @ errors.accel_matrix)
        ug, _, vg = np.linalg.svd(accel.gyro_correction @ errors.gyro_matrix)
        h_accel, h_gyro = ua @ va, ug @ vg
        r_est = est.mounting.R_thigh_from_sensor
        err["mount_deg"].append(
            max(rotation_angle_deg(r_est @ h_accel, r), rotation_angle_deg(r_est @ h_gyro, r))
        )
        # ... against the package axes (includes H: up to a few degrees by construction) ...
        err["mount_vs_package_deg"].append(rotation_angle_deg(r_est, r))
        # ... and what the pipeline sees: corrected accel and gyro on the same axes.
        err["accel_vs_gyro_axes_deg"].append(rotation_angle_deg(h_accel, h_gyro))
        for q in (accel.quality, gyro.quality, est.mounting.quality):
            verdict_redo += int(q is None or q.verdict != "good")

    figures: dict[str, object] = {"sensors": args.sensors, "verdicts_redo": verdict_redo}
    figures["mount_deg_over_3_pct"] = round(100 * float(np.mean(np.array(err["mount_deg"]) > 3.0)), 2)
    for k, v in err.items():
        figures[f"{k}_max"] = round(float(np.max(v)), 5)
        figures[f"{k}_p95"] = round(float(np.percentile(v, 95)), 5)

    figures.update(twins(args.twins))
    cal = DeviceCalibration("bench", ImuCalibration(accel, gyro), est.mounting)
    n = 360_000
    hour = Samples.from_arrays(
        np.arange(n) / 100.0, np.random.default_rng(0).normal(size=(n, 3)), np.zeros((n, 3))
    )
    whole_runs, packet_runs = [], []
    for _ in range(3):  # median of three: the machine is shared
        t0 = time.perf_counter()
        cal.apply(hour)
        whole_runs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for chunk in hour.chunks(10):
            cal.apply(chunk)
        packet_runs.append(time.perf_counter() - t0)
    whole, packets = float(np.median(whole_runs)), float(np.median(packet_runs))
    figures["apply_one_hour_s"] = round(whole, 4)
    figures["apply_10_sample_chunks_us_per_chunk"] = round(packets / (n / 10) * 1e6, 2)
    for name, value in figures.items():
        print(f"{name:40s} {value}")
    print("wrote", write_results("calibration_accuracy", figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
