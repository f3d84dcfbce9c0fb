"""``reptrack gateway``: sensors near this host -> raw packets on the broker, for a worker pool.

Per sensor the gateway numbers the packets (from 0), keeps those since the sensor's last
checkpoint, and decides who owns the sensor: while nobody does it announces it (``hello``, which
the broker hands to one worker of the pool); the first claim wins and is published retained
(``owner``), followed by the kept packets and then the live ones, all on one topic in order.
When the owner's last will (``offline``) arrives, its sensors are released: their ``status``
goes ``offline`` (reason ``worker lost``) and they are announced again, so another worker picks
them up from the checkpoint. Memory per sensor is bounded by the packets of one set and its rest.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from tracker.mqtt import payloads
from tracker.mqtt.publisher import MqttSettings, connect_client
from tracker.mqtt.topics import Topics
from tracker.scaleout import wire
from tracker.service import Source

log = logging.getLogger(__name__)

HELLO_INTERVAL_S = 1.0


@dataclass
class GatewaySensor:
    """One sensor's packets since its checkpoint, and who owns it."""

    sensor_id: str
    session: str
    sent: int = 0  # packets numbered so far
    kept: deque[bytes] = field(default_factory=deque)  # frames from checkpoint.index on
    checkpoint: wire.Checkpoint = field(default_factory=wire.Checkpoint)
    owner: str | None = None
    end_index: int | None = None
    done: bool = False  # the owner checkpointed past the end: nothing left to hand over


