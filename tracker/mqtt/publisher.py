"""Publishing one sensor's live facts to an MQTT broker with paho-mqtt (docs/mqtt.md).

One :class:`SensorPublisher` is one MQTT connection: its last will is that sensor's ``offline``
status, so every sensor gets its own connection. Events go out at QoS 1. While the broker is away
they wait in the publisher's outage buffer, bounded by ``max_buffered_events`` (oldest first,
resent in order when the broker is back); beyond the bound new events are dropped and counted
in telemetry. The retained ``state`` keeps only its latest value and is re-sent on reconnect.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

import tracker.mqtt.payloads as payloads
from tracker.events import Event, WobbleEvent
from tracker.mqtt.broker import BrokerError
from tracker.mqtt.connection import (  # connection settings and login live in connection.py; re-exported here
    DEFAULT_MAX_BUFFERED_EVENTS,
    MqttSettings,
    connect_client,
    connect_error,
    describe_refusal,
    make_client,
)
from tracker.mqtt.topics import Topics, sensor_topic_id

if TYPE_CHECKING:  # the Sink seam's type (tracker.service imports this package: not at run time)
    from tracker.service.seams import Telemetry

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_BUFFERED_EVENTS",
    "MAX_REPLAYED",
    "MqttSettings",
    "SensorPublisher",
    "connect_client",
    "connect_error",
    "describe_refusal",
    "make_client",
]

MAX_REPLAYED = 100  # acknowledged events sent again after a reconnect, at most (on top of the buffer)


class SensorPublisher:
    """The live facts of one sensor, published under ``<prefix>/<sensor_id>/``.

    Thread-safe: call it from the service's asyncio thread while paho's network thread runs.

    The outage buffer is our own, not paho's: every event stays in it until the broker
    acknowledged it (PUBACK). When the connection is lost, the unacknowledged events go back to
    the front of the buffer; after reconnecting (a fresh session) and ``resume_delay_s``, the
    buffer is sent again in order. The delay gives subscribers of a broker that forgot their
    sessions in a restart time to resubscribe before the backlog arrives. Events the broker
    acknowledged within ``replay_window_s`` before the loss are sent again too: a broker that
    crashed can lose messages it acknowledged but had not delivered yet. Subscribers drop the
    duplicates by id.
    """

    def __init__(
        self,
        settings: MqttSettings,
        sensor_id: str,
        session_id: str,
        *,
        name: str | None = None,
        resume_delay_s: float = 2.0,
        replay_window_s: float = 5.0,
    ) -> None:
        self.settings = settings
        self.sensor_id = sensor_topic_id(sensor_id)
        self.name = name or sensor_id
        self.session_id = session_id
        self.resume_delay_s = resume_delay_s
        self.replay_window_s = replay_window_s
        self.topics = Topics(settings.prefix, self.sensor_id)
        self.state = payloads.StateTracker()
        self.dropped_events = 0
        self.published_events = 0
        self.reconnects = 0
        self._client: mqtt.Client | None = None
        self._lock = threading.RLock()
        self._backlog: collections.deque[tuple[str, bytes]] = collections.deque()  # not handed to paho
        self._inflight: dict[int, tuple[str, bytes]] = {}  # handed to paho, not acknowledged
        self._recent: collections.deque[tuple[float, str, bytes]] = collections.deque()  # acknowledged lately
        # PUBACKs noted by paho's thread without any lock of ours (paho holds its own locks when it
        # calls back; taking ours there would invert the lock order), applied under our lock.
        self._acks: collections.deque[tuple[mqtt.Client, int]] = collections.deque()
        self._wobbles = 0
        self._connected = threading.Event()
        self._sending = False  # True once the backlog may flow straight to the broker
        self._closing = threading.Event()
        self._last_state: bytes | None = None
        self._last_state_key: tuple[Any, ...] | None = None
        self._reconnector: threading.Thread | None = None
        self._retired: list[mqtt.Client] = []  # replaced clients, whose late callbacks are ignored
        self._reconnect_lock = threading.Lock()  # only guards the flag below; never held around paho
        self._reconnecting = False

    # --- connection ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def buffered_events(self) -> int:
        """Events the broker has not acknowledged yet (waiting or in flight)."""
        with self._lock:
            self._apply_acks()
            return len(self._backlog) + len(self._inflight)

    def _apply_acks(self) -> None:
        now = time.monotonic()
        while self._acks:
            client, mid = self._acks.popleft()
            if client is self._client:
                message = self._inflight.pop(mid, None)  # None: not an event (status, state)
                if message is not None and self.replay_window_s > 0:
                    self._recent.append((now, *message))
        while self._recent and (
            now - self._recent[0][0] > self.replay_window_s or len(self._recent) > MAX_REPLAYED
        ):
            self._recent.popleft()

    def _prepare(self, c: mqtt.Client) -> None:
        will = payloads.encode(
            payloads.status_payload(self.sensor_id, self.session_id, False, "connection lost")
        )
        c.will_set(self.topics.status, will, qos=1, retain=True)
        c.max_inflight_messages_set(100)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish

    def _connect_once(self, timeout_s: float) -> mqtt.Client:
        client_id = f"reptrack-{self.sensor_id}-{uuid.uuid4().hex[:6]}"
        return connect_client(
            self.settings, client_id, prepare=self._prepare, timeout_s=timeout_s, auto_reconnect=False
        )

    def connect(self, timeout_s: float = 10.0) -> None:
        """First connection: a refused login, a failed TLS handshake or no broker raise BrokerError."""
        client = self._connect_once(timeout_s)
        with self._lock:
            self._client = client
            self._sending = True

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            return
        log.info("connected to %s as %s", self.settings.broker, self.sensor_id)
        self._connected.set()
        status = payloads.encode(payloads.status_payload(self.sensor_id, self.session_id, True))
        client.publish(self.topics.status, status, qos=1, retain=True)
        if self.settings.homeassistant_prefix:
            from tracker.mqtt.homeassistant import discovery_messages

            for topic, payload in discovery_messages(
                self.settings.homeassistant_prefix, self.topics, self.name
            ):
                client.publish(topic, payloads.encode(payload), qos=1, retain=True)
        if self._last_state is not None:
            client.publish(self.topics.state, self._last_state, qos=1, retain=True)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if any(client is old for old in self._retired):
            return  # a connection we already gave up
        self._connected.clear()
        self._sending = False
        if self._closing.is_set():
            return
        log.warning(
            "lost the MQTT broker %s (%s); buffering events (at most %d)",
            self.settings.broker,
            rc,
            self.settings.max_buffered_events,
        )
        with self._reconnect_lock:
            if self._reconnecting:
                return  # the running reconnector notices the loss itself
            self._reconnecting = True
        self._reconnector = threading.Thread(target=self._reconnect, name="mqtt-reconnect", daemon=True)
        self._reconnector.start()

    def _retire_client(self) -> None:
        """Give up the current connection: its unacknowledged events go back to the backlog."""
        with self._lock:
            self._apply_acks()
            # Unacknowledged events go back, in order, in front of the ones that never left; in
            # front of them the events acknowledged in the last replay_window_s, which a broker
            # that crashed may have lost before delivering them (subscribers drop duplicates by id).
            self._backlog.extendleft(reversed(list(self._inflight.values())))
            self._backlog.extendleft(reversed([(topic, data) for _, topic, data in self._recent]))
            self._inflight.clear()
            self._recent.clear()
            old = self._client
            if old is not None:
                self._retired.append(old)
                del self._retired[:-4]
        if old is not None:
            with contextlib.suppress(Exception):
                old.loop_stop()

    def _reconnect(self) -> None:
        """Reconnect with backoff, wait ``resume_delay_s``, send the backlog; again if lost meanwhile."""
        delay = float(self.settings.reconnect_min_s)
        while not self._closing.is_set():
            self._retire_client()
            client = None
            while client is None:
                if self._closing.wait(delay):
                    return
                try:
                    client = self._connect_once(timeout_s=10.0)
                except BrokerError as exc:
                    log.info("still no MQTT broker: %s", exc)
                    delay = min(delay * 2, float(self.settings.reconnect_max_s))
            with self._lock:
                self._client = client
                self.reconnects += 1
            if self._closing.wait(self.resume_delay_s):
                return
            self._drain()
            with self._reconnect_lock:
                if self.connected or self._closing.is_set():
                    self._reconnecting = False
                    return
            delay = float(self.settings.reconnect_min_s)  # lost again: start over

    def _drain(self) -> None:
        """Send the backlog in order (after a reconnect)."""
        with self._lock:
            client = self._client
            if client is None or not self.connected:
                return
            while self._backlog:
                topic, data = self._backlog.popleft()
                self._send(client, topic, data)
            self._sending = True

    def _send(self, client: mqtt.Client, topic: str, data: bytes) -> None:
        # Called with our lock held, so no PUBACK can be applied before the mid is registered.
        info = client.publish(topic, data, qos=1, retain=False)
        self._inflight[info.mid] = (topic, data)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        self._acks.append((client, mid))

    # --- publishing ------------------------------------------------------------------------------

    def _publish_event(self, topic: str, body: Mapping[str, Any]) -> None:
        data = payloads.encode(body)
        with self._lock:
            client = self._require_client()
            self._apply_acks()
            if len(self._backlog) + len(self._inflight) >= self.settings.max_buffered_events:
                self.dropped_events += 1
                if self.dropped_events == 1 or self.dropped_events % 1000 == 0:
                    log.error(
                        "MQTT buffer full (%d events waiting for the broker): %d event(s) dropped",
                        self.settings.max_buffered_events,
                        self.dropped_events,
                    )
                return
            self.published_events += 1
            if self._sending and self.connected and not self._backlog:
                self._send(client, topic, data)
            else:
                self._backlog.append((topic, data))

    def publish(self, event: Event) -> None:
        """Publish one pipeline event (rep, set, wobble at QoS 1; a phase change updates ``state``)."""
        self.state.apply(event)
        if isinstance(event, WobbleEvent):
            self._wobbles += 1
        message = payloads.event_message(self.sensor_id, self.session_id, event, self._wobbles)
        if message is not None:
            leaf, body = message
            self._publish_event(f"{self.topics.base}/{leaf}", body)

    def publish_state(self, pipeline_state: Mapping[str, Any] | None = None) -> None:
        """Publish the retained ``state`` if it changed (only the latest is kept while offline)."""
        if pipeline_state:
            self.state.update(pipeline_state)
        key = self.state.key()
        if key == self._last_state_key:
            return
        self._last_state_key = key
        self._last_state = payloads.encode(self.state.payload(self.sensor_id, self.session_id))
        if self.connected:
            self._require_client().publish(self.topics.state, self._last_state, qos=1, retain=True)

    def publish_telemetry(self, telemetry: Telemetry) -> None:
        """Telemetry at QoS 0: skipped while the broker is away (only the current value matters)."""
        if telemetry.battery_pct is not None:
            self.state.battery_pct = telemetry.battery_pct
        if not self.connected:
            return
        body = payloads.telemetry_payload(
            self.sensor_id,
            self.session_id,
            telemetry,
            buffered_events=self.buffered_events,
            dropped_events=self.dropped_events,
        )
        self._require_client().publish(self.topics.telemetry, payloads.encode(body), qos=0, retain=False)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until the broker acknowledged every event; False if some are still waiting."""
        deadline = time.monotonic() + timeout_s
        while self.buffered_events and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.buffered_events == 0

    def close(self, timeout_s: float = 5.0) -> int:
        """Deliver what is queued, publish ``offline`` and disconnect. Returns undelivered events."""
        if self._client is None:
            return 0
        self.flush(timeout_s)
        self._closing.set()
        left = self.buffered_events
        if left:
            log.error(
                "%d event(s) of %s could not be delivered to %s", left, self.sensor_id, self.settings.broker
            )
        with self._lock:
            client = self._client
        if self.connected:
            body = payloads.status_payload(self.sensor_id, self.session_id, False, "shutdown")
            info = client.publish(self.topics.status, payloads.encode(body), qos=1, retain=True)
            deadline = time.monotonic() + min(timeout_s, 2.0)
            while not info.is_published() and self.connected and time.monotonic() < deadline:
                time.sleep(0.01)
        client.disconnect()
        client.loop_stop()
        if self._reconnector is not None:
            self._reconnector.join(timeout=12)
        self._client = None
        self._connected.clear()
        return left

    def _require_client(self) -> mqtt.Client:
        if self._client is None:
            raise RuntimeError("SensorPublisher.connect() was not called (or close() was)")
        return self._client
