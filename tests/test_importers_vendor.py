"""MetaMotion/MetaBase and phyphox exports: pairing, units, resampling, clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.errors import InputFileError
from tracker.io.load import load_session
from tracker.io.units import STANDARD_GRAVITY_MS2

EPOCH0_MS = 1_547_219_408_270  # 2019-01-11T15:10:08.270Z


def _pitch(t: np.ndarray) -> np.ndarray:
    """Thigh angle in degrees: 2 s standing, then squats of 4 s."""
    return np.where(t < 2.0, 0.0, 40.0 * (1 - np.cos(2 * np.pi * (t - 2.0) / 4.0)))


def _accel_g(t: np.ndarray) -> np.ndarray:
    rad = np.radians(_pitch(t))
    return np.column_stack([np.sin(rad), np.zeros_like(t), np.cos(rad)])


def _gyro_dps(t: np.ndarray) -> np.ndarray:
    rate = np.where(t < 2.0, 0.0, 40.0 * 2 * np.pi / 4.0 * np.sin(2 * np.pi * (t - 2.0) / 4.0))
    return np.column_stack([np.zeros_like(t), -rate, np.zeros_like(t)])


def _metawear(
    folder: Path,
    *,
    acc_hz: float = 100.0,
    gyr_hz: float = 50.0,
    gyr_offset_ms: int = 3,
    seconds: float = 8.0,
    prefix: str = "MetaWear_2019-01-11T16.10.08.270_C42732BE255C",
) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    acc = folder / f"{prefix}_Accelerometer_{acc_hz:.3f}Hz_1.4.4.csv"
    gyr = folder / f"{prefix}_Gyroscope_{gyr_hz:.3f}Hz_1.4.4.csv"
    for path, hz, unit, fn, offset in (
        (acc, acc_hz, "g", _accel_g, 0),
        (gyr, gyr_hz, "deg/s", _gyro_dps, gyr_offset_ms),
    ):
        epochs = EPOCH0_MS + offset + np.round(np.arange(int(seconds * hz)) * 1000.0 / hz).astype(np.int64)
        t = (epochs - EPOCH0_MS) / 1000.0
        v = fn(t)
        lines = [f"epoch (ms),time (01:00),elapsed (s),x-axis ({unit}),y-axis ({unit}),z-axis ({unit})"]
        for e, ts, row in zip(epochs, t, v, strict=True):
            lines.append(f"{e},2019-01-11T16:10:08.270,{ts:.3f},{row[0]:.4f},{row[1]:.4f},{row[2]:.4f}")
        path.write_text("\n".join(lines) + "\n")
    return acc, gyr


def test_metamotion_pair_from_either_file_or_the_folder(tmp_path: Path) -> None:
    acc, gyr = _metawear(tmp_path / "export")
    results = [load_session(p) for p in (acc, gyr, tmp_path / "export")]
    for session in results:
        s = session.samples
        assert s.gyro_dps is not None
        assert session.meta.device_id == "C4:27:32:BE:25:5C"
        assert session.meta.firmware == "1.4.4" and session.meta.rate_hz == 100.0
        # the gyro starts 3 ms after the accelerometer, so the first accelerometer sample is dropped
        assert session.meta.start_time == "2019-01-11T15:10:08.280+00:00"
        t_abs = s.t_s + 0.010
        np.testing.assert_allclose(s.accel_g, _accel_g(t_abs), atol=2e-4)
        # gyro at 50 Hz, 3 ms late, linearly interpolated onto the accelerometer's 100 Hz times
        np.testing.assert_allclose(s.gyro_dps, _gyro_dps(t_abs), atol=1.5)
        assert t_abs[-1] <= (8.0 - 1 / 50.0) + 0.003 + 1e-9  # nothing beyond the gyro's last sample
        assert any("resampled" in w for w in session.warnings)
    np.testing.assert_array_equal(results[0].samples.t_s, results[2].samples.t_s)


def test_metamotion_same_clock_needs_no_resampling(tmp_path: Path) -> None:
    acc, _ = _metawear(tmp_path, gyr_hz=100.0, gyr_offset_ms=0)
    session = load_session(acc)
    assert not any("resampled" in w for w in session.warnings)
    assert len(session.samples) == 800


def test_metamotion_accelerometer_alone_and_gyro_alone(tmp_path: Path) -> None:
    acc, gyr = _metawear(tmp_path)
    gyr.unlink()
    session = load_session(acc)
    assert session.samples.gyro_dps is None
    assert any("accelerometer only" in w for w in session.warnings)
    acc2, gyr2 = _metawear(tmp_path / "g", prefix="MetaWear_2020-01-01T00.00.00.000_AABBCCDDEEFF")
    acc2.unlink()
    with pytest.raises(InputFileError, match="needs the accelerometer"):
        load_session(gyr2)


def test_metamotion_folder_with_two_recordings_asks_for_one(tmp_path: Path) -> None:
    _metawear(tmp_path)
    _metawear(tmp_path, prefix="MetaWear_2019-01-12T10.00.00.000_C42732BE255C")
    with pytest.raises(InputFileError, match="2 accelerometer recordings"):
        load_session(tmp_path)


def test_metamotion_bad_cell_names_line_and_column(tmp_path: Path) -> None:
    acc, _ = _metawear(tmp_path)
    lines = acc.read_text().splitlines()
    cells = lines[5].split(",")
    cells[4] = "oops"
    lines[5] = ",".join(cells)
    acc.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as info:
        load_session(acc)
    assert str(info.value).startswith(f"{acc}, line 6, column 'y-axis (g)': expected a number")


def _phyphox_file(
    path: Path,
    kind: str,
    hz: float,
    seconds: float = 8.0,
    offset_s: float = 0.0,
    sep: str = ",",
    decimal: str = ".",
) -> None:
    t = offset_s + np.arange(int(seconds * hz)) / hz
    if kind == "acc":
        names = ["Acceleration x (m/s^2)", "Acceleration y (m/s^2)", "Acceleration z (m/s^2)"]
        v = _accel_g(t) * STANDARD_GRAVITY_MS2
        extra = "Absolute acceleration (m/s^2)"
    elif kind == "lin":
        names = [
            "Linear Acceleration x (m/s^2)",
            "Linear Acceleration y (m/s^2)",
            "Linear Acceleration z (m/s^2)",
        ]
        v = (_accel_g(t) - [0, 0, 1]) * STANDARD_GRAVITY_MS2
        extra = "Absolute acceleration (m/s^2)"
    else:
        names = ["Gyroscope x (rad/s)", "Gyroscope y (rad/s)", "Gyroscope z (rad/s)"]
        v = np.radians(_gyro_dps(t))
        extra = "Absolute (rad/s)"
    header = sep.join(f'"{n}"' for n in ["Time (s)", *names, extra])
    rows = []
    for ts, row in zip(t, v, strict=True):
        vals = [ts, *row, float(np.linalg.norm(row))]
        rows.append(sep.join(f"{x:.9E}".replace(".", decimal) for x in vals))
    path.write_text(header + "\n" + "\n".join(rows) + "\n")


def test_phyphox_folder_pairs_accelerometer_and_gyroscope(tmp_path: Path) -> None:
    _phyphox_file(tmp_path / "Accelerometer.csv", "acc", 200.0, offset_s=0.0012)
    _phyphox_file(tmp_path / "Gyroscope.csv", "gyr", 400.0, offset_s=0.0030)
    for source in (tmp_path, tmp_path / "Accelerometer.csv"):
        session = load_session(source)
        s = session.samples
        assert s.gyro_dps is not None and s.t_s[0] == 0.0
        t_abs = s.t_s + float(session.meta.extra["time_offset_s"])
        np.testing.assert_allclose(s.accel_g, _accel_g(t_abs), atol=1e-6)
        np.testing.assert_allclose(s.gyro_dps, _gyro_dps(t_abs), atol=0.1)
        assert session.meta.rate_hz == pytest.approx(200.0)


def test_phyphox_raw_data_with_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    raw = tmp_path / "Raw Data.csv"
    _phyphox_file(raw, "acc", 100.0, sep=";", decimal=",")
    session = load_session(raw)
    assert session.samples.gyro_dps is None
    np.testing.assert_allclose(session.samples.accel_g, _accel_g(session.samples.t_s), atol=1e-6)


def test_phyphox_linear_acceleration_and_gyro_only_are_refused(tmp_path: Path) -> None:
    lin = tmp_path / "lin" / "Raw Data.csv"
    lin.parent.mkdir()
    _phyphox_file(lin, "lin", 100.0)
    with pytest.raises(InputFileError) as info:
        load_session(lin)
    assert str(info.value).startswith(f"{lin}, line 1, column 'Linear Acceleration x (m/s^2)'")
    assert "gravity" in str(info.value)
    gyr = tmp_path / "gyr" / "Raw Data.csv"
    gyr.parent.mkdir()
    _phyphox_file(gyr, "gyr", 100.0)
    with pytest.raises(InputFileError, match="only gyroscope data"):
        load_session(gyr)


def test_format_is_detected_from_content_not_name(tmp_path: Path) -> None:
    acc, _ = _metawear(tmp_path / "mm")
    renamed = tmp_path / "mm" / "session.txt"
    acc.rename(renamed)
    assert load_session(renamed).meta.device_name == "MetaMotion"
    _phyphox_file(tmp_path / "export.dat", "acc", 100.0)
    assert load_session(tmp_path / "export.dat").meta.device_name == "phyphox"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="no supported export in this folder"):
        load_session(tmp_path / "empty")


def test_phyphox_in_wrong_units_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "Accelerometer.csv"
    _phyphox_file(path, "acc", 100.0)
    text = path.read_text().replace("(m/s^2)", "(g)")  # header lies about the unit
    path.write_text(text)
    with pytest.raises(InputFileError, match=r"reads 9\.8\d g at rest"):
        load_session(path)


vendor_tokens = st.sampled_from(
    [*'0123456789.,;-+eE"\t axyzgn\n', "(g)", "(deg/s)", "(rad/s)", "nan", "1e400"]
)


@settings(max_examples=200, deadline=None)
@given(
    header=st.sampled_from(
        [
            "epoch (ms),time (01:00),elapsed (s),x-axis (g),y-axis (g),z-axis (g)\n",
            "epoch (ms),time (01:00),elapsed (s),x-axis (deg/s),y-axis (deg/s),z-axis (deg/s)\n",
            "epoch (ms),x-axis (furlong),y-axis (furlong),z-axis (furlong)\n",
            '"Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)"\n',
            '"Time (s)";"Gyroscope x (rad/s)";"Gyroscope y (rad/s)";"Gyroscope z (rad/s)"\n',
            '"Time (s)","Acceleration x (m/s^2)"\n',
        ]
    ),
    body=st.lists(vendor_tokens, max_size=150).map("".join),
)
def test_garbage_vendor_files_only_raise_input_file_error(
    tmp_path_factory: pytest.TempPathFactory, header: str, body: str
) -> None:
    path = tmp_path_factory.mktemp("v") / "Raw Data.csv"
    path.write_text(header + body)
    try:
        session = load_session(path)
    except InputFileError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert len(session.samples) >= 1
