"""Several real thigh recordings replayed at once: tracker -> real broker -> subscriber == truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.brokers import RealBroker, validate, wait_until
from tracker.mqtt import BrokerURL, MqttSettings, Watcher
from tracker.mqtt.topics import split_topic

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "cmu-thigh"
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
