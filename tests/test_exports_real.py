"""Exports written by apps no one here wrote, in the layouts those apps use (docs/recording.md).

Each layout was once refused: phyphox 1.1.16's ``X (m/s^2)`` headers and its zip, MetaBase's older
``epoc (ms)`` column, and Sensor Logger's folders with ``time,seconds_elapsed,z,y,x``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from tracker.errors import InputFileError
from tracker.io.load import detect_format, load_session
from tracker.io.units import STANDARD_GRAVITY_MS2

from .test_importers_vendor import EPOCH0_MS, _accel_g, _gyro_dps


def _check(session_samples, t_abs: np.ndarray, gyro: bool = True) -> None:  # type: ignore[no-untyped-def]
    np.testing.assert_allclose(session_samples.accel_g, _accel_g(t_abs), atol=2e-4)
    if gyro:
        assert session_samples.gyro_dps is not None
        np.testing.assert_allclose(session_samples.gyro_dps, _gyro_dps(t_abs), atol=0.2)


# --- phyphox 1.1.16 -------------------------------------------------------------------------------


def _phyphox_1116(folder: Path, sep: str = ",", decimal: str = ".", hz: float = 100.0) -> None:
    """Accelerometer.csv and Gyroscope.csv as phyphox 1.1.16 exports them, plus its meta folder."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(8 * hz)) / hz
    for name, unit, values in (
        ("Accelerometer.csv", "m/s^2", _accel_g(t) * STANDARD_GRAVITY_MS2),
        ("Gyroscope.csv", "rad/s", np.radians(_gyro_dps(t))),
    ):
        header = sep.join(f'"{n}"' for n in ["Time (s)", f"X ({unit})", f"Y ({unit})", f"Z ({unit})"])
        rows = [
            sep.join(f"{x:.9E}".replace(".", decimal) for x in [ts, *row])
            for ts, row in zip(t, values, strict=True)
        ]
        (folder / name).write_text(header + "\n" + "\n".join(rows) + "\n")
    meta = folder / "meta"
    meta.mkdir(exist_ok=True)
    (meta / "device.csv").write_text('"property","value"\n"deviceModel","Pixel 7"\n')
    (meta / "time.csv").write_text(
        '"event","experiment time","system time","system time text"\n"START",0,1700000000.0,"x"\n'
    )


@pytest.mark.parametrize("sep, decimal", [(",", "."), (";", ",")])
def test_phyphox_1116_folder_with_unit_only_headers(tmp_path: Path, sep: str, decimal: str) -> None:
    folder = tmp_path / "Acceleration with g 2025-01-01"
    _phyphox_1116(folder, sep, decimal)
    for source in (folder, folder / "Accelerometer.csv", folder / "Gyroscope.csv"):
        session = load_session(source)
        _check(session.samples, session.samples.t_s)
        assert session.meta.rate_hz == pytest.approx(100.0)


def _zip(folder: Path, out: Path, inner: str = "") -> Path:
    with zipfile.ZipFile(out, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, f"{inner}{p.relative_to(folder)}")
    return out


@pytest.mark.parametrize("inner", ["", "Acceleration with g/"])
def test_the_phyphox_zip_export_loads_as_it_is(tmp_path: Path, inner: str) -> None:
    folder = tmp_path / "export"
    _phyphox_1116(folder)
    archive = _zip(folder, tmp_path / "Acceleration with g 2025-01-01 12-00-00.zip", inner)
    session = load_session(archive)
    _check(session.samples, session.samples.t_s)
    assert session.source == str(archive)


