"""End to end: simulated sensor -> virtual BLE radio -> tracker -> real broker -> subscriber."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests import workouts
from tests.brokers import RealBroker, validate, wait_until
from tracker.mqtt import BrokerURL, MqttSettings, SensorPublisher, Watcher
from tracker.mqtt.topics import split_topic

REPO = Path(__file__).resolve().parent.parent


SEED = 3


@pytest.fixture
def workout(tmp_path) -> str:
    path = tmp_path / "two-sets.toml"
    path.write_text(workouts.TWO_SQUAT_SETS)
    return str(path)


def schema_checker(problems: list[str]):
    def on_raw(topic: str, payload: bytes) -> None:
        where = split_topic("reptrack", topic)
        if where is None or not payload:
            return
        try:
            validate(where[1], json.loads(payload))
        except Exception as exc:
            problems.append(f"{topic}: {exc}")

    return on_raw


def test_subscriber_counts_equal_the_truth_across_a_broker_restart_mid_set(workout: str) -> None:
    from firmware_sim.session import simulate
    from firmware_sim.source import simulated_source
    from firmware_sim.workout import load_workout
    from tracker.pipeline import Pipeline
    from tracker.service import run_sensor

    truth = simulate(load_workout(workout), seed=SEED).truth.to_json()
    truth_counts = {i + 1: len(s["reps_detail"]) for i, s in enumerate(truth["sets"])}
    problems: list[str] = []
    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url))
        restarted = threading.Event()

        def on_message(sensor: str, leaf: str, body: dict[str, Any]) -> None:
            # In the middle of the first set: kill the broker, bring it back a moment later.
            if (
                leaf == "event/rep"
                and body["set_index"] == 1
                and body["rep"]["n"] == 3
                and not restarted.is_set()
            ):
                restarted.set()

                def bounce() -> None:
                    broker.kill()
                    time.sleep(0.7)
                    broker.start()

                threading.Thread(target=bounce, daemon=True).start()

        watcher = Watcher(
            settings, client_id="e2e-subscriber", on_message=on_message, on_raw=schema_checker(problems)
        ).start()
        try:
            source = simulated_source(workout, seed=SEED, sensor_id="thigh", speed=20.0)
            publisher = SensorPublisher(settings, "thigh", "e2e")
            publisher.connect()
            result = asyncio.run(run_sensor(source, publisher, Pipeline()))
            view = watcher.facts.sensors["thigh"]
            wait_until(lambda: len(view.reps) >= len(result.reps), 15.0, "every rep at the subscriber")
            wait_until(lambda: view.status.get("status") == "offline", 10.0, "offline status")
        finally:
            watcher.stop()
    assert restarted.is_set(), "the broker was never restarted"
    assert result.undelivered == 0 and result.dropped == 0
    assert problems == []
    received = sorted((r["set_index"], r["rep"]["n"]) for r in view.reps.values())
    tracked = sorted((e.set_index, e.rep.n) for e in result.reps)
    assert received == tracked, "the subscriber must end with exactly the tracker's reps"
    assert view.reps_per_set() == truth_counts, "rep counts must equal the ground truth"


@pytest.mark.process
def test_ctrl_c_flushes_publishes_offline_and_closes_the_recording(tmp_path, workout: str) -> None:
    from tracker.io.load import load_session

    record = tmp_path / "live.rtrk"
    source_args, sensor = ["--sim", workout, "--speed", "4", "--seed", str(SEED)], "sim-1"
    problems: list[str] = []
    with RealBroker() as broker:
        settings = MqttSettings(BrokerURL.parse(broker.url))
        with Watcher(settings, on_raw=schema_checker(problems)) as watcher:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tracker.cli",
                    "run",
                    *source_args,
                    "--broker",
                    broker.url,
                    "--record",
                    str(record),
                    "--json",
                    "--quiet",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
            )
            try:
                wait_until(
                    lambda: sensor in watcher.facts.sensors and len(watcher.facts.sensors[sensor].reps) >= 2,
                    60.0,
                    "two reps",
                )
                proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
            view = watcher.facts.sensors[sensor]
            wait_until(lambda: view.status.get("status") == "offline", 10.0, "offline")
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    summary = json.loads(out[out.index("{") :])
    assert view.status["reason"] == "shutdown"
    assert summary["total_reps"] == len(view.reps) >= 2
    assert len(view.sets) == len(summary["sets"]) >= 1, "the set in progress is closed on Ctrl-C"
    session = load_session(record)
    assert len(session.samples) > 0
    assert not [w for w in session.warnings if "truncat" in w.lower()], session.warnings
    assert problems == []
