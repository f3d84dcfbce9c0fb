"""``reptrack worker``: claim sensors announced by gateways, count their reps, publish their facts.

Every worker of a pool subscribes to the announcements through one MQTT 5 shared subscription
(``$share/<group>/<prefix>/gw/+/hello``), so the broker hands each announcement to one worker.
That worker claims the sensor; the gateway, which arbitrates, names the owner (retained) and
sends it the sensor's packets since the last checkpoint, then the live ones, in order on one
topic: a sensor's stream stays whole and in order on one worker. After each closed set the owner
publishes a retained checkpoint. The worker's connection has ``offline`` as its last will; when
the gateway sees it, it releases the worker's sensors and announces them again, and the next
owner replays from the checkpoint with the same set numbers and event ids (subscribers drop the
events they already have by id): no rep is lost, none is counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import paho.mqtt.client as mqtt

from tracker.events import Event, SetEvent
from tracker.mqtt.publisher import MqttSettings, connect_client
from tracker.pipeline import Pipeline
from tracker.protocol import StreamDecoder, StreamStats
from tracker.scaleout import snapshot, wire
from tracker.scaleout.channel import SharedChannel
from tracker.scaleout.resume import ResumedPipeline
from tracker.service import SensorResult, SourceChunk, run_sensor

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 30.0  # of stream, besides after each closed set (a snapshot: ~2-7 ms of CPU)


class PacketQueueSource:
    """A claimed sensor's packets (from the broker) as a service Source, decoded in order.

    Packets wait in arrival order until the service asks for more; then all of them are decoded
    and handed over together, as the BLE link does (tracker/ble/link.py): a worker that keeps up
    feeds each packet as it comes, a loaded one feeds the few that queued up at once (a
    pipeline's feed costs mostly the same for 10 samples as for 50)."""

    def __init__(self, sensor_id: str, checkpoint: wire.Checkpoint) -> None:
        self.sensor_id = sensor_id
        self.name = sensor_id
        self.wall_t0: float | None = None  # replayed and live packets mix: no real-time pacing
        self.decoder = StreamDecoder()
        self.stats: StreamStats = self.decoder.stats
        self.checkpoint = checkpoint
        self.next_index = checkpoint.index  # frames below it were seen (or precede the checkpoint)
        self.end_index: int | None = None
        self.fed_index = checkpoint.index  # the first packet not yet handed to the pipeline
        self.missed_packets = 0  # frames skipped over by a later index: dropped on the way
        self._packets: list[bytes] = []  # arrived, not yet taken by the service
        self._host_s: list[float] = []
        self._ended = False
        self._ready = asyncio.Event()
        self.on_fed: Callable[[], None] | None = None  # called once what was handed over is fed

    def use_decoder(self, decoder: StreamDecoder) -> None:
        """Continue a stream with the decoder of a checkpoint (its session clock and sequence)."""
        self.decoder = decoder
        self.stats = decoder.stats

    def frame(self, data: bytes) -> None:
        try:
            index, host_s, packet = wire.decode_frame(data)
        except ValueError as exc:
            log.warning("%s: %s; dropped", self.sensor_id, exc)
            return
        if index < self.next_index:
            return  # a packet sent again (a replay after this worker had it already)
        if index > self.next_index:
            self._missed(index)
        self.next_index = index + 1
        self._packets.append(packet)
        self._host_s.append(host_s)
        self._ready.set()
        self._maybe_end()

    def _missed(self, index: int) -> None:
        """Frames ``next_index``..``index - 1`` never came: the broker dropped them (Mosquitto
        drops QoS 1 messages beyond ``max_queued_messages`` for a client that falls behind)."""
        first = self.missed_packets == 0
        self.missed_packets += index - self.next_index
        (log.warning if first else log.debug)(
            "%s: packets %d-%d never reached this worker (%d missed so far): the broker dropped "
            "them; raise its queue limit (Mosquitto: max_queued_messages) or add workers",
            self.sensor_id,
            self.next_index,
            index - 1,
            self.missed_packets,
        )

    def end(self, index: int) -> None:
        self.end_index = index
        self._maybe_end()

    def _maybe_end(self) -> None:
        if self.end_index is not None and self.next_index >= self.end_index:
            self._ended = True
            self._ready.set()
            self.end_index = None

    async def chunks(self) -> AsyncIterator[SourceChunk]:
        while True:
            await self._ready.wait()
            self._ready.clear()
            packets, host_s = self._packets, self._host_s
            self._packets, self._host_s = [], []
            if packets:
                samples, notices = self.decoder.feed(packets, host_s)
                self.fed_index += len(packets)
                yield SourceChunk(samples, packets, host_s, notices)
                if self.on_fed is not None:  # (the service asked for more: that chunk is done)
                    self.on_fed()
            if self._ended and not self._packets:
                return


class ClaimedSensor:
    """A sensor this worker owns: its source, channel, pipeline and the task running them.

    It checkpoints after each closed set and every ``CHECKPOINT_EVERY_S`` of stream, each time
    once the packets taken so far are fed and their events published, with the decoder's and the
    pipeline's state (tracker/scaleout/snapshot.py): a new owner restores them and continues from
    the next packet."""

    def __init__(self, worker: Worker, sensor_id: str, session: str, checkpoint: wire.Checkpoint) -> None:
        assert worker.client is not None
        self.worker = worker
        self.sensor_id = sensor_id
        self.session = session
        self.source = PacketQueueSource(sensor_id, checkpoint)
        self.source.on_fed = self._after_feed
        self.channel = SharedChannel(
            worker.client, worker.facts_prefix, sensor_id, session, checkpoint.wobbles
        )
        self.channel.sets_done = checkpoint.sets_done
        self.pipeline: Pipeline | ResumedPipeline = self._resume(checkpoint)
        self._closed_set: int | None = None  # a set closed since the last checkpoint
        self._checkpoint_t_s = self.source.decoder.next_t_s
        self._keeps_state = isinstance(self.pipeline, Pipeline)
        self.channel.online("claimed by worker " + worker.worker_id)
        self.task = asyncio.ensure_future(
            run_sensor(self.source, self.channel, self.pipeline, on_event=self._on_event)
        )

    def _resume(self, cp: wire.Checkpoint) -> Pipeline | ResumedPipeline:
        """The checkpoint's decoder and pipeline when it carries them; else a fresh pipeline
        (from the start of the stream, or shifted to a checkpoint after a closed set)."""
        if cp.pipeline is not None:
            try:
                decoder, pipeline = snapshot.loads(cp.pipeline)
                if isinstance(decoder, StreamDecoder) and isinstance(pipeline, Pipeline):
                    self.source.use_decoder(decoder)
                    return pipeline
                log.warning("%s: the checkpoint's state is not a decoder and a pipeline", self.sensor_id)
            except snapshot.SnapshotError as exc:
                log.warning("%s: %s; starting a fresh pipeline at packet %d", self.sensor_id, exc, cp.index)
        return Pipeline() if cp.index == 0 else ResumedPipeline(cp)

    def _on_event(self, sensor: str, ev: Event) -> None:
        if isinstance(ev, SetEvent) and not self.channel.muted:
            self._closed_set = ev.index

    def _after_feed(self) -> None:
        """The packets taken so far are fed and their events published: checkpoint when due."""
        if self.channel.muted:
            return
        due = self._keeps_state and self.source.decoder.next_t_s - self._checkpoint_t_s >= CHECKPOINT_EVERY_S
        if self._closed_set is not None or due:
            self.checkpoint(self._closed_set or self.channel.sets_done)
            self._closed_set = None

    def checkpoint(self, sets_done: int) -> None:
        """Publish where a new owner would pick up: after the packets fed so far."""
        decoder = self.source.decoder
        state = None
        if self._keeps_state:
            try:
                state = snapshot.dumps((decoder, self.pipeline))
            except snapshot.SnapshotError as exc:
                log.warning("%s: checkpoints without the pipeline's state: %s", self.sensor_id, exc)
                self._keeps_state = False
        self._checkpoint_t_s = decoder.next_t_s
        base_t_s = 0.0 if isinstance(self.pipeline, Pipeline) else self.source.checkpoint.t_s
        cp = wire.Checkpoint(
            index=self.source.fed_index,
            t_s=base_t_s + decoder.next_t_s,
            sets_done=sets_done,
            total_reps=int(self.pipeline.state.get("total_reps") or 0),
            wobbles=self.channel.wobbles,
            pipeline=state,
        )
        self.worker.publish_checkpoint(self.sensor_id, self.session, cp)

    def hand_back(self) -> None:
        """This worker stops mid-stream: what was not checkpointed is left to the next owner,
        which picks up from the checkpoint (finishing the set here would publish a cut set)."""
        self.channel.muted = True
        self.source.end(self.source.next_index)


class Worker:
    """One worker process's sensors over one MQTT connection (its last will: ``offline``)."""

    def __init__(
        self, settings: MqttSettings, worker_id: str | None = None, group: str = wire.SHARE_GROUP
    ) -> None:
        self.settings = settings
        self.prefix = wire.pool_root(settings.prefix)  # gateway/worker topics
        self.facts_prefix = settings.prefix  # the sensors' live facts
        self.worker_id = worker_id or uuid.uuid4().hex[:8]
        self.group = group
        self.client: mqtt.Client | None = None
        self.sensors: dict[str, ClaimedSensor] = {}
        self.claiming: dict[str, str] = {}  # sensor -> session, claim sent, no owner yet
        self.results: list[SensorResult] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- connection (paho's thread hands every message to the asyncio loop) ---------------------
    def _prepare(self, client: mqtt.Client) -> None:
        client.will_set(wire.worker_status_topic(self.prefix, self.worker_id), b"offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        client.publish(wire.worker_status_topic(self.prefix, self.worker_id), b"online", qos=1, retain=True)
        client.subscribe(wire.hello_subscription(self.prefix, self.group), qos=1)
        for sensor in [*self.sensors, *self.claiming]:
            client.subscribe(wire.gw_topic(self.prefix, sensor, "#"), qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self.handle, message.topic, bytes(message.payload))

    async def run(self, stop: asyncio.Event) -> list[SensorResult]:
        """Serve until ``stop``; then finish every sensor's pipeline and go offline."""
        self._loop = asyncio.get_running_loop()
        client_id = f"reptrack-worker-{self.worker_id}"
        settings = self.settings
        self.client = await asyncio.to_thread(
            connect_client, settings, client_id, prepare=self._prepare, auto_reconnect=True
        )
        try:
            await stop.wait()
        finally:
            running = list(self.sensors.values())
            for claimed in running:
                claimed.hand_back()
            await asyncio.gather(*(c.task for c in running), return_exceptions=True)
            await asyncio.sleep(0)  # let the tasks' done callbacks collect the results
            topic = wire.worker_status_topic(self.prefix, self.worker_id)
            info = self.client.publish(topic, b"offline", qos=1, retain=True)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(info.wait_for_publish, 2.0)
            self.client.disconnect()
            self.client.loop_stop()
        return self.results

    # --- protocol -------------------------------------------------------------------------------
    def handle(self, topic: str, payload: bytes) -> None:
        where = wire.sensor_of(self.prefix, topic)
        if where is None or self.client is None:
            return
        sensor, leaf = where
        if leaf == "packets":
            claimed = self.sensors.get(sensor)
            if claimed is not None:
                claimed.source.frame(payload)
            return
        body = wire.loads(payload)
        if leaf == "hello" and isinstance(body, dict):
            self._on_hello(sensor, str(body.get("session", "")))
        elif leaf == "owner" and isinstance(body, dict):
            self._on_owner(sensor, body)
        elif leaf == "end" and isinstance(body, dict) and sensor in self.sensors:
            self.sensors[sensor].source.end(int(body.get("index", 0)))

    def _on_hello(self, sensor: str, session: str) -> None:
        if sensor in self.sensors or sensor in self.claiming:
            return
        assert self.client is not None
        self.claiming[sensor] = session
        self.client.subscribe(wire.gw_topic(self.prefix, sensor, "#"), qos=1)
        self.client.publish(
            wire.gw_topic(self.prefix, sensor, "claim"), wire.dumps({"worker": self.worker_id}), qos=1
        )

    def _on_owner(self, sensor: str, body: dict[str, Any]) -> None:
        assert self.client is not None
        owner = body.get("worker")
        if owner is None:
            return  # released (or cleared): the claim sent is still good
        mine = owner == self.worker_id
        if mine and sensor not in self.sensors:
            self.claiming.pop(sensor, None)
            checkpoint = wire.Checkpoint.from_json(body.get("checkpoint"))
            log.info("worker %s owns %s from packet %d", self.worker_id, sensor, checkpoint.index)
            self.sensors[sensor] = ClaimedSensor(self, sensor, str(body.get("session", "")), checkpoint)
            self.sensors[sensor].task.add_done_callback(functools.partial(self._finished, sensor))
        elif not mine and sensor in self.claiming:
            self.claiming.pop(sensor, None)  # another worker won the claim
            self.client.unsubscribe(wire.gw_topic(self.prefix, sensor, "#"))

    def _finished(self, sensor: str, _task: object = None) -> None:
        claimed = self.sensors.pop(sensor, None)
        if claimed is not None and self.client is not None:
            with contextlib.suppress(Exception):
                self.results.append(claimed.task.result())
            if not claimed.channel.muted:  # the stream ended: tell the gateway it is all done
                claimed.checkpoint(
                    int(claimed.pipeline.state.get("set_index") or 0) or claimed.channel.sets_done
                )
            self.client.unsubscribe(wire.gw_topic(self.prefix, sensor, "#"))

    def publish_checkpoint(self, sensor: str, session: str, cp: wire.Checkpoint) -> None:
        assert self.client is not None
        body = {"session": session, "worker": self.worker_id, **cp.to_json()}
        self.client.publish(
            wire.gw_topic(self.prefix, sensor, "checkpoint"), wire.dumps(body), qos=1, retain=True
        )
