"""A whole recorded session in the project's units (what every reader returns) and its metadata."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from tracker.protocol import StreamNotice
from tracker.samples import Samples

# --- Metadata ----------------------------------------------------------------------------------


@dataclass
class RecordingMeta:
    """Self-describing header of a recording: which sensor, how configured, when, from what."""

    device_id: str = "unknown"  # sensor id / BLE address
    device_name: str = ""
    firmware: str = ""
    rate_hz: float = 0.0  # nominal
    accel_range_g: float | None = None
    gyro_range_dps: float | None = None
    samples_per_packet: int | None = None
    calibration_id: str | None = None
    start_time: str = ""  # ISO 8601 UTC
    sensor_leg: str = "unknown"  # left | right | unknown
    source: str = ""  # what produced it ("firmware-sim generate --seed 3", "reptrack record", a file)
    codec: str = ""  # how its packets decode (tracker.codecs spec: "" or "reptrack", "polar-pmd ...")
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> tuple[RecordingMeta, list[str]]:
        """Build from a mapping of (possibly text) values; unknown keys go to ``extra``.

        Returns the meta and a list of problems (a value of the wrong type is kept in ``extra``
        under its key, so nothing is lost, and reported).
        """
        meta = cls()
        problems: list[str] = []
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key == "extra" and isinstance(value, dict):
                extra.update(value)
                continue
            kind = _FIELD_KINDS.get(key)
            if kind is None:
                extra[key] = value
                continue
            try:
                setattr(meta, key, _coerce(value, kind))
            except (TypeError, ValueError) as exc:
                problems.append(f"metadata {key!r}: {exc}; kept as extra")
                extra[key] = value
        meta.extra = extra
        return meta, problems


_FIELD_KINDS: dict[str, str] = {
    "device_id": "str",
    "device_name": "str",
    "firmware": "str",
    "rate_hz": "float",
    "accel_range_g": "float?",
    "gyro_range_dps": "float?",
    "samples_per_packet": "int?",
    "calibration_id": "str?",
    "start_time": "str",
    "sensor_leg": "leg",
    "source": "str",
    "codec": "str",
}


def _coerce(value: Any, kind: str) -> Any:
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if value is None or (
        optional and isinstance(value, str) and value.strip().lower() in ("", "none", "null")
    ):
        if optional:
            return None
        raise ValueError("a value is required")
    if base == "str":
        return str(value)
    if base == "leg":
        leg = str(value).strip().lower()
        if leg not in ("left", "right", "unknown"):
            raise ValueError(f"expected left, right or unknown, got {value!r}")
        return leg
    if base == "float":
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    if base == "int":
        if isinstance(value, bool):
            raise ValueError(f"expected a whole number, got {value!r}")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"expected a whole number, got {value!r}")
            return int(value)
        return int(str(value).strip())
    raise AssertionError(kind)  # pragma: no cover


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback: numpy scalars and arrays as plain numbers, anything else as text."""
    item = getattr(value, "tolist", None)
    if callable(item):
        return item()
    return str(value)


MAX_JSON_DEPTH = 32
"""Nesting allowed in a recording's header and notes; deeper is refused before Python's recursion
limit (about 1000 levels) turns it into a traceback in json or in whoever walks the value later."""


def loads_json(text: str | bytes) -> Any:
    """Parse JSON from a file's header or note; ``ValueError`` (with the reason) for invalid or
    too deeply nested text, never ``RecursionError``."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text.decode("utf-8") if isinstance(text, bytes) else text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
        elif ch in "]}":
            depth -= 1
    return json.loads(text)


def dumps_json(value: Any) -> str:
    return json.dumps(value, default=json_default, allow_nan=True, separators=(",", ":"))


@dataclass
class Session:
    """A whole recorded session, in the project's units, ready for the pipeline."""

    source: str  # the path as given
    meta: RecordingMeta
    samples: Samples  # session time from 0, sensor axes, g and deg/s
    notices: list[StreamNotice] = field(default_factory=list)  # gaps, duplicates, restarts, corrupt packets
    notes: list[dict[str, Any]] = field(default_factory=list)  # recorded notes
    warnings: list[str] = field(default_factory=list)  # e.g. "truncated after byte 1234: ..."
