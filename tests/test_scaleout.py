"""The worker pool: a gateway, three `reptrack worker` processes and Mosquitto; one worker is
killed (SIGKILL) in the middle of a set and its sensor resumes on another from the last checkpoint,
which carries the pipeline's state: after dropping duplicates by id, the subscriber has every rep
of the truth exactly once."""

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

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from tests.brokers import MOSQUITTO, RealBroker, wait_until
from tracker.protocol import Packetizer
from tracker.scaleout import wire
from tracker.scaleout.worker import PacketQueueSource

WORKOUT = """
name = "three-sets"
description = "Three short sets of bodyweight squats (a set closes 10 s after its last rep)"

[[step]]
activity = "stand"
duration_s = 5

[[step]]
activity = "squat"
reps = 6
rest_s = 12

[[step]]
activity = "squat"
reps = 6
rest_s = 12

[[step]]
activity = "squat"
reps = 6
rest_s = 11
"""


class Subscriber:
    """Notes rep and set events (by id, counting copies) and the current owner of each sensor."""

    def __init__(self, port: int) -> None:
        self.reps: dict[str, int] = {}
        self.sets: dict[str, dict[str, Any]] = {}
        self.owner: str | None = None
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self.on_message
        self.client.connect("127.0.0.1", port)
        for topic in ("reptrack/+/event/rep", "reptrack/+/event/set", "reptrack-pool/gw/+/owner"):
            self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        body = wire.loads(bytes(message.payload))
        if not isinstance(body, dict):
            return
        with self.lock:
            if message.topic.endswith("/event/rep"):
                self.reps[body["id"]] = self.reps.get(body["id"], 0) + 1
            elif message.topic.endswith("/event/set"):
                self.sets[body["id"]] = body
            elif message.topic.endswith("/owner"):
                self.owner = body.get("worker")

    def reps_of_set(self, index: int) -> int:
        with self.lock:
            return sum(1 for rep_id in self.reps if rep_id.split("/")[-2] == str(index))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tracker.cli", *args]


@pytest.mark.skipif(MOSQUITTO is None, reason="needs the mosquitto binary (MQTT 5 shared subscriptions)")
def test_a_killed_worker_s_sensor_resumes_on_another_with_no_rep_lost_or_doubled(tmp_path: Path) -> None:
    (tmp_path / "w.toml").write_text(WORKOUT)
    recording = tmp_path / "three.rtrk"
    generate = ["generate", "--workout", str(tmp_path / "w.toml"), "--out", str(recording), "--seed", "3"]
    subprocess.run(
        [sys.executable, "-m", "firmware_sim.cli", *generate],
        check=True,
        capture_output=True,
    )
    truth = json.loads((tmp_path / "three.truth.json").read_text())
    truth_reps = [len(s["reps_detail"]) for s in truth["sets"]]
    with RealBroker("mosquitto") as broker:
        url = broker.url
        workers = {
            name: subprocess.Popen(cli("worker", "--id", name, "--broker", url), stderr=subprocess.DEVNULL)
            for name in ("w1", "w2", "w3")
        }
        sub = Subscriber(broker.port)
        gateway = None
        try:
            time.sleep(1.5)  # the workers subscribe
            gateway = subprocess.Popen(
                cli("gateway", "--replay", str(recording), "--speed", "8", "--broker", url),
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            wait_until(lambda: sub.reps_of_set(2) >= 3, 90, "three reps of the second set")
            victim = sub.owner
            assert victim in workers
            workers[victim].send_signal(signal.SIGKILL)  # mid-set: no goodbye, only its last will
            workers[victim].wait(10)
            out, _ = gateway.communicate(timeout=120)
            assert gateway.returncode == 0
            assert "(1 hand-overs, 1 with the pipeline's state)" in out
            assert sub.owner not in (None, victim)
        finally:
            for proc in [*workers.values(), *([gateway] if gateway else [])]:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            for proc in workers.values():
                proc.wait(20)
            sub.close()
    counted = [sub.reps_of_set(k) for k in range(1, len(truth_reps) + 1)]
    assert counted == truth_reps
    assert len(sub.reps) == sum(truth_reps)  # no extra rep ids
    assert sorted(s["reps"] for s in sub.sets.values()) == sorted(truth_reps)


@settings(max_examples=50, deadline=None)
@given(index=st.integers(0, 2**32 - 1), host=st.floats(allow_nan=False), packet=st.binary(max_size=300))
def test_packet_frames_round_trip(index: int, host: float, packet: bytes) -> None:
    assert wire.decode_frame(wire.encode_frame(index, host, packet)) == (index, host, packet)


@given(data=st.binary(max_size=11))
def test_a_short_frame_is_refused_with_its_length(data: bytes) -> None:
    with pytest.raises(ValueError, match=f"packet frame is {len(data)} bytes, expected at least 12"):
        wire.decode_frame(data)


@pytest.mark.unit
def test_a_busy_worker_feeds_the_packets_that_waited_for_it_together() -> None:
    """Packets that arrived while the worker was busy reach the pipeline in one feed (a feed
    costs about the same for 10 samples as for 50), in order, with none lost or repeated."""
    t = np.arange(60) / 100.0
    accel = np.tile([0.0, 0.0, 1.0], (60, 1)) + t[:, None] * 0.01
    packets = Packetizer().encode(np.round(t * 1e6).astype(np.int64), accel, np.zeros((60, 3)))
    source = PacketQueueSource("s1", wire.Checkpoint())

    async def stream() -> list[int]:
        chunks = source.chunks().__aiter__()
        source.frame(wire.encode_frame(0, 0.0, packets[0]))
        sizes = [len((await chunks.__anext__()).samples)]  # a worker that keeps up: one at a time
        for i, packet in enumerate(packets[1:], start=1):  # then busy while five more arrive
            source.frame(wire.encode_frame(i, 0.0, packet))
        source.frame(wire.encode_frame(3, 0.0, packets[3]))  # a copy sent again: dropped
        source.end(len(packets))
        return sizes + [len(chunk.samples) async for chunk in chunks]

    assert asyncio.run(stream()) == [10, 50]
    assert source.fed_index == len(packets)


@pytest.mark.unit
def test_packets_the_broker_dropped_are_reported_once_per_sensor_with_their_indexes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker that fell behind loses packets at the broker (Mosquitto's queue limit): the
    worker says which ones never came and how to avoid it, once per sensor, and counts them."""
    source = PacketQueueSource("s7", wire.Checkpoint())
    with caplog.at_level("DEBUG", logger="tracker.scaleout.worker"):
        for index in (0, 1, 5, 6, 9):
            source.frame(wire.encode_frame(index, 0.0, b"\x00" * 20))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "s7: packets 2-4 never reached this worker (3 missed so far): the broker dropped them; "
        "raise its queue limit (Mosquitto: max_queued_messages) or add workers"
    ]
    assert source.missed_packets == 5
