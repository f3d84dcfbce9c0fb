"""Sinks besides MQTT: a list in memory (tests, benchmarks) and a JSON-lines file.

Both carry exactly the payloads MQTT would (tracker/mqtt/payloads.py, docs/schemas/), with the
topic leaf beside each one, so a consumer of the file reads what a subscriber would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from tracker.events import Event, WobbleEvent
from tracker.mqtt import payloads
from tracker.service.seams import Telemetry


class MemorySink:
    """Keeps every message as ``(leaf, payload)`` in :attr:`messages` (thread-safe appends)."""

    def __init__(self, sensor_id: str, session_id: str = "memory") -> None:
        self.sensor_id = sensor_id
        self.session_id = session_id
        self.state = payloads.StateTracker()
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.dropped_events = 0
        self.closed = False
        self._wobbles = 0
        self._lock = threading.Lock()

    def _put(self, leaf: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append((leaf, body))

    def publish(self, event: Event) -> None:
        self.state.apply(event)
        if isinstance(event, WobbleEvent):
            self._wobbles += 1
        message = payloads.event_message(self.sensor_id, self.session_id, event, self._wobbles)
        if message is not None:
            self._put(*message)

    def publish_state(self, pipeline_state: Mapping[str, Any] | None = None) -> None:
        if pipeline_state:
            self.state.update(pipeline_state)
        self._put("state", self.state.payload(self.sensor_id, self.session_id))

    def publish_telemetry(self, telemetry: Telemetry) -> None:
        if telemetry.battery_pct is not None:
            self.state.battery_pct = telemetry.battery_pct
        body = payloads.telemetry_payload(
            self.sensor_id, self.session_id, telemetry, dropped_events=self.dropped_events
        )
        self._put("telemetry", body)

    def close(self, timeout_s: float = 5.0) -> int:
        self.closed = True
        return 0

    def of(self, leaf: str) -> list[dict[str, Any]]:
        """The payloads published under one topic leaf (``event/rep``, ``state``, ...)."""
        with self._lock:
            return [body for topic, body in self.messages if topic == leaf]


class JsonLinesSink(MemorySink):
    """Writes each message as one JSON line ``{"sensor", "topic", "payload"}`` to ``out``."""

    def __init__(self, sensor_id: str, out: TextIO | str | Path, session_id: str = "jsonl") -> None:
        super().__init__(sensor_id, session_id)
        self._own = isinstance(out, str | Path)
        if isinstance(out, str | Path):
            self._out: TextIO = open(out, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        else:
            self._out = out

    def _put(self, leaf: str, body: dict[str, Any]) -> None:
        line = json.dumps({"sensor": self.sensor_id, "topic": leaf, "payload": payloads.clean(body)})
        with self._lock:
            self._out.write(line + "\n")

    def close(self, timeout_s: float = 5.0) -> int:
        with self._lock:
            self._out.flush()
            if self._own:
                self._out.close()
        return super().close(timeout_s)
