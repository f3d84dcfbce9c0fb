"""Sensor ids that once collided or crashed: topic ids, recording names, Home Assistant configs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.brokers import RealBroker, wait_until
from tracker.errors import UserError
from tracker.mqtt import BrokerURL, MqttSettings, Watcher
from tracker.mqtt.homeassistant import discovery_messages
from tracker.mqtt.topics import Topics, check_unique_topic_ids, sensor_topic_id

REPO = Path(__file__).resolve().parent.parent


def test_ids_differing_only_by_slash_plus_or_dash_get_their_own_topics() -> None:
    ids = ["left/1", "left+1", "left-1", "left#1", "left 1", "LEFT-1"]
    levels = [sensor_topic_id(i) for i in ids]
    assert len(set(levels)) == len(ids), levels
    assert sensor_topic_id("left-1") == "left-1"  # plain names keep their documented form
    assert sensor_topic_id("AA:BB:CC:DD:EE:FF") == "AA-BB-CC-DD-EE-FF"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=80), st.text(max_size=80))
def test_topic_ids_are_one_safe_level_and_distinct(a: str, b: str) -> None:
    for name in (a, b):
        level = sensor_topic_id(name)
        assert level and not set(level) & set("/+#\x00")
        assert sensor_topic_id(level) == level  # the publisher applies it again
        assert len(level) <= 120
    if a.strip() != b.strip() and sensor_topic_id(a) == sensor_topic_id(b):
        # only one BLE address written two ways may share a level (the same radio)
        assert a.strip().replace(":", "-") == b.strip().replace(":", "-")


def test_a_clash_is_refused_at_start() -> None:
    check_unique_topic_ids(["a/b", "a+b", "a-b"])
    with pytest.raises(UserError, match="both publish under the topic level 'AA-BB-CC-DD-EE-FF'"):
        check_unique_topic_ids(["AA:BB:CC:DD:EE:FF", "AA-BB-CC-DD-EE-FF"])


def test_home_assistant_discovery_uses_default_entity_id_and_names_its_origin() -> None:
    for topic, cfg in discovery_messages("homeassistant", Topics("reptrack", "s1"), "s1"):
        assert "object_id" not in cfg, topic
        assert cfg["default_entity_id"].startswith("sensor.reptrack_s1_")
        assert cfg["origin"]["name"] == "RepTrack" and cfg["origin"]["sw_version"]


def _squat_recording(path: Path, device_id: str, seed: int) -> int:
    from firmware_sim.session import simulate
    from firmware_sim.workout import Workout
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    workout = Workout.from_toml_str(
        '[[step]]\nactivity = "stand"\nduration_s = 4\n\n[[step]]\nactivity = "squat"\nreps = 6\nrest_s = 3\n'
    )
    sim = simulate(workout, seed=seed, leg="left", mounting="random")
    with RecordingWriter.create(path, RecordingMeta(device_id=device_id, rate_hz=100.0)) as writer:
        writer.write_packets(sim.packets())
    return sim.truth.total_reps


def test_sensors_whose_ids_differ_by_slash_and_plus_each_deliver_every_rep_and_record(
    tmp_path: Path,
) -> None:
    """Two sensors `gym/1` and `gym+1`, run at once with --record: each subscriber view gets every
    rep of its own sensor, and each sensor has its own recording (an id with '/' crashed --record)."""
    ids = ["gym/1", "gym+1"]
    truth = {i: _squat_recording(tmp_path / f"in{n}.rtrk", i, seed=11 + n) for n, i in enumerate(ids)}
    levels = {i: sensor_topic_id(i) for i in ids}
    out = tmp_path / "kept.rtrk"
    with RealBroker() as broker, Watcher(MqttSettings(BrokerURL.parse(broker.url))) as watcher:
        cmd = [sys.executable, "-m", "tracker.cli", "run", "--speed", "0", "--broker", broker.url]
        cmd += ["--json", "--quiet", "--record", str(out)]
        cmd += ["--replay", str(tmp_path / "in0.rtrk"), "--replay", str(tmp_path / "in1.rtrk")]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
        assert proc.returncode == 0, proc.stderr
        wait_until(
            lambda: all(
                (v := watcher.facts.sensors.get(levels[i])) is not None
                and v.status.get("status") == "offline"
                for i in ids
            ),
            10.0,
            "both sensors offline",
        )
        got = {i: len(watcher.facts.sensors[levels[i]].session_reps()) for i in ids}
    assert got == truth and all(n > 0 for n in truth.values())
    summaries = {s["sensor"]: s for s in json.loads(proc.stdout[proc.stdout.index("[") :])}
    assert {i: summaries[i]["total_reps"] for i in ids} == truth
    kept = sorted(p.name for p in tmp_path.glob("kept-*.rtrk"))
    assert len(kept) == 2, kept
