"""A running sensor's whole state (stream decoder and pipeline) as text, for a worker's checkpoint.

A new owner that restores it continues the stream exactly where the old one stood: the same
session clock, the same set and rep numbers, the same events (the rep detector's
:class:`~tracker.pipeline.reps.RepDetectorState`, the set in progress, every filter's state), so it
replays only the packets after the checkpoint instead of the set in progress.

The format is JSON (then zlib, then base64, to sit in the retained checkpoint message): plain
values, numpy arrays as their bytes, and objects as their class name and attributes. Reading it
never runs code from the message: only classes of the decoder and the pipeline
(``ALLOWED_MODULES``) are rebuilt, without calling their constructors, and anything else is
refused with a :class:`SnapshotError` naming what was found.

A snapshot names the code that wrote it (:func:`code_id`, a digest of the modules whose objects it
holds): a worker running other code (an upgrade half rolled out) refuses it rather than rebuild
objects whose attributes may no longer match, and the new owner starts a fresh pipeline as it would
without a snapshot.
"""

from __future__ import annotations

import base64
import collections
import functools
import hashlib
import importlib
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ALLOWED_MODULES = ("tracker.protocol", "tracker.samples", "tracker.events", "tracker.pipeline.")
ALLOWED_DTYPES = ("<f8", "<i8", "|b1", "<i4", "<i2", "<u2", "<f4", "<u4", "<u8", "|u1", "|i1")
_PLAIN = (str, int, float, bool, type(None))
MAX_BYTES = 16 << 20  # a sensor's state is ~100-300 kB of JSON: a bigger one is refused unread


class SnapshotError(ValueError):
    """A snapshot that cannot be taken (an object of an unknown kind) or read (damaged, foreign)."""


@functools.cache
def code_id() -> str:
    """A digest of the source of every module whose objects a snapshot may hold."""
    root = Path(__file__).resolve().parents[1]
    files = [
        root / "protocol.py",
        root / "samples.py",
        root / "events.py",
        *sorted((root / "pipeline").glob("*.py")),
    ]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def dumps(value: Any) -> str:
    """``value`` as text (JSON, zlib, base64), marked with the code that wrote it."""
    raw = json.dumps({"code": code_id(), "state": _encode(value)}, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 1)).decode("ascii")


def loads(text: str) -> Any:
    """What :func:`dumps` wrote; :class:`SnapshotError` on anything else."""
    try:
        unpack = zlib.decompressobj()
        raw = unpack.decompress(base64.b64decode(text.encode("ascii"), validate=True), MAX_BYTES)
        if unpack.unconsumed_tail:
            raise SnapshotError(f"a snapshot that unpacks to more than {MAX_BYTES} bytes")
        body = json.loads(raw)
        if not isinstance(body, dict) or "state" not in body:
            raise SnapshotError("not a RepTrack snapshot (no state)")
        if body.get("code") != code_id():
            raise SnapshotError(
                f"a snapshot written by other code ({body.get('code')!r}, this is {code_id()!r})"
            )
        return _decode(body["state"])
    except SnapshotError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, zlib.error) as exc:
        raise SnapshotError(f"damaged snapshot: {exc}") from None


