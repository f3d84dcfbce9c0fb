"""Generic CSV import/export: real recordings, exact round trips, units, and clear errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.paths import CMU_THIGH_DIR
from tracker.errors import InputFileError
from tracker.io import Session, export_csv, load_session
from tracker.io.native import RecordingWriter
from tracker.io.session import RecordingMeta
from tracker.samples import Samples

CMU = CMU_THIGH_DIR
needs_cmu = pytest.mark.skipif(not CMU.is_dir(), reason=f"real recordings not found at {CMU}")


@needs_cmu
def test_all_cmu_thigh_recordings_import() -> None:
    files = sorted(CMU.glob("*.csv"))
    assert len(files) == 10
    for f in files:
        session = load_session(f)
        s = session.samples
        rows = sum(1 for line in f.read_text().splitlines()[2:] if line.strip())
        assert len(s) == rows, f.name
        assert s.has_gyro and s.t_s[0] == 0.0
        assert session.meta.rate_hz == pytest.approx(100.0)
        assert session.meta.source.startswith("CMU-MBL")
        assert np.median(np.linalg.norm(s.accel_g, axis=1)) == pytest.approx(1.0, abs=0.05)
        assert session.warnings == []


def _write_csv(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


def _still_and_squat(n: int = 600, rate: float = 100.0) -> Samples:
    """A thigh standing still, then flexing to 80 deg and back, in g and deg/s."""
    t = np.arange(n) / rate
    pitch = np.where(t < 2.0, 0.0, 40.0 * (1 - np.cos(2 * np.pi * (t - 2.0) / 4.0)))
    rad = np.radians(pitch)
    accel = np.column_stack([np.sin(rad), np.zeros(n), np.cos(rad)])
    gyro = np.column_stack([np.zeros(n), -np.gradient(pitch, t), np.zeros(n)])
    return Samples.from_arrays(t, accel, gyro)


def _samples_csv(path: Path, s: Samples, accel_scale: float = 1.0, gyro_scale: float = 1.0) -> Path:
    lines = ["t,ax,ay,az,gx,gy,gz"]
    assert s.gyro_dps is not None
    for t, a, g in zip(s.t_s, s.accel_g * accel_scale, s.gyro_dps * gyro_scale, strict=True):
        lines.append(",".join(repr(float(v)) for v in (t, *a, *g)))
    return _write_csv(path, "\n".join(lines) + "\n")


def test_metadata_lines_fill_the_meta(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "m.csv",
        "# free text comment\n# device_id: C8:D1:C6\n# rate_hz: 50\n# sensor_leg: Left\n# coach: Ana\n"
        "t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n",
    )
    session = load_session(path)
    assert session.meta.device_id == "C8:D1:C6"
    assert session.meta.rate_hz == 50.0
    assert session.meta.sensor_leg == "left"
    assert session.meta.extra == {"coach": "Ana"}
    assert session.samples.gyro_dps is None


def test_unknown_columns_are_ignored_with_a_warning(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "u.csv", "t,label,ax,ay,az\n0,stand,0,0,1\n0.01,squat,0.1,0,1\n")
    session = load_session(path)
    np.testing.assert_array_equal(session.samples.accel_g, [[0, 0, 1], [0.1, 0, 1]])
    assert session.warnings == ["line 1: ignored unknown columns 'label'"]


def test_time_is_shifted_to_start_at_zero(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "t.csv", "t,ax,ay,az\n100.5,0,0,1\n100.51,0,0,1\n")
    session = load_session(path)
    assert session.samples.t_s[0] == 0.0
    assert session.meta.extra["time_offset_s"] == "100.5"


@pytest.mark.parametrize(
    ("body", "line", "column", "what"),
    [
        ("t,ax,ay\n0,0,0\n", 1, "az", "missing column 'az'"),
        ("# c\nt,ax,ay,az,gx,gy\n0,0,0,1,0,0\n", 2, "gz", "missing column 'gz'"),
        (
            "t,ax,ay,az,gx,gy,gz\n0,0,0,1,0,0,0\n0.01,0,0,1,0,abc,0\n",
            3,
            "gy",
            "expected a number, found 'abc'",
        ),
        ("t,ax,ay,az\n0,0,0,1\n0.01,0,0\n", 3, "az", "expected 4 values"),
        ("t,ax,ay,az\n0,0,0,1\n0.01,0,nan,1\n", 3, "ay", "expected a finite number"),
        ("t,ax,ay,az\n0,0,0,1\n0.02,0,0,1\n0.01,0,0,1\n", 4, "t", "is not after the previous row"),
        ("t,ax,ay,az\n0,0,0,1\n0,0,0,1\n", 3, "t", "time must increase"),
        ("t,ax,t,az\n", 1, "t", "appears twice"),
    ],
)
def test_errors_name_file_line_and_column(
    tmp_path: Path, body: str, line: int, column: str, what: str
) -> None:
    path = _write_csv(tmp_path / "bad.csv", body)
    with pytest.raises(InputFileError) as info:
        load_session(path)
    text = str(info.value)
    assert text.startswith(f"{path}, line {line}, column '{column}': ")
    assert what in text


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"missing\.csv: no such file"):
        load_session(tmp_path / "missing.csv")
    empty = _write_csv(tmp_path / "empty.csv", "")
    with pytest.raises(InputFileError, match=r"empty\.csv: the file is empty"):
        load_session(empty)
    only_header = _write_csv(tmp_path / "h.csv", "# x: 1\nt,ax,ay,az\n")
    with pytest.raises(InputFileError, match=r"h.csv, line 2: no data rows"):
        load_session(only_header)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"# caf\xe9\nt,ax,ay,az\n")
    with pytest.raises(InputFileError, match=r"latin.csv, line 1: not UTF-8 text \(byte 5\)"):
        load_session(latin)
    semi = _write_csv(tmp_path / "semi.csv", "t;ax;ay;az\n0;0;0;1\n")
    with pytest.raises(InputFileError, match="separated by commas"):
        load_session(semi)


def test_accel_in_m_s2_is_detected_and_read_with_the_option(tmp_path: Path) -> None:
    s = _still_and_squat()
    path = _samples_csv(tmp_path / "ms2.csv", s, accel_scale=9.80665)
    with pytest.raises(InputFileError) as info:
        load_session(path)
    assert str(path) in str(info.value) and "--accel-unit m/s2" in str(info.value)
    loaded = load_session(path, accel_unit="m/s2")
    np.testing.assert_allclose(loaded.samples.accel_g, s.accel_g, atol=1e-12)


def test_gravity_free_acceleration_is_refused(tmp_path: Path) -> None:
    s = _still_and_squat()
    path = _samples_csv(tmp_path / "lin.csv", Samples(s.t_s, s.accel_g - [0, 0, 1], s.gyro_dps))
    with pytest.raises(InputFileError, match="gravity was removed"):
        load_session(path)


def test_gyro_in_rad_s_is_detected_and_read_with_the_option(tmp_path: Path) -> None:
    s = _still_and_squat()
    path = _samples_csv(tmp_path / "rad.csv", s, gyro_scale=math.pi / 180)
    with pytest.raises(InputFileError) as info:
        load_session(path)
    assert str(path) in str(info.value) and "--gyro-unit rad/s" in str(info.value)
    loaded = load_session(path, gyro_unit="rad/s")
    assert loaded.samples.gyro_dps is not None and s.gyro_dps is not None
    np.testing.assert_allclose(loaded.samples.gyro_dps, s.gyro_dps, atol=1e-9)
    # and the other way round: deg/s data declared as rad/s
    plain = _samples_csv(tmp_path / "deg.csv", s)
    with pytest.raises(InputFileError, match="--gyro-unit deg/s"):
        load_session(plain, gyro_unit="rad/s")


@needs_cmu
def test_real_gyro_given_in_rad_s_is_caught() -> None:
    from tracker.io.units import check_sample_units

    for f in sorted(CMU.glob("*.csv")):
        s = load_session(f).samples
        assert s.gyro_dps is not None
        with pytest.raises(InputFileError, match="looks like rad/s"):
            check_sample_units(Samples(s.t_s, s.accel_g, np.radians(s.gyro_dps)), f)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.tuples(*[finite] * 6), min_size=1, max_size=30),
    steps=st.lists(st.floats(min_value=1e-6, max_value=10.0), min_size=30, max_size=30),
    with_gyro=st.booleans(),
)
def test_csv_to_native_to_csv_is_identical(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[tuple[float, ...]],
    steps: list[float],
    with_gyro: bool,
) -> None:
    d = tmp_path_factory.mktemp("rt")
    n = len(values)
    t = np.concatenate([[0.0], np.cumsum(steps[: n - 1])])
    arr = np.asarray(values, dtype=np.float64)
    original = Session(
        "x",
        RecordingMeta(
            device_id="dev", rate_hz=100.0, start_time="2026-01-02T03:04:05+00:00", extra={"coach": "Ana"}
        ),
        Samples.from_arrays(t, arr[:, :3], arr[:, 3:] if with_gyro else None),
        notes=[{"kind": "calibration", "t_s": 0.0, "id": "c1"}],
    )
    export_csv(original, d / "a.csv")
    first = load_session(d / "a.csv", check_units=False)
    with RecordingWriter.create(d / "b.rtrk", first.meta) as w:
        w.write_samples(first.samples)
        for note in first.notes:
            w.write_note_dict(note)
    native = load_session(d / "b.rtrk")
    export_csv(native, d / "c.csv")
    again = load_session(d / "c.csv", check_units=False)
    for s in (first.samples, native.samples, again.samples):
        np.testing.assert_array_equal(s.t_s, original.samples.t_s)
        np.testing.assert_array_equal(s.accel_g, original.samples.accel_g)
        assert (s.gyro_dps is None) == (not with_gyro)
        if with_gyro:
            np.testing.assert_array_equal(s.gyro_dps, original.samples.gyro_dps)
    assert (d / "a.csv").read_text() == (d / "c.csv").read_text()
    assert again.notes == original.notes
    assert again.meta.device_id == "dev" and again.meta.extra["coach"] == "Ana"


csv_alphabet = st.sampled_from([*"0123456789.,-+eE#: \ttaxyzgnif\n\r", "\ufeff", "é", "\x00"])


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(
        ["", "t,ax,ay,az\n", "t,ax,ay,az,gx,gy,gz\n", "# rate_hz: x\nt,ax,ay,az\n0,0,0,1\n"]
    ),
    body=st.text(alphabet=csv_alphabet, max_size=200)
    | st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    raw=st.booleans(),
)
def test_garbage_csv_only_raises_input_file_error(
    tmp_path_factory: pytest.TempPathFactory, prefix: str, body: str, raw: bool
) -> None:
    path = tmp_path_factory.mktemp("junk") / "g.csv"
    data = (prefix + body).encode("latin-1" if raw else "utf-8", errors="replace")
    path.write_bytes(data)
    try:
        session = load_session(path)
    except InputFileError as exc:
        assert str(exc).startswith(str(path))
    else:  # a CSV with data, or (bytes that start with the native magic) a damaged recording
        assert len(session.samples) >= 1 or session.warnings
        assert np.all(np.diff(session.samples.t_s) > 0)
