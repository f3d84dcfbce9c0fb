"""Watching the live facts under a prefix: what the dashboard, the demo and the tests read.

:class:`LiveFacts` folds every message into one :class:`SensorView` per sensor and drops
duplicate events by their ``id`` (QoS 1 delivers at least once). :class:`Watcher` is the MQTT
side: a persistent session (``clean_start`` off, QoS 1) that resubscribes after broker restarts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from tracker.mqtt.connection import MqttSettings, connect_client
from tracker.mqtt.topics import split_topic, subscription

log = logging.getLogger(__name__)


@dataclass
class SensorView:
    """Everything known about one sensor, from its latest messages."""

    sensor_id: str
    status: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    telemetry: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)  # retained plan progress (docs/plans.md)
    reps: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> rep payload, arrival order
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    wobbles: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    last_rep: dict[str, Any] | None = None
    last_wobble: dict[str, Any] | None = None
    updated_at: float = 0.0  # monotonic time of the last message

    @property
    def session(self) -> str | None:
        return self.state.get("session") or self.status.get("session")

    def session_reps(self) -> list[dict[str, Any]]:
        """Rep payloads of the current session, in arrival order, without duplicates."""
        session = self.session
        return [r for r in self.reps.values() if session is None or r.get("session") == session]

    def reps_per_set(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self.session_reps():
            counts[int(r["set_index"])] = counts.get(int(r["set_index"]), 0) + 1
        return counts


class LiveFacts:
    """Thread-safe view of every sensor under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.sensors: dict[str, SensorView] = {}
        self.messages = 0
        self.invalid = 0
        self.lock = threading.Lock()

    def handle(self, topic: str, payload: bytes) -> tuple[str, str, dict[str, Any]] | None:
        """Fold one message in; returns (sensor, leaf, payload) or None if ignored."""
        where = split_topic(self.prefix, topic)
        if where is None:
            return None
        sensor, leaf = where
        if not payload:  # a cleared retained message
            return None
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            self.invalid += 1
            log.warning("ignoring a message on %s that is not JSON", topic)
            return None
        if not isinstance(body, dict):
            self.invalid += 1
            return None
        with self.lock:
            self.messages += 1
            view = self.sensors.setdefault(sensor, SensorView(sensor))
            view.updated_at = time.monotonic()
            if leaf == "status":
                view.status = body
            elif leaf == "state":
                view.state = body
            elif leaf == "telemetry":
                view.telemetry = body
            elif leaf == "plan":
                view.plan = body
            else:
                store = {"event/rep": view.reps, "event/set": view.sets, "event/wobble": view.wobbles}[leaf]
                key = str(body.get("id"))
                if key in store:
                    view.duplicates += 1
                    return None
                store[key] = body
                if leaf == "event/rep":
                    view.last_rep = body
                elif leaf == "event/wobble":
                    view.last_wobble = body
        return sensor, leaf, body

    def snapshot(self) -> list[SensorView]:
        with self.lock:
            return [self.sensors[k] for k in sorted(self.sensors)]


class Watcher:
    """Subscribes to ``<prefix>/+/#`` and feeds :class:`LiveFacts`; survives broker restarts.

    ``on_message(sensor, leaf, payload)`` is called from paho's thread for each new fact.
    With ``persistent`` the broker keeps the session (and queues QoS 1 events) while the watcher
    is away, for brokers that persist sessions.
    """

    def __init__(
        self,
        settings: MqttSettings,
        *,
        client_id: str | None = None,
        persistent: bool = True,
        on_message: Callable[[str, str, dict[str, Any]], None] | None = None,
        on_raw: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.settings = settings
        self.facts = LiveFacts(settings.prefix)
        self.client_id = client_id or f"reptrack-watch-{uuid.uuid4().hex[:8]}"
        self.persistent = persistent
        self.on_message = on_message
        self.on_raw = on_raw
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.connects = 0
        self._client: mqtt.Client | None = None

    def start(self, timeout_s: float = 10.0) -> Watcher:
        def prepare(c: mqtt.Client) -> None:
            c.on_connect = self._on_connect
            c.on_disconnect = self._on_disconnect
            c.on_message = self._on_message
            c.on_subscribe = lambda *a: self.subscribed.set()
            # Retry every second, no longer backoff: after a broker restart the watcher must be
            # back (and subscribed) before trackers send their backlog (2 s after they reconnect).
            c.reconnect_delay_set(1, 1)

        self._client = connect_client(
            self.settings,
            self.client_id,
            clean_start=not self.persistent,
            session_expiry_s=3600 if self.persistent else 0,
            prepare=prepare,
            timeout_s=timeout_s,
        )
        if not self.subscribed.wait(timeout_s):
            log.warning("the broker did not confirm the subscription within %.0f s", timeout_s)
        return self

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connects += 1
        self.connected.set()
        # Subscribe every time: a broker without persistence forgot us when it restarted.
        client.subscribe(subscription(self.settings.prefix), qos=1)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        self.connected.clear()
        self.subscribed.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self.on_raw is not None:
            self.on_raw(msg.topic, bytes(msg.payload))
        fact = self.facts.handle(msg.topic, bytes(msg.payload))
        if fact is not None and self.on_message is not None:
            self.on_message(*fact)

    def stop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def __enter__(self) -> Watcher:
        return self.start() if self._client is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