def _attributes(obj: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = dict(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                attrs[name] = getattr(obj, name)
    return attrs


def _encode(value: Any) -> Any:
    if isinstance(value, float | int | str | bool) or value is None:
        if isinstance(value, float) and value != value:
            return {"nan": 1}  # (JSON has no NaN; inf is kept as a huge-number literal below)
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return {"inf": 1 if value > 0 else -1}
        return value
    if isinstance(value, np.ndarray):
        dtype = value.dtype.str
        if dtype not in ALLOWED_DTYPES:
            raise SnapshotError(f"cannot keep an array of {dtype}")
        data = base64.b64encode(np.ascontiguousarray(value).tobytes()).decode("ascii")
        return {"nd": dtype, "shape": list(value.shape), "b": data}
    if isinstance(value, np.generic):
        return {"np": value.dtype.str, "v": _encode(value.item())}
    if isinstance(value, collections.Counter):
        return {"counter": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, collections.deque):
        return {"deque": [_encode(v) for v in value], "maxlen": value.maxlen}
    if isinstance(value, dict):
        return {"dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        if len(value) > 1 and all(isinstance(v, np.ndarray) for v in value):
            return _encode_parts(value)
        return [_encode(v) for v in value]
    cls = type(value)
    if not cls.__module__.startswith(ALLOWED_MODULES) and cls.__module__ not in ALLOWED_MODULES:
        raise SnapshotError(f"cannot keep a {cls.__module__}.{cls.__qualname__} in a snapshot")
    attrs = {name: _encode(v) for name, v in _attributes(value).items()}
    return {"obj": f"{cls.__module__}:{cls.__qualname__}", "a": attrs}


def _encode_parts(parts: list[np.ndarray]) -> Any:
    """A list of arrays (a history kept as the packets came) as one array and the parts' lengths
    along the last axis, when they agree on everything else; else one entry each."""
    head = parts[0]
    if head.ndim == 0 or any(p.dtype != head.dtype or p.shape[:-1] != head.shape[:-1] for p in parts):
        return [_encode(v) for v in parts]
    return {"parts": _encode(np.concatenate(parts, axis=-1)), "lens": [p.shape[-1] for p in parts]}


def _class(name: str) -> type:
    module_name, _, qualname = name.partition(":")
    allowed = module_name in ALLOWED_MODULES or module_name.startswith(ALLOWED_MODULES[-1])
    if not allowed or not all(part.isidentifier() for part in qualname.split(".")):
        raise SnapshotError(f"a snapshot may not hold a {name!r}")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not isinstance(obj, type) or obj.__module__ != module_name:
        raise SnapshotError(f"a snapshot may not hold a {name!r}")
    return obj


def _decode(data: Any) -> Any:
    if isinstance(data, _PLAIN):
        return data
    if isinstance(data, list):
        return [_decode(v) for v in data]
    if not isinstance(data, dict):
        raise SnapshotError(f"unexpected {type(data).__name__} in a snapshot")
    if "nd" in data:
        if data["nd"] not in ALLOWED_DTYPES:
            raise SnapshotError(f"an array of {data['nd']!r} in a snapshot")
        flat = np.frombuffer(base64.b64decode(data["b"]), dtype=np.dtype(data["nd"])).copy()
        return flat.reshape([int(n) for n in data["shape"]])
    if "obj" in data:
        cls = _class(str(data["obj"]))
        obj: Any = object.__new__(cls)  # (no constructor runs: the attributes come next)
        for name, v in data["a"].items():
            object.__setattr__(obj, str(name), _decode(v))
        return obj
    return _decode_container(data)


def _decode_container(data: dict[str, Any]) -> Any:
    if "nan" in data:
        return float("nan")
    if "inf" in data:
        return float("inf") if data["inf"] > 0 else float("-inf")
    if "np" in data:
        if data["np"] not in ALLOWED_DTYPES:
            raise SnapshotError(f"a number of {data['np']!r} in a snapshot")
        return np.dtype(data["np"]).type(_decode(data["v"]))
    if "parts" in data:
        joined = _decode(data["parts"])
        ends = np.cumsum([int(n) for n in data["lens"]])
        if not isinstance(joined, np.ndarray) or (ends.size and ends[-1] != joined.shape[-1]):
            raise SnapshotError("the parts of an array in a snapshot do not add up")
        return [part.copy() for part in np.split(joined, ends[:-1], axis=-1)]
    if "counter" in data:
        return collections.Counter({_key(k): _decode(v) for k, v in data["counter"]})
    if "deque" in data:
        return collections.deque((_decode(v) for v in data["deque"]), data.get("maxlen"))
    if "dict" in data:
        return {_key(k): _decode(v) for k, v in data["dict"]}
    if "tuple" in data:
        return tuple(_decode(v) for v in data["tuple"])
    raise SnapshotError(f"unexpected entry {sorted(data)} in a snapshot")


def _key(data: Any) -> Any:
    key = _decode(data)
    return tuple(key) if isinstance(key, list) else key