def test_a_broken_file_inside_a_zip_is_named_by_zip_and_member(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    _phyphox_1116(folder)
    text = (folder / "Accelerometer.csv").read_text().splitlines()
    cells = text[3].split(",")
    text[3] = ",".join([cells[0], "1.2.3", *cells[2:]])
    (folder / "Accelerometer.csv").write_text("\n".join(text) + "\n")
    archive = _zip(folder, tmp_path / "export.zip")
    with pytest.raises(InputFileError) as err:
        load_session(archive)
    assert str(err.value).startswith(
        f"{archive}: Accelerometer.csv, line 4, column 'X (m/s^2)': expected a number"
    )
    (tmp_path / "junk.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputFileError, match="cannot unpack the zip file"):
        load_session(tmp_path / "junk.zip")


# --- MetaMotion / MetaBase: older exports -----------------------------------------------------------


def test_older_metamotion_exports_with_epoc_ms(tmp_path: Path) -> None:
    prefix = "MetaWear_2018-03-05T10.01.02.003_D5AB9C1E2F30"
    for kind, unit, fn, hz in (
        ("Accelerometer", "g", _accel_g, 100.0),
        ("Gyroscope", "deg/s", _gyro_dps, 100.0),
    ):
        epochs = EPOCH0_MS + np.round(np.arange(int(8 * hz)) * 1000.0 / hz).astype(np.int64)
        t = (epochs - EPOCH0_MS) / 1000.0
        lines = [f"epoc (ms),timestamp (-05:00),elapsed (s),x-axis ({unit}),y-axis ({unit}),z-axis ({unit})"]
        lines += [
            f"{e},2018-03-05T10:01:02.003,{ts:.3f},{r[0]:.5f},{r[1]:.5f},{r[2]:.5f}"
            for e, ts, r in zip(epochs, t, fn(t), strict=True)
        ]
        (tmp_path / f"{prefix}_{kind}.csv").write_text("\n".join(lines) + "\n")
    accel_file = tmp_path / f"{prefix}_Accelerometer.csv"
    assert detect_format(accel_file) == detect_format(tmp_path) == "metamotion"
    session = load_session(accel_file)
    _check(session.samples, session.samples.t_s)
    assert session.meta.device_id == "D5:AB:9C:1E:2F:30"


# --- Sensor Logger ---------------------------------------------------------------------------------


def _sensor_logger(folder: Path, files: tuple[str, ...], hz: float = 100.0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(8 * hz)) / hz
    gravity = _accel_g(t) * STANDARD_GRAVITY_MS2
    table = {
        "TotalAcceleration": gravity,
        "Gravity": gravity,  # the sample motion is pure rotation: all of it is gravity
        "Accelerometer": np.zeros_like(gravity),
        "Gyroscope": np.radians(_gyro_dps(t)),
    }
    start_ns = 1_700_000_000_123_456_789
    for name in files:
        xyz = table[name]
        rows = [
            f"{start_ns + round(ts * 1e9)},{ts!r},{z!r},{y!r},{x!r}"
            for ts, (x, y, z) in zip(t.tolist(), xyz.tolist(), strict=True)
        ]
        (folder / f"{name}.csv").write_text("time,seconds_elapsed,z,y,x\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize(
    "files",
    [
        ("Accelerometer", "Gravity", "Gyroscope", "TotalAcceleration"),
        ("Accelerometer", "Gravity", "Gyroscope"),
        ("TotalAcceleration",),
    ],
)
def test_sensor_logger_folders_load(tmp_path: Path, files: tuple[str, ...]) -> None:
    folder = tmp_path / "2025-01-01_12-00-00"
    _sensor_logger(folder, files)
    with_gyro = "Gyroscope" in files
    for source in (folder, folder / f"{files[0]}.csv"):
        assert detect_format(source) == "sensorlogger"
        session = load_session(source)
        _check(session.samples, session.samples.t_s, gyro=with_gyro)
        assert session.meta.start_time.startswith("2023-11-14T22:13:20.123")
    zipped = load_session(_zip(folder, tmp_path / "sensorlogger.zip"))
    _check(zipped.samples, zipped.samples.t_s, gyro=with_gyro)


def test_sensor_logger_acceleration_without_gravity_says_what_to_export(tmp_path: Path) -> None:
    _sensor_logger(tmp_path, ("Accelerometer", "Gyroscope"))
    with pytest.raises(InputFileError, match="turn on TotalAcceleration"):
        load_session(tmp_path)


def test_convert_takes_a_zip_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tracker.cli import main

    folder = tmp_path / "export"
    _phyphox_1116(folder)
    archive = _zip(folder, tmp_path / "export.zip")
    assert main(["convert", str(archive), str(tmp_path / "out.csv")]) == 0
    assert "from zip" in capsys.readouterr().out
    _check(load_session(tmp_path / "out.csv").samples, load_session(tmp_path / "out.csv").samples.t_s)