class Gateway:
    """Publishes sensors' packets for a worker pool and arbitrates their ownership."""

    def __init__(self, settings: MqttSettings, gateway_id: str | None = None) -> None:
        self.settings = settings
        self.prefix = wire.pool_root(settings.prefix)  # gateway/worker topics
        self.facts_prefix = settings.prefix  # the sensors' live facts (status on a hand-over)
        self.gateway_id = gateway_id or uuid.uuid4().hex[:8]
        self.session = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        self.sensors: dict[str, GatewaySensor] = {}
        self.client: mqtt.Client | None = None
        self.handovers = 0
        self.handovers_with_state = 0  # of which the checkpoint carried the pipeline's state
        self._lock = threading.Lock()  # sensor state; held while publishing, so frames stay in order

    def _prepare(self, client: mqtt.Client) -> None:
        client.on_connect = self._on_connect
        client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        for leaf in ("claim", "checkpoint"):
            client.subscribe(f"{self.prefix}/gw/+/{leaf}", qos=1)
        client.subscribe(f"{self.prefix}/workers/+/status", qos=1)

    def connect(self) -> None:
        self.client = connect_client(
            self.settings, f"reptrack-gateway-{self.gateway_id}", prepare=self._prepare
        )

    # --- from the sensors (asyncio) ---------------------------------------------------------------
    async def serve(self, sources: Sequence[Source], stop: asyncio.Event | None = None) -> None:
        """Stream every source until it ends (or ``stop``), then wait for the workers to finish."""
        stop = stop or asyncio.Event()
        for src in sources:
            self.add_sensor(src.sensor_id)
        announcer = asyncio.ensure_future(self._announce(stop))
        try:
            await asyncio.gather(*(self._stream(src, stop) for src in sources))
            while not stop.is_set() and not all(s.done for s in self.sensors.values()):
                await asyncio.sleep(0.1)
        finally:
            announcer.cancel()

    def add_sensor(self, sensor_id: str) -> GatewaySensor:
        with self._lock:
            sensor = GatewaySensor(sensor_id, f"{self.session}-{self.gateway_id}")
            self.sensors[sensor_id] = sensor
            for leaf in ("owner", "checkpoint"):  # a past session's leftovers must not be resumed
                self._publish(wire.gw_topic(self.prefix, sensor_id, leaf), b"", retain=True)
            return sensor

    async def _stream(self, source: Source, stop: asyncio.Event) -> None:
        sensor = self.sensors[source.sensor_id]
        async for chunk in source.chunks():
            hosts = chunk.host_times_s or [time.time()] * len(chunk.packets)
            with self._lock:
                for packet, host in zip(chunk.packets, hosts, strict=True):
                    frame = wire.encode_frame(sensor.sent, float(host), bytes(packet))
                    sensor.sent += 1
                    sensor.kept.append(frame)
                    if sensor.owner is not None:
                        self._publish(wire.gw_topic(self.prefix, sensor.sensor_id, "packets"), frame)
            if stop.is_set():
                break
        with self._lock:
            sensor.end_index = sensor.sent
            if sensor.owner is not None:
                self._publish_end(sensor)

    async def _announce(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with self._lock:
                for sensor in self.sensors.values():
                    if sensor.owner is None and not sensor.done:
                        body = {
                            "sensor": sensor.sensor_id,
                            "session": sensor.session,
                            "gateway": self.gateway_id,
                        }
                        self._publish(wire.gw_topic(self.prefix, sensor.sensor_id, "hello"), wire.dumps(body))
            await asyncio.sleep(HELLO_INTERVAL_S)

    # --- from the workers (paho's thread) ---------------------------------------------------------
    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic, body = message.topic, wire.loads(bytes(message.payload))
        if topic.startswith(f"{self.prefix}/workers/"):
            worker = topic.split("/")[-2]
            if message.payload == b"offline":
                self._release(worker)
            return
        where = wire.sensor_of(self.prefix, topic)
        if where is None or not isinstance(body, dict):
            return
        with self._lock:
            sensor = self.sensors.get(where[0])
            if sensor is None:
                return
            if where[1] == "claim":
                self._on_claim(sensor, str(body.get("worker", "")))
            elif where[1] == "checkpoint" and body.get("session") == sensor.session:
                self._on_checkpoint(sensor, wire.Checkpoint.from_json(body))

    def _on_claim(self, sensor: GatewaySensor, worker: str) -> None:
        if sensor.owner is not None or not worker:
            return  # first claim wins; the loser sees the retained owner and lets go
        sensor.owner = worker
        body = {"worker": worker, "session": sensor.session, "checkpoint": sensor.checkpoint.to_json()}
        self._publish(wire.gw_topic(self.prefix, sensor.sensor_id, "owner"), wire.dumps(body), retain=True)
        for frame in sensor.kept:  # from the checkpoint on, then live ones follow in order
            self._publish(wire.gw_topic(self.prefix, sensor.sensor_id, "packets"), frame)
        if sensor.end_index is not None:
            self._publish_end(sensor)
        log.info("%s: owned by worker %s from packet %d", sensor.sensor_id, worker, sensor.checkpoint.index)

    def _on_checkpoint(self, sensor: GatewaySensor, cp: wire.Checkpoint) -> None:
        if cp.index < sensor.checkpoint.index:
            return
        drop = cp.index - sensor.checkpoint.index
        for _ in range(min(drop, len(sensor.kept))):
            sensor.kept.popleft()
        sensor.checkpoint = cp
        if sensor.end_index is not None and cp.index >= sensor.end_index:
            sensor.done = True

    def _release(self, worker: str) -> None:
        with self._lock:
            for sensor in self.sensors.values():
                if sensor.owner != worker:
                    continue
                sensor.owner = None
                self.handovers += 1
                self.handovers_with_state += sensor.checkpoint.pipeline is not None
                log.warning(
                    "%s: worker %s lost; handing it over from packet %d",
                    sensor.sensor_id,
                    worker,
                    sensor.checkpoint.index,
                )
                topics = Topics(self.facts_prefix, sensor.sensor_id)
                status = payloads.status_payload(sensor.sensor_id, sensor.session, False, "worker lost")
                self._publish(topics.status, payloads.encode(status), retain=True)
                body = {"worker": None, "session": sensor.session, "checkpoint": sensor.checkpoint.to_json()}
                self._publish(
                    wire.gw_topic(self.prefix, sensor.sensor_id, "owner"), wire.dumps(body), retain=True
                )

    def _publish_end(self, sensor: GatewaySensor) -> None:
        self._publish(
            wire.gw_topic(self.prefix, sensor.sensor_id, "end"), wire.dumps({"index": sensor.end_index})
        )

    def _publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        if self.client is not None:
            self.client.publish(topic, payload, qos=1, retain=retain)

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
