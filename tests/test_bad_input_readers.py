"""Readers under bad input: each case here once printed a traceback instead of one line.

Fuzzers run every reader with a small, fixed budget (derandomized: CI never goes red by chance);
the crashers they found are kept below as explicit regression inputs.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibration.store import calibration_path, device_slug
from tracker import protocol as p
from tracker.cli import main
from tracker.errors import InputFileError
from tracker.io.load import load_session
from tracker.io.native import REC_HEADER, REC_NOTE, RecordingWriter, _frame
from tracker.io.session import RecordingMeta

from .conftest import SHARED_DATA_DIR

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DEEP = "[" * 100_000 + "]" * 100_000


def _recording(path: Path, device_id: str = "sensor-1", seconds: float = 3.0) -> Path:
    n = round(seconds * 10)
    acc = np.tile(np.array([0, 0, 4096], np.int16), (10, 1))
    packets = [p.encode_packet(i, i * 100_000, 10_000, acc, acc) for i in range(n)]
    with RecordingWriter.create(path, RecordingMeta(device_id=device_id, rate_hz=100.0)) as w:
        w.write_packets(packets)
    return path


def _replay(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["replay", *argv])
    return code, out.getvalue(), err.getvalue()


# --- deeply nested JSON -----------------------------------------------------------------------


def test_deeply_nested_json_in_a_header_record_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "deep.rtrk"
    raw = bytearray(_recording(path).read_bytes())
    header_json = b'{"device_id":"x","extra":' + DEEP.encode() + b"}"
    head = raw[:12]  # magic and format version, then the header record we replace
    rest_at = 12 + 8 + int.from_bytes(raw[16:20], "little") + 4
    path.write_bytes(bytes(head) + _frame(REC_HEADER, header_json) + bytes(raw[rest_at:]))
    session = load_session(path)
    assert len(session.samples) == 300
    assert any("nested more than" in w for w in session.warnings), session.warnings


def test_deeply_nested_json_in_a_note_record_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = _recording(tmp_path / "deep-note.rtrk")
    data = path.read_bytes()
    path.write_bytes(data + _frame(REC_NOTE, DEEP.encode()))
    session = load_session(path)
    assert any("note record is not valid JSON" in w and "nested" in w for w in session.warnings)


def test_deeply_nested_json_in_a_csv_note_line_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "deep.csv"
    rows = "\n".join(f"{i / 100},0,0,1" for i in range(300))
    path.write_text(f'# note: {DEEP}\n# note: {{"kind": "ok"}}\nt,ax,ay,az\n{rows}\n')
    session = load_session(path)
    assert session.notes == [{"kind": "ok"}]
    assert any(w.startswith("line 1: note is not valid JSON") for w in session.warnings)


# --- the unit check ---------------------------------------------------------------------------


def _tilting(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pitch = np.radians(60.0) * np.sin(np.pi * t / 3.0) ** 2
    accel = np.column_stack([np.sin(pitch), np.zeros_like(t), np.cos(pitch)])
    rate = np.gradient(np.degrees(pitch), t)
    return accel, np.column_stack([np.zeros_like(t), rate, np.zeros_like(t)])


def test_gyroscope_values_near_the_float_maximum_do_not_crash_the_unit_check(tmp_path: Path) -> None:
    t = np.arange(1000) / 100.0
    accel, _ = _tilting(t)
    rows = [f"{a},{x},{y},{z},1.7e308,-1.7e308,1.7e308" for a, (x, y, z) in zip(t, accel, strict=True)]
    path = tmp_path / "huge.csv"
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    load_session(path)  # nothing to judge the gyro unit by: loads (the pipeline drops such samples)
    code, _, err = _replay(str(path))
    assert code == 0 and "Traceback" not in err


def test_a_unit_mismatch_seen_in_few_calm_steps_is_a_warning_not_a_refusal(tmp_path: Path) -> None:
    t = np.arange(80) / 100.0  # the start of one slow tilt: too few calm steps to be sure
    accel, gyro = _tilting(t)
    gyro = np.radians(gyro)  # rad/s values in a file read as deg/s
    rows = [
        ",".join(map(repr, [float(a), *acc.tolist(), *gyr.tolist()]))
        for a, acc, gyr in zip(t, accel, gyro, strict=True)
    ]
    path = tmp_path / "short.csv"
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    session = load_session(path)
    assert any("it looks like rad/s" in w and "calm tilting steps" in w for w in session.warnings)
    long_t = np.arange(6000) / 100.0  # a minute of it: clear, refused with the option to use
    accel, gyro = _tilting(long_t)
    rows = [
        ",".join(map(repr, [float(a), *acc.tolist(), *gyr.tolist()]))
        for a, acc, gyr in zip(long_t, accel, np.radians(gyro), strict=True)
    ]
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputFileError, match="--gyro-unit rad/s"):
        load_session(path)


@pytest.mark.skipif(not SHARED_DATA_DIR.is_dir(), reason=f"no shared recordings at {SHARED_DATA_DIR}")
def test_every_shared_real_recording_loads_with_the_unit_check() -> None:
    files = sorted(SHARED_DATA_DIR.glob("*/*.csv"))
    assert len(files) >= 30
    for path in files:
        session = load_session(path)
        assert len(session.samples) > 100, path


# --- device ids ---------------------------------------------------------------------------------


def test_device_ids_name_one_calibration_file_each_and_any_id_names_a_valid_file() -> None:
    ids = ["Sensor+1", "sensor/1", "SENSOR-1", "sensor-1", "sensor 1", "+", "x" * 70_000, ".."]
    slugs = [device_slug(i) for i in ids]
    assert len(set(slugs)) == len(ids), slugs
    assert device_slug("sensor-1") == "sensor-1"
    assert device_slug("AA:BB:CC:DD:EE:FF") == device_slug("aa-bb-cc-dd-ee-ff") == "aa-bb-cc-dd-ee-ff"
    for slug in slugs:
        assert 0 < len(slug) <= 64 and "/" not in slug and slug not in (".", "..")


@pytest.mark.parametrize("device_id", ["x" * 70_000, "+", "a/b", "#", " "])
def test_recordings_with_odd_device_ids_replay(tmp_path: Path, device_id: str) -> None:
    path = _recording(tmp_path / "odd.rtrk", device_id=device_id)
    code, out, err = _replay(str(path))
    assert code == 0, err
    assert "Traceback" not in err and "30 s" not in out
    assert calibration_path(device_id).name.endswith(".json")


# --- fuzzing every reader -----------------------------------------------------------------------

CSV_PIECES = st.sampled_from(
    [
        "t,ax,ay,az",
        "t,ax,ay,az,gx,gy,gz",
        "0,0,0,1",
        "0.01,0,0,1,0,0,0",
        "1e308,1e308,-1e308,0,1,2,3",
        "nan,inf,-inf,1",
        "# note: {}",
        "# note: [[[[",
        "# rate_hz: abc",
        "# device_id: +",
        "0.02;0;0;1",
        '"t","ax"',
        "",
        ",,,",
        "\ufeff",
        "x-axis (g)",
        "epoch (ms),elapsed (s),x-axis (g),y-axis (g),z-axis (g)",
        '"Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"',
        "time,seconds_elapsed,z,y,x",
    ]
)


def _load_quietly(path: Path) -> None:
    try:
        load_session(path)
    except InputFileError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(
    st.lists(st.one_of(CSV_PIECES, st.text(max_size=30)), max_size=12),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=40),
)
def test_fuzz_text_readers_only_raise_input_file_error(
    tmp_path: Path, lines: list[str], numbers: list[float]
) -> None:
    body = [",".join(map(repr, numbers[i : i + 4])) for i in range(0, len(numbers), 4)]
    path = tmp_path / "fuzz.csv"
    path.write_text("\n".join(lines + body) + "\n", encoding="utf-8", errors="surrogatepass")
    _load_quietly(path)


@pytest.fixture(scope="module")
def valid_recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = _recording(tmp_path_factory.mktemp("fuzz") / "base.rtrk", seconds=2.0)
    with RecordingWriter.append(path) as w:
        w.write_note("disconnect", 1.0, reason="fuzz")
    return path.read_bytes()


@FUZZ
@given(st.data())
def test_fuzz_native_reader_only_raises_input_file_error(
    tmp_path: Path, valid_recording: bytes, data: st.DataObject
) -> None:
    raw = bytearray(valid_recording)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    path = tmp_path / "fuzz.rtrk"
    path.write_bytes(bytes(raw[:cut]))
    _load_quietly(path)


@FUZZ
@given(
    st.lists(st.one_of(CSV_PIECES, st.text(max_size=20)), max_size=8),
    st.sampled_from(["phyphox", "metamotion"]),
)
def test_fuzz_vendor_folders_only_raise_input_file_error(tmp_path: Path, lines: list[str], kind: str) -> None:
    folder = tmp_path / f"fuzz-{kind}"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    text = "\n".join(lines) + "\n"
    if kind == "phyphox":
        (folder / "Accelerometer.csv").write_text('"Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"\n' + text)
        (folder / "Gyroscope.csv").write_text(text)
    elif kind == "sensorlogger":
        (folder / "TotalAcceleration.csv").write_text("time,seconds_elapsed,z,y,x\n" + text)
        (folder / "Gyroscope.csv").write_text(text)
    elif kind == "zip":
        with zipfile.ZipFile(folder / "export.zip", "w") as z:
            z.writestr("Accelerometer.csv", '"Time (s)","X (m/s^2)","Y (m/s^2)","Z (m/s^2)"\n' + text)
            z.writestr("meta/device.csv", text)
        _load_quietly(folder / "export.zip")
        (folder / "export.zip").write_bytes(b"PK\x03\x04" + text.encode("utf-8", errors="surrogatepass"))
        _load_quietly(folder / "export.zip")
        return
    else:
        head = "epoch (ms),elapsed (s),x-axis (g),y-axis (g),z-axis (g)\n"
        (folder / "D1_Accelerometer.csv").write_text(head + text)
        (folder / "D1_Gyroscope.csv").write_text(head.replace("(g)", "(deg/s)") + text)
    _load_quietly(folder)
    assert os.listdir(folder)
