"""`reptrack calibrate`: the guided flows end to end, on recordings and on the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from calibration import calibration_for_device, load_calibration
from calibration.mounting import rotation_angle_deg
from calibration.synthetic import apply_errors, pose_session, squat_session
from tracker.cli import main
from tracker.samples import Samples

DEVICE = "EE:01:02:03:04:05"


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REPTRACK_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def write_csv(path: Path, samples: Samples, device_id: str | None = DEVICE) -> Path:
    assert samples.gyro_dps is not None
    lines = [f"# device_id: {device_id}"] if device_id else []
    lines.append("t,ax,ay,az,gx,gy,gz")
    data = np.column_stack([samples.t_s, samples.accel_g, samples.gyro_dps])
    lines += [",".join(f"{v:.6f}" for v in row) for row in data]
    path.write_text("\n".join(lines) + "\n")
    return path


SENS = np.array([[1.04, 0.02, -0.03], [0.01, 0.97, 0.04], [-0.02, 0.03, 1.02]])
BIAS = np.array([0.08, -0.06, 0.09])
GBIAS = np.array([3.0, -4.0, 2.5])


def test_accel_from_a_recording_is_saved_for_its_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(1)
    rec = write_csv(tmp_path / "poses.csv", apply_errors(pose_session(), SENS, BIAS, GBIAS, rng))
    assert main(["calibrate", "accel", "--replay", str(rec)]) == 0
    out = capsys.readouterr().out
    assert "Pose 2: x axis pointing down" in out
    assert "pose 11/12 captured" in out
    assert "Verdict: GOOD" in out
    cal = calibration_for_device(DEVICE)
    assert cal is not None and cal.imu.accel is not None
    assert np.allclose(cal.imu.accel.bias_g, BIAS, atol=0.01)
    assert f"Saved calibration {cal.id}" in out


def test_failed_flow_keeps_the_previous_calibration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(2)
    good = write_csv(tmp_path / "good.csv", apply_errors(pose_session(), SENS, BIAS, GBIAS, rng))
    assert main(["calibrate", "accel", "--replay", str(good)]) == 0
    saved = load_calibration(Path(capsys.readouterr().out.split(" to ")[-1].strip()))
    dirs = np.eye(3)[[0, 1, 2, 0]]  # only three orientations
    bad = write_csv(tmp_path / "bad.csv", apply_errors(pose_session(dirs), SENS, BIAS, GBIAS, rng))
    assert main(["calibrate", "accel", "--replay", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "Verdict: REDO" in out and "only 3 distinct pose(s) found" in out and "Nothing was saved" in out
    after = calibration_for_device(DEVICE)
    assert after is not None and after.id == saved.id


def test_mounting_uses_the_stored_accel_calibration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(3)
    poses = write_csv(tmp_path / "poses.csv", apply_errors(pose_session(), SENS, BIAS, GBIAS, rng))
    gyro_still = apply_errors(pose_session(np.eye(3)[[2]], hold_s=12), SENS, BIAS, GBIAS, rng)
    still = write_csv(tmp_path / "still.csv", gyro_still)
    r = Rotation.random(random_state=3).as_matrix()
    thigh = squat_session(reps=3)
    assert thigh.gyro_dps is not None
    sensor = Samples(thigh.t_s, thigh.accel_g @ r, thigh.gyro_dps @ r)
    squats = write_csv(tmp_path / "squats.csv", apply_errors(sensor, SENS, BIAS, GBIAS, rng))
    assert main(["calibrate", "accel", "--replay", str(poses)]) == 0
    assert main(["calibrate", "gyro", "--replay", str(still)]) == 0
    assert main(["calibrate", "mounting", "--replay", str(squats), "--leg", "left"]) == 0
    out = capsys.readouterr().out
    assert "standing captured" in out and "movement 3/3" in out
    cal = calibration_for_device(DEVICE)
    assert (
        cal is not None
        and cal.mounting is not None
        and cal.imu.gyro is not None
        and cal.imu.accel is not None
    )
    assert cal.mounting.leg == "left"
    assert np.allclose(cal.imu.gyro.bias_dps, GBIAS, atol=0.2)
    # The whole chain (sensor errors, then mounting) gives the thigh's readings back.
    back = cal.apply(Samples.from_arrays([0.0], np.array([0.3, 0.0, 0.95]) @ r @ SENS.T + BIAS))
    assert np.allclose(back.accel_g, [0.3, 0.0, 0.95], atol=0.01)
    assert rotation_angle_deg(cal.mounting.R_thigh_from_sensor, r) < 1.0


def test_recording_without_device_id_needs_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = write_csv(tmp_path / "anon.csv", pose_session(), device_id=None)
    assert main(["calibrate", "accel", "--replay", str(rec)]) == 2
    assert "give --device-id" in capsys.readouterr().err
    assert main(["calibrate", "accel", "--replay", str(rec), "--device-id", "my-sensor"]) == 0
    assert calibration_for_device("my-sensor") is not None


def test_calibration_option_writes_that_file(tmp_path: Path, config_dir: Path) -> None:
    rec = write_csv(tmp_path / "poses.csv", pose_session())
    target = tmp_path / "mine.json"
    assert main(["calibrate", "accel", "--replay", str(rec), "--calibration", str(target)]) == 0
    assert json.loads(target.read_text())["device_id"] == DEVICE
    assert not config_dir.exists()


def test_no_save_leaves_no_file(tmp_path: Path, config_dir: Path) -> None:
    rec = write_csv(tmp_path / "poses.csv", pose_session())
    assert main(["calibrate", "accel", "--replay", str(rec), "--no-save"]) == 0
    assert not config_dir.exists()


def test_missing_recording_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "gyro", "--replay", str(tmp_path / "nope.csv")]) == 2
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err


@pytest.mark.parametrize("kind", ["accel", "gyro"])
def test_simulated_sensor_flow_matches_its_truth(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", kind, "--sim", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "Simulator truth:" in out and "Verdict: GOOD" in out
    assert calibration_for_device("sim-5") is not None


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_simulated_sensor_full_calibration_gets_the_mounting_within_3_deg(
    seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from firmware_sim.calibration_source import open_sim

    for kind in ("accel", "gyro", "mounting"):
        assert main(["calibrate", kind, "--sim", "--seed", str(seed)]) == 0
    out = capsys.readouterr().out
    assert out.count("Verdict: GOOD") == 3
    cal = calibration_for_device(f"sim-{seed}")
    assert cal is not None and cal.mounting is not None
    truth = open_sim("mounting", None, seed, 20).true_mounting
    assert truth is not None
    assert rotation_angle_deg(cal.mounting.R_thigh_from_sensor, truth) < 3.0
