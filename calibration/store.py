"""Per-device calibration files: the format, loading with clear errors, and saving safely.

One JSON file per device in the user's config directory (docs/calibration.md describes every
field)::

    <config>/calibration/<device>.json            the current calibration
    <config>/calibration/history/<id>.json        every calibration ever replaced, by id

``<config>`` is ``platformdirs.user_config_dir("reptrack")`` unless ``REPTRACK_CONFIG_DIR`` is
set. Files are written atomically (temporary file, then rename), so a crash or a failed
calibration never leaves a half-written or worse file in place of a good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from calibration.imu import (
    IDENTITY,
    AccelCalibration,
    AccelQuality,
    GyroCalibration,
    GyroQuality,
    ImuCalibration,
    Verdict,
)
from calibration.mounting import LEGS, Mounting, MountingQuality
from tracker.errors import InputFileError, UserError
from tracker.samples import Samples

FORMAT = "reptrack-calibration"
VERSION = 1
CONFIG_ENV = "REPTRACK_CONFIG_DIR"


@dataclass(frozen=True)
class DeviceCalibration:
    """Everything known about one sensor: its own errors and how it sits on the thigh.

    ``apply`` is the pipeline's ``calibration`` callable: sensor frame in, corrected samples out,
    in the thigh frame when a mounting is known (else still in the sensor's axes).
    """

    device_id: str
    imu: ImuCalibration = IDENTITY
    mounting: Mounting | None = None

    @property
    def id(self) -> str:
        """Content hash: the same numbers give the same id (recorded as ``meta.calibration_id``)."""
        blob = json.dumps(_numbers(self), sort_keys=True, separators=(",", ":")).encode()
        return "cal-" + hashlib.sha256(blob).hexdigest()[:12]

    def apply(self, samples: Samples) -> Samples:
        out = self.imu.apply(samples)
        return out if self.mounting is None else self.mounting.apply(out)

    __call__ = apply

    def with_accel(self, accel: AccelCalibration | None) -> DeviceCalibration:
        return replace(self, imu=self.imu.with_accel(accel))

    def with_gyro(self, gyro: GyroCalibration | None) -> DeviceCalibration:
        return replace(self, imu=self.imu.with_gyro(gyro))

    def with_mounting(self, mounting: Mounting | None) -> DeviceCalibration:
        return replace(self, mounting=mounting)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "device_id": self.device_id,
            "accel": None,
            "gyro": None,
            "mounting": None,
        }
        a, g, m = self.imu.accel, self.imu.gyro, self.mounting
        if a is not None:
            doc["accel"] = {
                "bias_g": _r(a.bias_g),
                "correction": _r(a.correction),
                "gyro_correction": _r(a.gyro_correction),
                "scale": _r(a.scale),
                "axis_angles_deg": _r(a.axis_angles_deg),
                "created_utc": a.created_utc,
                "quality": None if a.quality is None else a.quality.to_json(),
            }
        if g is not None:
            doc["gyro"] = {
                "bias_dps": _r(g.bias_dps),
                "created_utc": g.created_utc,
                "quality": None if g.quality is None else g.quality.to_json(),
            }
        if m is not None:
            doc["mounting"] = {
                "R_thigh_from_sensor": _r(m.R_thigh_from_sensor),
                "leg": m.leg,
                "source": m.source,
                "created_utc": m.created_utc,
                "quality": None if m.quality is None else m.quality.to_json(),
            }
        return doc


def _r(x: np.ndarray) -> list[Any]:
    return np.round(np.asarray(x, dtype=np.float64), 9).tolist()


def _numbers(cal: DeviceCalibration) -> dict[str, Any]:
    a, g, m = cal.imu.accel, cal.imu.gyro, cal.mounting
    return {
        "device_id": cal.device_id,
        "accel": None if a is None else [_r(a.bias_g), _r(a.correction), _r(a.gyro_correction)],
        "gyro": None if g is None else _r(g.bias_dps),
        "mounting": None if m is None else [_r(m.R_thigh_from_sensor), m.leg],
    }


# --- where files live -------------------------------------------------------------------------


def config_dir() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(platformdirs.user_config_dir("reptrack"))


_BLE_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}")
_SLUG_CHARS = re.compile(r"[a-z0-9._-]+")
MAX_SLUG_CHARS = 64


def device_slug(device_id: str) -> str:
    """A file name for a device id, one per id: ``AA:BB:CC:DD:EE:FF`` -> ``aa-bb-cc-dd-ee-ff``.

    A BLE address names one radio whatever its case or separator. Any other id that is not
    already a short lower-case name gets a hash of the exact id appended, so ids that differ only
    in case or punctuation (``Sensor+1``, ``sensor/1``) never share a file, and any id, however
    long or odd (``+``, 70 000 characters), names a valid file.
    """
    text = device_id.strip()
    if _BLE_ADDRESS.fullmatch(text):
        return text.lower().replace(":", "-")
    if _SLUG_CHARS.fullmatch(text) and len(text) <= MAX_SLUG_CHARS and text.strip("-.") == text:
        return text
    readable = re.sub(r"[^a-z0-9._]+", "-", text.lower()).strip("-.")[:40].strip("-.")
    digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:12]
    return f"{readable or 'device'}-{digest}"


def calibration_path(device_id: str) -> Path:
    return config_dir() / "calibration" / f"{device_slug(device_id)}.json"


def _legacy_calibration_path(device_id: str) -> Path | None:
    """Where RepTrack before 0.x kept this device's file (lower-cased, punctuation folded), if valid."""
    slug = re.sub(r"[^a-z0-9._]+", "-", device_id.strip().lower()).strip("-.")
    if not slug or len(slug) > MAX_SLUG_CHARS:
        return None
    return config_dir() / "calibration" / f"{slug}.json"


def history_dir() -> Path:
    return config_dir() / "calibration" / "history"


# --- loading ----------------------------------------------------------------------------------


class _Reader:
    """Reads fields out of the parsed JSON, naming the field in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field: str, message: str) -> InputFileError:
        return InputFileError(self.path, f"field {field!r}: {message}")

    def get(self, obj: dict[str, Any], key: str, where: str, required: bool = True) -> Any:
        if key not in obj:
            if required:
                raise self.fail(f"{where}{key}", "missing")
            return None
        return obj[key]

    def number_array(self, value: Any, shape: tuple[int, ...], field: str) -> np.ndarray:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise self.fail(field, f"expected numbers in shape {shape}, got {value!r}") from None
        if arr.shape != shape:
            raise self.fail(field, f"expected shape {list(shape)}, got {list(arr.shape)}")
        if not np.all(np.isfinite(arr)):
            raise self.fail(field, "contains a non-finite number")
        return arr

    def section(self, doc: dict[str, Any], key: str) -> dict[str, Any] | None:
        sec = doc.get(key)
        if sec is None:
            return None
        if not isinstance(sec, dict):
            raise self.fail(key, f"expected an object or null, got {type(sec).__name__}")
        return sec

    def quality(self, sec: dict[str, Any], where: str) -> dict[str, Any] | None:
        q = sec.get("quality")
        if q is None:
            return None
        if not isinstance(q, dict):
            raise self.fail(f"{where}.quality", "expected an object or null")
        return q


class _Quality:
    """Reads a ``quality`` object; the figures are informative, but a wrong type is still named."""

    def __init__(self, rd: _Reader, q: dict[str, Any], where: str) -> None:
        self.rd, self.q, self.where = rd, q, where

    def num(self, key: str) -> float:
        v = self.q.get(key)
        if v is None:
            return float("nan")
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.rd.fail(f"{self.where}.quality.{key}", f"expected a number, got {v!r}")
        return float(v)

    def integer(self, key: str) -> int:
        v = self.q.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.rd.fail(f"{self.where}.quality.{key}", f"expected an integer, got {v!r}")
        return v

    def flag(self, key: str) -> bool:
        v = self.q.get(key, False)
        if not isinstance(v, bool):
            raise self.rd.fail(f"{self.where}.quality.{key}", f"expected true or false, got {v!r}")
        return v

    def verdict(self) -> Verdict:
        v = self.q.get("verdict")
        if v not in ("good", "redo"):
            raise self.rd.fail(f"{self.where}.quality.verdict", f"expected 'good' or 'redo', got {v!r}")
        return "good" if v == "good" else "redo"

    def reasons(self) -> tuple[str, ...]:
        v = self.q.get("reasons", [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.rd.fail(f"{self.where}.quality.reasons", "expected a list of strings")
        return tuple(v)


def parse_calibration(doc: Any, path: Path, device_id: str | None = None) -> DeviceCalibration:
    """Build a :class:`DeviceCalibration` from parsed JSON; errors name the file and the field."""
    rd = _Reader(path)
    if not isinstance(doc, dict):
        raise InputFileError(path, "expected a JSON object at the top level")
    fmt = rd.get(doc, "format", "")
    if fmt != FORMAT:
        raise rd.fail("format", f"expected {FORMAT!r}, got {fmt!r}")
    version = rd.get(doc, "version", "")
    if not isinstance(version, int) or isinstance(version, bool):
        raise rd.fail("version", f"expected an integer, got {version!r}")
    if version > VERSION:
        raise rd.fail(
            "version", f"file is version {version}, this RepTrack reads up to {VERSION}: upgrade RepTrack"
        )
    if version < 1:
        raise rd.fail("version", f"expected 1..{VERSION}, got {version}")
    dev = rd.get(doc, "device_id", "")
    if not isinstance(dev, str) or not dev:
        raise rd.fail("device_id", f"expected a non-empty string, got {dev!r}")
    if device_id is not None and device_slug(dev) != device_slug(device_id):
        raise rd.fail("device_id", f"this calibration is for device {dev!r}, not for {device_id!r}")

    accel = gyro = None
    mounting = None
    if (sec := rd.section(doc, "accel")) is not None:
        bias = rd.number_array(rd.get(sec, "bias_g", "accel."), (3,), "accel.bias_g")
        corr = rd.number_array(rd.get(sec, "correction", "accel."), (3, 3), "accel.correction")
        if abs(np.linalg.det(corr)) < 1e-6:
            raise rd.fail("accel.correction", "matrix is singular")
        gcorr = np.eye(3)
        if sec.get("gyro_correction") is not None:
            gcorr = rd.number_array(sec["gyro_correction"], (3, 3), "accel.gyro_correction")
            if abs(np.linalg.det(gcorr)) < 1e-6:
                raise rd.fail("accel.gyro_correction", "matrix is singular")
        aq = None
        if (q := rd.quality(sec, "accel")) is not None:
            aq = AccelQuality(
                (qr := _Quality(rd, q, "accel")).num("residual_rms_g"),
                qr.num("residual_max_g"),
                qr.num("raw_residual_rms_g"),
                qr.integer("poses_used"),
                qr.flag("misalignment_estimated"),
                qr.verdict(),
                qr.reasons(),
                qr.flag("gyro_axes_calibrated"),
                qr.num("turn_residual_deg"),
            )
        accel = AccelCalibration(bias, corr, aq, str(sec.get("created_utc", "")), gcorr)
    if (sec := rd.section(doc, "gyro")) is not None:
        bias = rd.number_array(rd.get(sec, "bias_dps", "gyro."), (3,), "gyro.bias_dps")
        gq = None
        if (q := rd.quality(sec, "gyro")) is not None:
            gq = GyroQuality(
                (qr := _Quality(rd, q, "gyro")).num("still_s"),
                qr.integer("periods_used"),
                qr.num("gyro_noise_dps"),
                qr.num("accel_drift_deg"),
                qr.verdict(),
                qr.reasons(),
            )
        gyro = GyroCalibration(bias, gq, str(sec.get("created_utc", "")))
    if (sec := rd.section(doc, "mounting")) is not None:
        r = rd.number_array(
            rd.get(sec, "R_thigh_from_sensor", "mounting."), (3, 3), "mounting.R_thigh_from_sensor"
        )
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-4) or np.linalg.det(r) < 0:
            raise rd.fail(
                "mounting.R_thigh_from_sensor", "expected a rotation matrix (orthonormal rows, det +1)"
            )
        u, _, vt = np.linalg.svd(r)  # re-orthonormalise the rounded numbers
        r = u @ vt
        leg = sec.get("leg", "unknown")
        if leg not in LEGS:
            raise rd.fail("mounting.leg", f"expected one of {', '.join(LEGS)}, got {leg!r}")
        mq = None
        if (q := rd.quality(sec, "mounting")) is not None:
            mq = MountingQuality(
                (qr := _Quality(rd, q, "mounting")).num("standing_s"),
                qr.integer("reps_seen"),
                qr.num("max_flexion_deg"),
                qr.num("planarity"),
                qr.verdict(),
                qr.reasons(),
            )
        mounting = Mounting(r, leg, str(sec.get("source", "file")), mq, str(sec.get("created_utc", "")))
    return DeviceCalibration(dev, ImuCalibration(accel, gyro), mounting)


def load_calibration(path: str | os.PathLike[str], device_id: str | None = None) -> DeviceCalibration:
    """Read a calibration file. With ``device_id``, a file made for another device is an error."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(p, "no such calibration file") from None
    except OSError as exc:
        raise InputFileError(p, f"cannot read: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(p, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    try:
        return parse_calibration(doc, p, device_id)
    except InputFileError:
        raise
    except (TypeError, ValueError) as exc:
        raise InputFileError(p, f"invalid calibration: {exc}") from None


def calibration_for_device(device_id: str) -> DeviceCalibration | None:
    """The stored calibration of a device, or ``None`` if it was never calibrated.

    A broken file is an error (InputFileError naming the field), never silently ignored.
    """
    path = calibration_path(device_id)
    if path.exists():
        return load_calibration(path, device_id)
    legacy = _legacy_calibration_path(device_id)
    if legacy is None or legacy == path or not legacy.exists():
        return None
    cal = load_calibration(legacy)  # shared by ids that differ in case or punctuation: check whose
    return cal if cal.device_id.strip() == device_id.strip() else None


def resolve_calibration(
    device_id: str | None, override: str | os.PathLike[str] | None = None
) -> DeviceCalibration | None:
    """What ``reptrack run`` and ``replay`` apply: ``--calibration FILE`` if given, else the device's.

    ``override`` is checked against ``device_id`` when the device is known (a file made for another
    sensor is an error naming ``device_id``). ``None`` when the device was never calibrated or is
    unknown.
    """
    known = device_id if device_id and device_id != "unknown" else None
    if override is not None:
        return load_calibration(override, known)
    return None if known is None else calibration_for_device(known)


def find_calibration_by_id(cal_id: str) -> DeviceCalibration | None:
    """A calibration by its id, current or replaced (to replay a recording with what it used)."""
    base = config_dir() / "calibration"
    candidates = [history_dir() / f"{device_slug(cal_id)}.json", *sorted(base.glob("*.json"))]
    for path in candidates:
        if path.exists():
            try:
                cal = load_calibration(path)
            except InputFileError:
                continue
            if cal.id == cal_id:
                return cal
    return None


# --- saving -----------------------------------------------------------------------------------


def dumps_calibration(doc: dict[str, Any]) -> str:
    """Indented JSON with each vector and matrix row on one line, for people who open the file."""

    def one_line(m: re.Match[str]) -> str:
        return "[" + ", ".join(x.rstrip(",") for x in m.group(1).split()) + "]"

    return re.sub(r"\[\s*([-0-9.e+,\s]+?)\s*\]", one_line, json.dumps(_finite(doc), indent=2)) + "\n"


def _finite(value: Any) -> Any:
    """NaN is not JSON: figures that could not be measured are written as null."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _verdicts(cal: DeviceCalibration) -> list[str]:
    bad = []
    a, g, m = cal.imu.accel, cal.imu.gyro, cal.mounting
    if a is not None and a.quality is not None and a.quality.verdict != "good":
        bad.append("accel")
    if g is not None and g.quality is not None and g.quality.verdict != "good":
        bad.append("gyro")
    if m is not None and m.quality is not None and m.quality.verdict != "good":
        bad.append("mounting")
    return bad


def save_calibration(cal: DeviceCalibration, path: str | os.PathLike[str] | None = None) -> Path:
    """Write ``cal`` (to the device's file unless ``path`` is given) and return where it went.

    Refuses a calibration with a part whose verdict is "redo": a failed calibration never replaces a
    good one. The file it replaces is kept under ``history/`` by its id.
    """
    bad = _verdicts(cal)
    if bad:
        raise UserError(
            f"not saving: the {' and '.join(bad)} calibration failed its checks; the previous one is kept"
        )
    target = Path(path) if path is not None else calibration_path(cal.device_id)
    if target.exists():
        try:
            old = load_calibration(target)
            if old.id != cal.id:
                _atomic_write(history_dir() / f"{old.id}.json", dumps_calibration(old.to_json()))
        except InputFileError:
            # Unreadable: keep it aside anyway, the user may want to look at it.
            history_dir().mkdir(parents=True, exist_ok=True)
            os.replace(target, history_dir() / f"{target.stem}.unreadable.json")
    _atomic_write(target, dumps_calibration(cal.to_json()))
    return target
