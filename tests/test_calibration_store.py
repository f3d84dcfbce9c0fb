"""Per-device calibration files: round trip, clear errors, never losing a good calibration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from calibration import (
    AccelCalibration,
    DeviceCalibration,
    GyroCalibration,
    ImuCalibration,
    Mounting,
    calibration_for_device,
    find_calibration_by_id,
    load_calibration,
    save_calibration,
)
from calibration.imu import AccelQuality
from calibration.store import calibration_path
from tracker.errors import InputFileError, UserError
from tracker.samples import Samples

DEVICE = "C0:FF:EE:12:34:56"


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REPTRACK_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def good_quality() -> AccelQuality:
    return AccelQuality(0.001, 0.002, 0.05, 12, True, "good", ())


def full_calibration(seed: int = 0) -> DeviceCalibration:
    rng = np.random.default_rng(seed)
    corr = np.eye(3) + rng.uniform(-0.03, 0.03, (3, 3))
    corr = (corr + corr.T) / 2
    accel = AccelCalibration(rng.uniform(-0.1, 0.1, 3), corr, good_quality(), "2026-11-23T20:00:00+00:00")
    gyro = GyroCalibration(rng.uniform(-5, 5, 3))
    r = Rotation.random(random_state=seed).as_matrix()
    return DeviceCalibration(DEVICE, ImuCalibration(accel, gyro), Mounting(r, "left"))


def test_round_trip_keeps_numbers_and_id() -> None:
    cal = full_calibration()
    path = save_calibration(cal)
    assert path == calibration_path(DEVICE)
    assert path.name == "c0-ff-ee-12-34-56.json"
    loaded = calibration_for_device(DEVICE.lower())
    assert loaded is not None
    assert loaded.id == cal.id
    assert loaded.mounting is not None and loaded.mounting.leg == "left"
    rng = np.random.default_rng(9)
    s = Samples.from_arrays(np.arange(50) / 100, rng.normal(size=(50, 3)), rng.normal(size=(50, 3)))
    a, b = cal.apply(s), loaded.apply(s)
    assert np.allclose(a.accel_g, b.accel_g, atol=1e-7)
    assert b.gyro_dps is not None and a.gyro_dps is not None
    assert np.allclose(a.gyro_dps, b.gyro_dps, atol=1e-7)


def test_apply_takes_sensor_readings_to_the_thigh_frame() -> None:
    r = Rotation.from_euler("xyz", [30, -50, 120], degrees=True).as_matrix()
    bias, a_err = np.array([0.05, -0.08, 0.02]), np.diag([1.04, 0.97, 1.02])
    accel = AccelCalibration(bias, np.linalg.inv(a_err), good_quality())
    gyro = GyroCalibration(np.array([3.0, -4.0, 1.0]))
    cal = DeviceCalibration(DEVICE, ImuCalibration(accel, gyro), Mounting(r, "right"))
    thigh_up, thigh_gyro = np.array([[0.0, 0.0, 1.0]]), np.array([[0.0, -20.0, 0.0]])
    sensor = Samples.from_arrays([0.0], (thigh_up @ r) @ a_err.T + bias, thigh_gyro @ r + [3.0, -4.0, 1.0])
    out = cal.apply(sensor)
    assert np.allclose(out.accel_g, thigh_up, atol=1e-9)
    assert out.gyro_dps is not None and np.allclose(out.gyro_dps, thigh_gyro, atol=1e-9)
    assert cal(sensor).accel_g.shape == (1, 3)  # usable directly as the pipeline's callable


def test_id_changes_with_content_only() -> None:
    a, b = full_calibration(1), full_calibration(1)
    assert a.id == b.id and a.id.startswith("cal-")
    assert a.with_gyro(GyroCalibration(np.array([0.0, 0.0, 0.1]))).id != a.id
    assert a.with_mounting(None).id != a.id


def test_uncalibrated_device_has_none() -> None:
    assert calibration_for_device("never-seen") is None


def test_failed_calibration_never_replaces_a_good_one() -> None:
    good = full_calibration()
    path = save_calibration(good)
    before = path.read_bytes()
    bad_q = AccelQuality(0.05, 0.09, 0.05, 7, False, "redo", ("poses disagree",))
    bad = good.with_accel(AccelCalibration(np.zeros(3), np.eye(3), bad_q))
    with pytest.raises(UserError, match="accel calibration failed"):
        save_calibration(bad)
    assert path.read_bytes() == before


def test_replaced_calibration_is_kept_in_history(config_dir: Path) -> None:
    first = full_calibration(1)
    save_calibration(first)
    second = first.with_gyro(GyroCalibration(np.array([0.1, 0.2, 0.3])))
    save_calibration(second)
    assert calibration_for_device(DEVICE).id == second.id  # type: ignore[union-attr]
    old = find_calibration_by_id(first.id)
    assert old is not None and old.id == first.id
    assert (config_dir / "calibration" / "history" / f"{first.id}.json").exists()


def test_file_for_another_device_is_an_error_naming_the_field(tmp_path: Path) -> None:
    path = save_calibration(full_calibration(), tmp_path / "cal.json")
    with pytest.raises(InputFileError, match=r"cal.json: field 'device_id': .*not for 'AA:BB'"):
        load_calibration(path, "AA:BB")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=7), r"field 'version': file is version 7"),
        (lambda d: d.update(format="other"), r"field 'format'"),
        (lambda d: d.pop("device_id"), r"field 'device_id': missing"),
        (lambda d: d["accel"].update(bias_g=[0.1, 0.2]), r"field 'accel.bias_g': expected shape \[3\]"),
        (lambda d: d["accel"].update(bias_g="x"), r"field 'accel.bias_g'"),
        (lambda d: d["gyro"].pop("bias_dps"), r"field 'gyro.bias_dps': missing"),
        (lambda d: d["mounting"].update(leg="middle"), r"field 'mounting.leg'"),
        (
            lambda d: d["mounting"].update(R_thigh_from_sensor=[[1, 0, 0], [0, 1, 0], [0, 0, -1]]),
            r"field 'mounting.R_thigh_from_sensor': expected a rotation",
        ),
        (
            lambda d: d["accel"].update(correction=[[0] * 3] * 3),
            r"field 'accel.correction': matrix is singular",
        ),
        (lambda d: d.update(mounting=[1, 2]), r"field 'mounting': expected an object"),
    ],
)
def test_broken_file_errors_name_the_field(tmp_path: Path, mutate: Any, message: str) -> None:
    doc = full_calibration().to_json()
    mutate(doc)
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputFileError, match=message):
        load_calibration(path)


def test_not_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cal.json"
    path.write_text('{\n  "format": "reptrack-calibration",\n  oops\n}')
    with pytest.raises(InputFileError, match=r"cal.json, line 3: not valid JSON"):
        load_calibration(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such calibration file"):
        load_calibration(tmp_path / "nope.json")


def test_unreadable_current_file_is_set_aside_not_lost(config_dir: Path) -> None:
    path = calibration_path(DEVICE)
    path.parent.mkdir(parents=True)
    path.write_text("garbage")
    save_calibration(full_calibration())
    assert calibration_for_device(DEVICE) is not None
    aside = config_dir / "calibration" / "history" / f"{path.stem}.unreadable.json"
    assert aside.read_text() == "garbage"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=st.sampled_from(["accel", "gyro", "mounting", None]), key=st.text(max_size=20), value=_json)
def test_any_corruption_is_an_input_file_error_or_loads(
    tmp_path: Path, section: str | None, key: str, value: Any
) -> None:
    doc = full_calibration().to_json()
    target = doc if section is None else doc[section]
    if key in target:
        target[key] = value
    else:
        target[sorted(target)[len(key) % len(target)]] = value
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc))
    try:
        cal = load_calibration(path)
    except InputFileError as exc:
        assert str(exc).startswith(f"{path}: field '")  # names the file and the field
    else:
        assert isinstance(cal, DeviceCalibration)


def test_resolve_prefers_the_override_and_checks_its_device(tmp_path: Path) -> None:
    from calibration import resolve_calibration

    stored = full_calibration(1)
    save_calibration(stored)
    other = save_calibration(full_calibration(2), tmp_path / "other.json")
    assert resolve_calibration(DEVICE).id == stored.id  # type: ignore[union-attr]
    assert resolve_calibration(DEVICE, other).id == full_calibration(2).id  # type: ignore[union-attr]
    assert resolve_calibration("unknown", other) is not None  # imported file: no device to check
    assert resolve_calibration("unknown") is None
    assert resolve_calibration("AA:AA:AA:AA:AA:AA") is None
    with pytest.raises(InputFileError, match="field 'device_id'"):
        resolve_calibration("AA:AA:AA:AA:AA:AA", other)
