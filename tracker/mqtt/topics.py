"""The MQTT topic tree (docs/mqtt.md, "Topics").

Everything for one sensor lives under ``<prefix>/<sensor_id>/``::

    reptrack/<sensor_id>/status        retained, QoS 1: online/offline (also the last will)
    reptrack/<sensor_id>/state         retained, QoS 1: exercise, set, reps so far, phase
    reptrack/<sensor_id>/event/rep     QoS 1: one message per completed rep
    reptrack/<sensor_id>/event/set     QoS 1: one message per finished set
    reptrack/<sensor_id>/event/wobble  QoS 1: sway well above the athlete's baseline
    reptrack/<sensor_id>/telemetry     QoS 0: battery, packet loss, sample rate
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracker.errors import UserError

DEFAULT_PREFIX = "reptrack"
LEAVES = ("status", "state", "event/rep", "event/set", "event/wobble", "telemetry")

_BAD_LEVEL = re.compile(r"[+#/\x00]")


def sensor_topic_id(name: str) -> str:
    """A sensor name or address as one topic level: ``AA:BB:CC`` -> ``AA-BB-CC``, no wildcards."""
    cleaned = _BAD_LEVEL.sub("-", name.strip()).replace(":", "-").replace(" ", "_")
    return cleaned or "sensor"


def check_prefix(prefix: str) -> str:
    """Validate a topic prefix: levels without wildcards, no leading or trailing slash."""
    p = prefix.strip().strip("/")
    if not p:
        raise UserError("MQTT topic prefix is empty; expected something like 'reptrack' or 'gym/floor1'")
    if "+" in p or "#" in p or "\x00" in p or "//" in p:
        raise UserError(f"MQTT topic prefix {prefix!r}: must not contain '+', '#' or empty levels")
    return p


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one sensor."""

    prefix: str
    sensor_id: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.sensor_id}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def telemetry(self) -> str:
        return f"{self.base}/telemetry"

    def event(self, kind: str) -> str:
        return f"{self.base}/event/{kind}"


def subscription(prefix: str) -> str:
    """The filter that matches every sensor's topics under ``prefix``."""
    return f"{prefix}/+/#"


def split_topic(prefix: str, topic: str) -> tuple[str, str] | None:
    """``reptrack/s1/event/rep`` -> ``("s1", "event/rep")``; None for topics outside the tree."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    rest = topic[len(head) :]
    sensor, _, leaf = rest.partition("/")
    if not sensor or leaf not in LEAVES:
        return None
    return sensor, leaf
