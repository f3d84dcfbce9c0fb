"""MbientLab MetaWear (MetaMotion R/C/RL): the BLE command protocol for the BMI160 IMU.

Codec only (no radio): the simulated MetaWear encodes with it, the client and the recording
reader decode with it. Every byte follows MbientLab's public C++ SDK (mbientlab/MetaWear-SDK-Cpp):
src/metawear/sensor/cpp/accelerometer_bosch.cpp and accelerometer_bosch_register.h,
gyro_bosch.cpp and gyro_bosch_register.h, and the byte vectors in its test/
test_accelerometer_bmi160.py, test_gyro_bmi160.py and test_settings.py.

Every command and every answer is ``[module id, register, payload...]``, written to the command
characteristic and notified on the notify characteristic; bit 7 of the register marks a read
(and its answer). Streaming data arrives as ordinary notifications of a data register: the
packed registers carry three (x, y, z) int16 samples each. They carry no sensor time.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracker.codecs.paired_stream import ChannelBlock, PairedStreamDecoder, format_codec_spec
from tracker.protocol import ProtocolError

METAWEAR_SERVICE_UUID = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_UUID = "326a9001-85cb-9195-d9dd-464cfbbae75a"  # write
NOTIFY_UUID = "326a9006-85cb-9195-d9dd-464cfbbae75a"  # notify

ACC_MODULE = 0x03
GYRO_MODULE = 0x13
SETTINGS_MODULE = 0x11
READ = 0x80  # register bit 7: a read, and the answer to it
MODULE_INFO = 0x00  # register 0 read (0x80): [module, 0x80, implementation, revision, ...]

# accelerometer_bosch_register.h (BMI160)
ACC_POWER_MODE = 0x01
ACC_DATA_INTERRUPT_ENABLE = 0x02
ACC_DATA_CONFIG = 0x03
ACC_DATA = 0x04
ACC_PACKED_DATA = 0x1C
# gyro_bosch_register.h (GyroBmi160Register)
GYRO_POWER_MODE = 0x01
GYRO_DATA_INTERRUPT_ENABLE = 0x02
GYRO_CONFIG = 0x03
GYRO_DATA = 0x05
GYRO_PACKED_DATA = 0x07
BATTERY_STATE = 0x0C  # settings module; read as [0x11, 0x8c] -> [0x11, 0x8c, charge %, mV u16]

ACC_IMPLEMENTATION_BMI160 = 1  # module info's implementation byte (MBL_MW_MODULE_ACC_TYPE_BMI160)
GYRO_IMPLEMENTATION_BMI160 = 0

# MblMwAccBmi160Odr + 1 (AccBmi160Config::set_output_data_rate); bandwidth bits 0b010 << 4
ACC_ODR_CODES = {25: 6, 50: 7, 100: 8, 200: 9, 400: 10, 800: 11, 1600: 12}
ACC_RANGE_CODES = {2.0: 0x03, 4.0: 0x05, 8.0: 0x08, 16.0: 0x0C}  # FSR_BITMASKS
ACC_LSB_PER_G = {0x03: 16384.0, 0x05: 8192.0, 0x08: 4096.0, 0x0C: 2048.0}  # BMI160_FSR_SCALE
# MblMwGyroBoschOdr, MblMwGyroBoschRange, gyro_bosch.cpp FSR_SCALE
GYRO_ODR_CODES = {25: 6, 50: 7, 100: 8, 200: 9, 400: 10, 800: 11, 1600: 12, 3200: 13}
GYRO_RANGE_CODES = {2000.0: 0, 1000.0: 1, 500.0: 2, 250.0: 3, 125.0: 4}
GYRO_LSB_PER_DPS = (16.4, 32.8, 65.6, 131.2, 262.4)


def acc_config_command(rate_hz: int, range_g: float) -> bytes:
    """``[0x03, 0x03, acc_conf, acc_range]``: e.g. 100 Hz, 16 g -> 03 03 28 0c."""
    return bytes([ACC_MODULE, ACC_DATA_CONFIG, ACC_ODR_CODES[rate_hz] | (2 << 4), ACC_RANGE_CODES[range_g]])


def gyro_config_command(rate_hz: int, range_dps: float) -> bytes:
    """``[0x13, 0x03, gyr_conf, gyr_range]``: e.g. 200 Hz, 2000 deg/s -> 13 03 29 00."""
    return bytes([GYRO_MODULE, GYRO_CONFIG, GYRO_ODR_CODES[rate_hz] | (2 << 4), GYRO_RANGE_CODES[range_dps]])


def start_commands() -> list[bytes]:
    """Subscribe to packed data, enable sampling, power on: gyro first, then the accelerometer."""
    return [
        bytes([GYRO_MODULE, GYRO_PACKED_DATA, 0x01]),
        bytes([ACC_MODULE, ACC_PACKED_DATA, 0x01]),
        bytes([GYRO_MODULE, GYRO_DATA_INTERRUPT_ENABLE, 0x01, 0x00]),
        bytes([ACC_MODULE, ACC_DATA_INTERRUPT_ENABLE, 0x01, 0x00]),
        bytes([GYRO_MODULE, GYRO_POWER_MODE, 0x01]),
        bytes([ACC_MODULE, ACC_POWER_MODE, 0x01]),
    ]


def stop_commands() -> list[bytes]:
    return [
        bytes([ACC_MODULE, ACC_POWER_MODE, 0x00]),
        bytes([GYRO_MODULE, GYRO_POWER_MODE, 0x00]),
        bytes([ACC_MODULE, ACC_DATA_INTERRUPT_ENABLE, 0x00, 0x01]),
        bytes([GYRO_MODULE, GYRO_DATA_INTERRUPT_ENABLE, 0x00, 0x01]),
        bytes([ACC_MODULE, ACC_PACKED_DATA, 0x00]),
        bytes([GYRO_MODULE, GYRO_PACKED_DATA, 0x00]),
    ]


def module_info_read(module: int) -> bytes:
    return bytes([module, READ | MODULE_INFO])


def battery_read() -> bytes:
    return bytes([SETTINGS_MODULE, READ | BATTERY_STATE])


@dataclass(frozen=True)
class BatteryState:
    charge_pct: int
    voltage_mv: int


def decode_battery(data: bytes) -> BatteryState:
    if len(data) != 5 or data[0] != SETTINGS_MODULE or data[1] != READ | BATTERY_STATE:
        raise ProtocolError(f"battery answer {data.hex()} is not 11 8c + 3 bytes", 0)
    charge, mv = struct.unpack_from("<BH", data, 2)
    return BatteryState(charge, mv)


def encode_samples(module: int, register: int, counts: npt.ArrayLike) -> bytes:
    """One data notification: ``[module, register, (x, y, z) int16 LE...]``."""
    values = np.asarray(counts, dtype="<i2").reshape(-1, 3)
    return bytes([module, register]) + values.tobytes()


def is_data(notification: bytes) -> bool:
    return len(notification) >= 2 and (notification[0], notification[1]) in _DATA_REGISTERS


_DATA_REGISTERS = {
    (ACC_MODULE, ACC_DATA): 1,
    (ACC_MODULE, ACC_PACKED_DATA): 3,
    (GYRO_MODULE, GYRO_DATA): 1,
    (GYRO_MODULE, GYRO_PACKED_DATA): 3,
}


class MetaWearDecoder(PairedStreamDecoder):
    """Accelerometer and gyroscope data notifications -> samples on the session clock.

    The scale comes from the ranges the client configured (the data do not say); time is counted
    at ``rate_hz`` from the first sample. The accelerometer's module-info answer, which the client
    reads on every (re)connect and keeps with the data, starts a new segment placed from the host's
    arrival time: the hole a reconnect leaves (docs/sensors.md).
    """

    codec_name = "metawear"

    def __init__(self, rate_hz: float, accel_range_g: float = 8.0, gyro_range_dps: float = 1000.0):
        super().__init__(rate_hz, has_gyro=True)
        self.accel_range_g = accel_range_g
        self.gyro_range_dps = gyro_range_dps
        self._acc_scale = 1.0 / ACC_LSB_PER_G[ACC_RANGE_CODES[accel_range_g]]
        self._gyro_scale = 1.0 / GYRO_LSB_PER_DPS[GYRO_RANGE_CODES[gyro_range_dps]]

    def parse(self, notification: bytes) -> list[ChannelBlock]:
        if len(notification) < 2:
            raise ProtocolError(f"notification of {len(notification)} bytes has no module and register", 0)
        per = _DATA_REGISTERS.get((notification[0], notification[1]))
        if per is None:
            if notification[:2] == bytes([ACC_MODULE, READ | MODULE_INFO]):
                self.restart_segment()  # the client reads this first on every (re)connect
            return []  # a command answer, not data
        if len(notification) != 2 + 6 * per:
            self.skip("acc" if notification[0] == ACC_MODULE else "gyro", per)
            raise ProtocolError(
                f"data register {notification[0]:02x} {notification[1]:02x} of {len(notification)} bytes, "
                f"expected {2 + 6 * per}",
                len(notification),
            )
        counts = np.frombuffer(notification, dtype="<i2", offset=2).reshape(per, 3).astype(np.float64)
        if notification[0] == ACC_MODULE:
            return [ChannelBlock("acc", counts * self._acc_scale)]
        return [ChannelBlock("gyro", counts * self._gyro_scale)]

    def codec_spec(self) -> str:
        return format_codec_spec(
            self.codec_name,
            {
                "rate_hz": self.rate_hz,
                "accel_range_g": self.accel_range_g,
                "gyro_range_dps": self.gyro_range_dps,
            },
        )

    @classmethod
    def from_params(cls, params: dict[str, float]) -> MetaWearDecoder:
        return cls(
            params.get("rate_hz", 100.0),
            params.get("accel_range_g", 8.0),
            params.get("gyro_range_dps", 1000.0),
        )
