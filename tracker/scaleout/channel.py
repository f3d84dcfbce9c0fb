"""One sensor's live facts over a connection shared by every sensor of a worker (a Sink)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import paho.mqtt.client as mqtt

from tracker.events import Event, WobbleEvent
from tracker.mqtt import payloads
from tracker.mqtt.topics import Topics
from tracker.service.seams import Telemetry


class SharedChannel:
    """Publishes one sensor's events (QoS 1), retained state and status, and telemetry (QoS 0)
    through ``client``. Paho keeps unacknowledged QoS 1 messages and sends them again after a
    reconnect; a worker that dies is replaced by another from the last checkpoint, and
    subscribers drop the events sent twice by id."""

    def __init__(
        self, client: mqtt.Client, prefix: str, sensor_id: str, session_id: str, wobbles: int = 0
    ) -> None:
        self.client = client
        self.topics = Topics(prefix, sensor_id)
        self.sensor_id = sensor_id
        self.session_id = session_id
        self.state = payloads.StateTracker()
        self.wobbles = wobbles
        self.dropped_events = 0
        self._last_state: tuple[Any, ...] | None = None
        self._lock = threading.Lock()
        self.muted = False  # handing the sensor back: nothing more is published from here
        self.sets_done = 0

    def online(self, reason: str = "") -> None:
        body = payloads.status_payload(self.sensor_id, self.session_id, True, reason)
        self.client.publish(self.topics.status, payloads.encode(body), qos=1, retain=True)

    def publish(self, event: Event) -> None:
        if self.muted:
            return
        self.state.apply(event)
        self.sets_done = max(self.sets_done, self.state.sets_done)
        if isinstance(event, WobbleEvent):
            self.wobbles += 1
        message = payloads.event_message(self.sensor_id, self.session_id, event, self.wobbles)
        if message is not None:
            leaf, body = message
            self.client.publish(f"{self.topics.base}/{leaf}", payloads.encode(body), qos=1)

    def publish_state(self, pipeline_state: Mapping[str, Any] | None = None) -> None:
        if self.muted:
            return
        if pipeline_state:
            self.state.update(pipeline_state)
        key = self.state.key()
        if key == self._last_state:
            return
        self._last_state = key
        body = self.state.payload(self.sensor_id, self.session_id)
        self.client.publish(self.topics.state, payloads.encode(body), qos=1, retain=True)

    def publish_telemetry(self, telemetry: Telemetry) -> None:
        if self.muted:
            return
        if telemetry.battery_pct is not None:
            self.state.battery_pct = telemetry.battery_pct
        body = payloads.telemetry_payload(self.sensor_id, self.session_id, telemetry)
        self.client.publish(self.topics.telemetry, payloads.encode(body), qos=0)

    def close(self, timeout_s: float = 5.0) -> int:
        if self.muted:
            return 0  # the gateway says offline ("worker lost") until the next owner is online
        body = payloads.status_payload(self.sensor_id, self.session_id, False, "shutdown")
        self.client.publish(self.topics.status, payloads.encode(body), qos=1, retain=True)
        return 0
