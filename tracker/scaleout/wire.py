"""Topics and payloads between gateways and workers (docs/mqtt.md, "Scaling out").

Gateway and worker traffic lives under its own root, ``<prefix>-pool`` (``reptrack-pool`` by
default), so dashboards subscribed to ``<prefix>/+/#`` never receive raw packets. Under
``<pool>/gw/<sensor>/``:

- ``hello``      gateway -> one worker (shared subscription), QoS 1, while the sensor has no owner:
                 ``{"sensor", "session", "gateway"}``
- ``claim``      worker -> gateway, QoS 1: ``{"worker"}``
- ``owner``      gateway, retained: ``{"worker", "session", "checkpoint"}`` (worker null: none)
- ``packets``    gateway -> owner, QoS 1, binary: one frame per BLE notification (below)
- ``checkpoint`` owner, retained: where a new owner resumes (:class:`Checkpoint`)

and ``<pool>/workers/<worker>/status``: retained ``online``/``offline``, ``offline`` being the
worker connection's last will.

A packet frame is ``u32 index`` (the gateway's count of this sensor's packets, from 0),
``f64 host_time_s`` (arrival, Unix time), then the sensor's packet as received.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass
from typing import Any

SHARE_GROUP = "reptrack-workers"
_FRAME = struct.Struct("<Id")


def pool_root(facts_prefix: str) -> str:
    """The root of the gateway/worker topics beside the live facts' ``facts_prefix``."""
    return f"{facts_prefix}-pool"


def gw_topic(prefix: str, sensor: str, leaf: str) -> str:
    return f"{prefix}/gw/{sensor}/{leaf}"


def hello_subscription(prefix: str, group: str = SHARE_GROUP) -> str:
    """The MQTT 5 shared subscription that hands each announcement to one worker of ``group``."""
    return f"$share/{group}/{prefix}/gw/+/hello"


def worker_status_topic(prefix: str, worker: str) -> str:
    return f"{prefix}/workers/{worker}/status"


def sensor_of(prefix: str, topic: str) -> tuple[str, str] | None:
    """``(sensor, leaf)`` of a ``<prefix>/gw/<sensor>/<leaf>`` topic."""
    head = f"{prefix}/gw/"
    if not topic.startswith(head):
        return None
    sensor, _, leaf = topic[len(head) :].partition("/")
    return (sensor, leaf) if sensor and leaf else None


def encode_frame(index: int, host_time_s: float, packet: bytes) -> bytes:
    return _FRAME.pack(index, host_time_s) + packet


def decode_frame(data: bytes) -> tuple[int, float, bytes]:
    """``(index, host_time_s, packet)``; ValueError naming the byte count when too short."""
    if len(data) < _FRAME.size:
        raise ValueError(f"packet frame is {len(data)} bytes, expected at least {_FRAME.size}")
    index, host = _FRAME.unpack_from(data)
    return index, host, bytes(data[_FRAME.size :])


@dataclass(frozen=True)
class Checkpoint:
    """Where a new owner picks a sensor's stream up.

    ``index``: the first packet not yet fed; ``t_s``: session time of that packet's first
    sample; the counts so far keep set numbers and event ids the same across owners.
    ``pipeline``: the stream decoder's and the pipeline's whole state there
    (tracker/scaleout/snapshot.py), so the new owner continues exactly; without it (an older
    worker, or a state that could not be kept) the new owner starts a fresh pipeline, which is
    only right after a closed set.
    """

    index: int = 0
    t_s: float = 0.0
    sets_done: int = 0
    total_reps: int = 0
    wobbles: int = 0
    pipeline: str | None = None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        if self.pipeline is None:
            del body["pipeline"]
        return body

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        if not isinstance(data, dict):
            return cls()
        return cls(
            int(data.get("index", 0)),
            float(data.get("t_s", 0.0)),
            int(data.get("sets_done", 0)),
            int(data.get("total_reps", 0)),
            int(data.get("wobbles", 0)),
            data["pipeline"] if isinstance(data.get("pipeline"), str) else None,
        )


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def loads(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return None
