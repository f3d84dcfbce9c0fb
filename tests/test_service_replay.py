"""Several real thigh recordings replayed at once: tracker -> real broker -> subscriber == truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import workouts
from tests.brokers import RealBroker, validate, wait_until
from tests.paths import CMU_THIGH_DIR, REPO_ROOT
from tracker.mqtt import BrokerURL, MqttSettings, Watcher
from tracker.mqtt.topics import split_topic

REPO = REPO_ROOT
DATA = CMU_THIGH_DIR
FILES = ("SqDL_LeftThigh", "Lunge_LeftThigh", "Walk_LeftThigh")

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real recordings not found at {DATA}")


def test_three_recordings_at_once_reach_the_subscriber_with_the_true_counts(tmp_path) -> None:
    truth = {name: json.loads((DATA / f"{name}.truth.json").read_text())["reps"] for name in FILES}
    problems: list[str] = []

    def on_raw(topic: str, payload: bytes) -> None:
        where = split_topic("gym/zone-a", topic)
        if where is not None and payload:
            try:
                validate(where[1], json.loads(payload))
            except Exception as exc:
                problems.append(f"{topic}: {exc}")

    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url), prefix="gym/zone-a")
        with Watcher(settings, on_raw=on_raw) as watcher:
            cmd = [sys.executable, "-m", "tracker.cli", "run", "--speed", "0", "--broker", broker.url]
            cmd += ["--prefix", "gym/zone-a", "--json", "--quiet"]
            for name in FILES:
                cmd += ["--replay", str(DATA / f"{name}.csv")]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
            assert proc.returncode == 0, proc.stderr
            wait_until(
                lambda: all(
                    watcher.facts.sensors.get(n, None) is not None
                    and watcher.facts.sensors[n].status.get("status") == "offline"
                    for n in FILES
                ),
                10.0,
                "every sensor offline",
            )
    summaries = {s["sensor"]: s for s in json.loads(proc.stdout[proc.stdout.index("[") :])}
    got = {n: len(watcher.facts.sensors[n].session_reps()) for n in FILES}
    assert got == {n: summaries[n]["total_reps"] for n in FILES}, "subscriber and tracker disagree"
    assert got == truth
    assert problems == []
    for n in FILES:
        state = watcher.facts.sensors[n].state
        assert state["total_reps"] == truth[n]


def test_run_applies_a_calibration_file_and_records_its_id(tmp_path: Path) -> None:
    """`run --calibration FILE --record OUT`: the mounting is used and OUT names the calibration."""
    from calibration import DeviceCalibration, Mounting, save_calibration
    from tracker.io.load import load_session
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    sim = workouts.simulated(workouts.squat_set(6), 11, "right")
    rec = tmp_path / "squats.rtrk"
    with RecordingWriter.create(rec, RecordingMeta(device_id="sensor-7", rate_hz=100.0)) as writer:
        writer.write_packets(sim.packets())
    cal = DeviceCalibration("sensor-7", mounting=Mounting(sim.R_thigh_from_sensor, "right"))
    cal_file = tmp_path / "sensor-7.json"
    save_calibration(cal, cal_file)
    out = tmp_path / "kept.rtrk"
    with RealBroker() as broker:
        cmd = [sys.executable, "-m", "tracker.cli", "run", "--speed", "0", "--broker", broker.url, "--json"]
        cmd += ["--quiet", "--replay", str(rec), "--calibration", str(cal_file), "--record", str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"applying calibration {cal.id}" in proc.stderr
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert summary["total_reps"] == sim.truth.total_reps == 6
    kept = load_session(out)
    assert kept.meta.calibration_id == cal.id
    assert kept.meta.device_id == "sensor-7"


def test_run_refuses_a_calibration_made_for_another_sensor(tmp_path: Path) -> None:
    from calibration import DeviceCalibration, save_calibration

    cal_file = tmp_path / "other.json"
    save_calibration(DeviceCalibration("sensor-9"), cal_file)
    cmd = [sys.executable, "-m", "tracker.cli", "run", "--speed", "0", "--broker", "mqtt://127.0.0.1:1"]
    cmd += ["--replay", str(DATA / "SqDL_LeftThigh.csv"), "--calibration", str(cal_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "sensor-9" in proc.stderr or "device" in proc.stderr, proc.stderr


def test_run_names_the_working_leg_from_the_recordings_sensor_leg(tmp_path: Path) -> None:
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    sim = workouts.simulated(workouts.SINGLE_LEG_SQUATS_BOTH_LEGS, 4, "right")
    rec = tmp_path / "sls.rtrk"
    with RecordingWriter.create(
        rec, RecordingMeta(device_id="sensor-3", rate_hz=100.0, sensor_leg="right")
    ) as w:
        w.write_packets(sim.packets())
    with RealBroker() as broker:
        cmd = [sys.executable, "-m", "tracker.cli", "run", "--speed", "0", "--broker", broker.url, "--json"]
        cmd += ["--quiet", "--replay", str(rec)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout[proc.stdout.index("{") :])
    got = [(s["exercise"], s["leg"], s["reps"]) for s in summary["sets"]]
    assert got == [("single_leg_squat", "right", 8), ("single_leg_squat", "left", 8)]
