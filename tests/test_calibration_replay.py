"""`reptrack replay` applies a device's stored calibration by itself and says which one it used."""

from __future__ import annotations

from pathlib import Path

import pytest

from calibration import DeviceCalibration, Mounting, save_calibration
from tests import workouts
from tracker.cli.replay import replay_file
from tracker.errors import InputFileError
from tracker.io.native import RecordingWriter
from tracker.io.session import RecordingMeta


def _recording(path: Path, device_id: str, calibration_id: str | None = None):  # type: ignore[no-untyped-def]
    sim = workouts.simulated(workouts.squat_set(5), 5, "left")
    meta = RecordingMeta(device_id=device_id, rate_hz=100.0, calibration_id=calibration_id)
    with RecordingWriter.create(path, meta) as writer:
        writer.write_packets(sim.packets())
    return sim


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REPTRACK_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


def test_replay_applies_the_devices_stored_calibration(store: Path) -> None:
    rec = store / "s.rtrk"
    sim = _recording(rec, "sensor-7")
    cal = DeviceCalibration("sensor-7", mounting=Mounting(sim.R_thigh_from_sensor, "left"))
    save_calibration(cal)  # into the store, as `reptrack calibrate` does
    summary = replay_file(rec)
    assert summary["calibration_id"] == cal.id
    assert summary["total_reps"] == 5
    other = store / "other.rtrk"
    _recording(other, "sensor-8")
    assert replay_file(other)["calibration_id"] is None  # never calibrated: replayed as it is


def test_replay_warns_when_the_recorded_calibration_is_gone(store: Path) -> None:
    rec = store / "s.rtrk"
    _recording(rec, "sensor-7", calibration_id="cal-000000000000")
    summary = replay_file(rec)
    assert summary["calibration_id"] is None
    assert any("cal-000000000000" in w and "uncalibrated" in w for w in summary["warnings"])


def test_replay_refuses_a_calibration_file_for_another_device(store: Path) -> None:
    rec = store / "s.rtrk"
    _recording(rec, "sensor-7")
    wrong = store / "wrong.json"
    save_calibration(DeviceCalibration("sensor-9"), wrong)
    with pytest.raises(InputFileError, match="sensor"):
        replay_file(rec, calibration=wrong)
