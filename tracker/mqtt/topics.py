"""The MQTT topic tree (docs/mqtt.md, "Topics").

Everything for one sensor lives under ``<prefix>/<sensor_id>/``::

    reptrack/<sensor_id>/status        retained, QoS 1: online/offline (also the last will)
    reptrack/<sensor_id>/state         retained, QoS 1: exercise, set, reps so far, phase
    reptrack/<sensor_id>/event/rep     QoS 1: one message per completed rep
    reptrack/<sensor_id>/event/set     QoS 1: one message per finished set
    reptrack/<sensor_id>/event/wobble  QoS 1: sway well above the athlete's baseline
    reptrack/<sensor_id>/telemetry     QoS 0: battery, packet loss, sample rate
    reptrack/<sensor_id>/plan          retained, QoS 1: progress through a workout plan (docs/plans.md)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.errors import UserError

DEFAULT_PREFIX = "reptrack"
LEAVES = ("status", "state", "event/rep", "event/set", "event/wobble", "telemetry", "plan")

_BLE_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}")
_SAFE_LEVEL = re.compile(r"[\w.-]+")
MAX_READABLE_CHARS = 48


def sensor_topic_id(name: str) -> str:
    """A sensor name or address as one topic level, one level per sensor.

    A BLE address keeps its documented form (``AA:BB:CC:DD:EE:FF`` -> ``AA-BB-CC-DD-EE-FF``) and
    a plain name (letters, digits, ``.``, ``_``, ``-``) stays as it is. Anything else (``/``,
    ``+``, ``#``, spaces, control characters, a very long id) is folded to a readable part plus a
    hash of the exact name, so two sensors whose names differ only there never share topics
    (their event ids would clash and subscribers would drop half the reps). Applying it twice
    gives the same level.
    """
    text = name.strip()
    if _BLE_ADDRESS.fullmatch(text):
        return text.replace(":", "-")
    if _SAFE_LEVEL.fullmatch(text) and len(text) <= 2 * MAX_READABLE_CHARS:
        return text
    readable = re.sub(r"[^\w.-]+", "-", text)[:MAX_READABLE_CHARS].strip("-") or "sensor"
    digest = hashlib.sha256(name.encode("utf-8", errors="surrogatepass")).hexdigest()[:8]
    return f"{readable}-{digest}"


def check_unique_topic_ids(sensor_ids: Sequence[str]) -> None:
    """Refuse to start sensors that would publish under the same topics."""
    seen: dict[str, str] = {}
    for sensor in sensor_ids:
        level = sensor_topic_id(sensor)
        if level in seen:
            raise UserError(
                f"sensors {seen[level]!r} and {sensor!r} would both publish under the topic level "
                f"{level!r}; rename one (or run them under different --prefix values)"
            )
        seen[level] = sensor


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

    @property
    def plan(self) -> str:
        return f"{self.base}/plan"

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
