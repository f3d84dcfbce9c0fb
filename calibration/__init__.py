"""Sensor errors and mounting, estimated and stored per device (docs/calibration.md).

The tracker uses a :class:`DeviceCalibration` as the pipeline's ``calibration`` callable::

    cal = calibration_for_device(device_id)      # or load_calibration(path)
    thigh_samples = cal.apply(sensor_samples)    # corrected, and in the thigh frame with a mounting

``fit_accelerometer`` is imported on first use: it needs ``scipy.optimize`` (about 0.8 s of CPU),
which replaying a recording with a stored calibration does not.
"""

from typing import TYPE_CHECKING, Any

from calibration.gyro import fit_gyro_bias
from calibration.imu import AccelCalibration, GyroCalibration, ImuCalibration
from calibration.mounting import LiveMountingEstimator, Mounting, estimate_mounting
from calibration.stillness import (
    StillDetector,
    StillnessThresholds,
    StillPeriod,
    detect_still_periods,
    group_poses,
)
from calibration.store import (
    DeviceCalibration,
    calibration_for_device,
    calibration_path,
    config_dir,
    find_calibration_by_id,
    load_calibration,
    resolve_calibration,
    save_calibration,
)

if TYPE_CHECKING:
    from calibration.accel import fit_accelerometer


def __getattr__(name: str) -> Any:
    if name == "fit_accelerometer":
        from calibration.accel import fit_accelerometer

        return fit_accelerometer
    raise AttributeError(f"module 'calibration' has no attribute {name!r}")


__all__ = [
    "AccelCalibration",
    "DeviceCalibration",
    "GyroCalibration",
    "ImuCalibration",
    "LiveMountingEstimator",
    "Mounting",
    "StillDetector",
    "StillPeriod",
    "StillnessThresholds",
    "calibration_for_device",
    "calibration_path",
    "config_dir",
    "detect_still_periods",
    "estimate_mounting",
    "find_calibration_by_id",
    "fit_accelerometer",
    "fit_gyro_bias",
    "group_poses",
    "load_calibration",
    "resolve_calibration",
    "save_calibration",
]
