"""`reptrack calibrate --device`: the flows on a live sensor over the virtual radio."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest

from calibration import calibration_for_device
from calibration.synthetic import apply_errors, pose_session, still_session
from firmware_sim.peripheral import SensorData
from firmware_sim.sensors import simulated_sensor
from tracker.cli import build_parser, calibrate
from tracker.samples import Samples

pytestmark = pytest.mark.timeout(60)


def sensor_data(samples: Samples) -> SensorData:
    return SensorData(
        np.round(samples.t_s * 1e6).astype(np.int64),
        samples.accel_g,
        samples.gyro_dps,
        samples.estimated_rate_hz(),
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser("reptrack", "tracker.cli", ("calibrate",), "test")
    return parser.parse_args(argv)


async def test_gyro_flow_on_a_live_sensor_stops_when_done_and_saves_by_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPTRACK_CONFIG_DIR", str(tmp_path / "config"))
    rng = np.random.default_rng(4)
    bias = np.array([2.0, -3.5, 4.5])
    data = sensor_data(
        apply_errors(still_session(40.0, np.array([0.2, 0.1, 1.0])), np.eye(3), np.zeros(3), bias, rng)
    )
    async with simulated_sensor(data, speed=10.0) as sim:
        args = parse(
            ["calibrate", "gyro", "--device", sim.name, "--transport", sim.transport, "--seconds", "8"]
        )
        assert await calibrate._run_live(args, sys.stdout) == 0
        address = sim.address
    out = capsys.readouterr().out
    assert "still for 8/8 s" in out and "Verdict: GOOD" in out
    cal = calibration_for_device(address)
    assert cal is not None and cal.imu.gyro is not None
    assert np.max(np.abs(cal.imu.gyro.bias_dps - bias)) < 0.2


async def test_accel_flow_on_a_live_sensor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REPTRACK_CONFIG_DIR", str(tmp_path / "config"))
    rng = np.random.default_rng(5)
    sens = np.diag([1.03, 0.96, 1.02])
    sens[0, 1] = 0.03
    bias = np.array([0.06, -0.09, 0.04])
    data = sensor_data(
        apply_errors(pose_session(hold_s=2.4, move_s=1.0), sens, bias, np.array([1.0, 2.0, -1.0]), rng)
    )
    async with simulated_sensor(data, speed=10.0) as sim:
        args = parse(["calibrate", "accel", "--device", sim.name, "--transport", sim.transport])
        assert await calibrate._run_live(args, sys.stdout) == 0
        address = sim.address
    out = capsys.readouterr().out
    assert "pose 12/12 captured" in out and "Verdict: GOOD" in out
    cal = calibration_for_device(address)
    assert cal is not None and cal.imu.accel is not None
    assert np.max(np.abs(cal.imu.accel.bias_g - bias)) < 0.01
