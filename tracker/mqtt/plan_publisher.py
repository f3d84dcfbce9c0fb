"""Publishing a sensor's progress through its workout plan: the retained ``plan`` topic.

Only the latest progress matters (it is retained, like ``state``), so nothing is queued while
the broker is away: the latest progress is sent again on every (re)connect. It has a connection
of its own, beside the sensor's :class:`~tracker.mqtt.publisher.SensorPublisher` (whose
connection carries the sensor's last will), so following a plan changes nothing in that one.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import paho.mqtt.client as mqtt

from tracker.mqtt import payloads
from tracker.mqtt.publisher import MqttSettings, connect_client
from tracker.mqtt.topics import Topics, sensor_topic_id

log = logging.getLogger(__name__)


class PlanPublisher:
    """The retained plan progress of one sensor (docs/plans.md, docs/schemas/plan.schema.json)."""

    def __init__(self, settings: MqttSettings, sensor_id: str, session_id: str) -> None:
        self.settings = settings
        self.sensor_id = sensor_topic_id(sensor_id)
        self.session_id = session_id
        self.topic = Topics(settings.prefix, self.sensor_id).plan
        self.published = 0
        self._latest: bytes | None = None
        self._last_info: mqtt.MQTTMessageInfo | None = None
        self._lock = threading.Lock()
        self._client: mqtt.Client | None = None

    def connect(self, timeout_s: float = 10.0) -> None:
        def prepare(c: mqtt.Client) -> None:
            c.on_connect = self._on_connect

        self._client = connect_client(
            self.settings,
            f"reptrack-plan-{self.sensor_id}-{uuid.uuid4().hex[:6]}",
            prepare=prepare,
            timeout_s=timeout_s,
        )

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        with self._lock:
            if self._latest is not None:  # a broker that restarted may have lost the retained copy
                self._last_info = client.publish(self.topic, self._latest, qos=1, retain=True)

    def publish(self, progress: Mapping[str, Any]) -> None:
        body = payloads.encode(payloads.plan_payload(self.sensor_id, self.session_id, progress))
        with self._lock:
            self._latest = body
            client = self._client
            if client is not None and client.is_connected():
                self._last_info = client.publish(self.topic, body, qos=1, retain=True)
                self.published += 1

    def close(self, timeout_s: float = 2.0) -> None:
        """Wait (briefly) until the broker has the latest progress, then disconnect."""
        client, self._client = self._client, None
        if client is None:
            return
        deadline = time.monotonic() + timeout_s
        info = self._last_info
        while info is not None and not info.is_published() and time.monotonic() < deadline:
            time.sleep(0.01)
        client.disconnect()
        client.loop_stop()
