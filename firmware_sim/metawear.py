"""A simulated MbientLab MetaMotion (BMI160): the MetaWear service on Bumble.

It follows MbientLab's public command protocol byte for byte (codec in :mod:`tracker.codecs.metawear`,
which cites the MetaWear C++ SDK files): commands ``[module, register, ...]`` written to the
command characteristic, answers and data notified on the notify characteristic. It answers the
module-info reads (BMI160 accelerometer and gyroscope), the battery read, takes the accelerometer
and gyroscope configuration, and once the accelerometer is powered on streams packed data: three
(x, y, z) int16 samples per notification per sensor. Streaming, time and faults come from
:class:`~firmware_sim.peripheral.SimulatedSensor`.
"""

from __future__ import annotations

import contextlib
import struct
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.profiles.device_information_service import DeviceInformationService

from firmware_sim.peripheral import SimulatedSensor
from tracker.codecs import metawear as mw

ODR_HZ = {code: hz for hz, code in mw.ACC_ODR_CODES.items()}
ACC_RANGE_G = {code: g for g, code in mw.ACC_RANGE_CODES.items()}
GYRO_RANGE_DPS = {code: dps for dps, code in mw.GYRO_RANGE_CODES.items()}
MODULE_INFO = {  # [module, 0x80, implementation, revision]
    mw.ACC_MODULE: bytes([mw.ACC_MODULE, 0x80, mw.ACC_IMPLEMENTATION_BMI160, 0x01]),
    mw.GYRO_MODULE: bytes([mw.GYRO_MODULE, 0x80, mw.GYRO_IMPLEMENTATION_BMI160, 0x01]),
    mw.SETTINGS_MODULE: bytes([mw.SETTINGS_MODULE, 0x80, 0x00, 0x03]),  # revision 3 has the battery
}


class _PackedEncoder:
    """Samples per packed notification (three) and a counter, for SimulatedSensor."""

    samples_per_packet = 3

    def __init__(self) -> None:
        self.seq = 0


class MetaWearSimulatedSensor(SimulatedSensor):
    profile = "metawear"
    advertised_service_uuids = (mw.METAWEAR_SERVICE_UUID,)

    @staticmethod
    def advertised_name(serial: str) -> str:
        # A real board advertises "MetaWear" until renamed (settings register 0x01); the suffix
        # tells simulated boards apart.
        return f"MetaWear-{serial[-4:].upper()}"

    def __init__(self, data: Any, **options: Any) -> None:
        super().__init__(data, **options)
        self._notify: Characteristic[bytes] | None = None
        self._acc_config = (mw.ACC_ODR_CODES[100], 0x03)  # SDK default: 100 Hz, 2 g
        self._gyro_config = (mw.GYRO_ODR_CODES[100], 0x00)  # 100 Hz, 2000 deg/s
        self._subscribed: set[tuple[int, int]] = set()
        self._enabled: set[int] = set()
        self._powered: set[int] = set()

    def _build_gatt(self, device: Device) -> None:
        self._notify = Characteristic(
            mw.NOTIFY_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self._imu = self._notify
        command: Characteristic[bytes] = Characteristic(
            mw.COMMAND_UUID,
            Characteristic.Properties.READ
            | Characteristic.Properties.WRITE
            | Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue[bytes](read=lambda _c: b"", write=self._on_command),
        )
        device.add_service(Service(mw.METAWEAR_SERVICE_UUID, [command, self._notify]))
        device.add_service(
            DeviceInformationService(
                manufacturer_name="MbientLab Inc",
                model_number="5",  # MetaMotion R
                serial_number=self.serial,
                firmware_revision="1.5.0 (simulated)",
            )
        )

    def _answer_with(self, connection: Connection, answer: bytes) -> None:
        self._spawn(self._notify_answer(connection, answer))

    async def _notify_answer(self, connection: Connection, answer: bytes) -> None:
        assert self._device is not None and self._notify is not None
        with contextlib.suppress(Exception):
            await self._device.notify_subscriber(connection, self._notify, answer)

    def _on_command(self, connection: Connection, value: bytes) -> None:
        value = bytes(value)
        if len(value) < 2:
            return  # the firmware ignores what it cannot parse
        module, register, payload = value[0], value[1], value[2:]
        if register == 0x80 and module in MODULE_INFO:
            self._answer_with(connection, MODULE_INFO[module])
        elif module == mw.SETTINGS_MODULE and register & 0x3F == mw.BATTERY_STATE and register & 0x80:
            millivolts = int(3600 + 6 * self._battery_level)
            answer = bytes([mw.SETTINGS_MODULE, 0x80 | mw.BATTERY_STATE]) + struct.pack(
                "<BH", self._battery_level, millivolts
            )
            self._answer_with(connection, answer)
        elif module in (mw.ACC_MODULE, mw.GYRO_MODULE):
            self._sensor_command(connection, module, register, payload)

    def _sensor_command(self, connection: Connection, module: int, register: int, payload: bytes) -> None:
        config_register = mw.ACC_DATA_CONFIG if module == mw.ACC_MODULE else mw.GYRO_CONFIG
        if register == config_register and len(payload) == 2:
            odr, range_code = payload[0] & 0x0F, payload[1]
            ranges = ACC_RANGE_G if module == mw.ACC_MODULE else GYRO_RANGE_DPS
            if odr in ODR_HZ and range_code in ranges:
                if module == mw.ACC_MODULE:
                    self._acc_config = (odr, range_code)
                else:
                    self._gyro_config = (odr, range_code)
        elif register in (mw.ACC_PACKED_DATA, mw.GYRO_PACKED_DATA) and len(payload) == 1:
            (self._subscribed.add if payload[0] else self._subscribed.discard)((module, register))
        elif register == mw.ACC_DATA_INTERRUPT_ENABLE and len(payload) == 2:
            (self._enabled.add if payload[0] else self._enabled.discard)(module)
        elif register == mw.ACC_POWER_MODE and len(payload) == 1:
            (self._powered.add if payload[0] else self._powered.discard)(module)
            self._power_changed(connection, module, bool(payload[0]))

    def _power_changed(self, connection: Connection, module: int, on: bool) -> None:
        if module != mw.ACC_MODULE:
            return
        if not on:
            if self._streaming_to is connection:
                self._streaming_to = None
            return
        rate = ODR_HZ[self._acc_config[0]]
        if self._off_until_s is not None or self.native_rate_hz % rate:
            self._note(f"cannot stream at {rate} Hz from {self.native_rate_hz} Hz data")
            return
        self.rate_hz = rate
        self.accel_range_g = ACC_RANGE_G[self._acc_config[1]]
        self.gyro_range_dps = GYRO_RANGE_DPS[self._gyro_config[1]]
        self._begin_stream(connection, _PackedEncoder())

    def _streams(self, module: int) -> bool:
        packed = mw.ACC_PACKED_DATA if module == mw.ACC_MODULE else mw.GYRO_PACKED_DATA
        return (module, packed) in self._subscribed and module in self._enabled and module in self._powered

    def _encode(self, idx: npt.NDArray[np.int64]) -> list[bytes]:
        self._packetizer.seq += 1
        out = []
        acc_lsb = mw.ACC_LSB_PER_G[self._acc_config[1]]
        gyro_lsb = mw.GYRO_LSB_PER_DPS[self._gyro_config[1]]
        packed = idx.size == 3
        if self._streams(mw.ACC_MODULE):
            counts = np.clip(np.round(self.data.accel_g[idx] * acc_lsb), -32768, 32767)
            out += _notifications(
                mw.ACC_MODULE, mw.ACC_PACKED_DATA if packed else mw.ACC_DATA, counts, packed
            )
        if self._streams(mw.GYRO_MODULE) and self.data.gyro_dps is not None:
            counts = np.clip(np.round(self.data.gyro_dps[idx] * gyro_lsb), -32768, 32767)
            out += _notifications(
                mw.GYRO_MODULE, mw.GYRO_PACKED_DATA if packed else mw.GYRO_DATA, counts, packed
            )
        return out

    def _corrupt(self, notifications: list[bytes]) -> list[bytes]:
        """MetaWear data carry no checksum, so a flipped bit would pass unseen: cut one short."""
        first = notifications[0]
        return [first[: self._rng.randrange(2, len(first) - 1)], *notifications[1:]]


def _notifications(module: int, register: int, counts: npt.NDArray[np.float64], packed: bool) -> list[bytes]:
    if packed:
        return [mw.encode_samples(module, register, counts)]
    return [mw.encode_samples(module, register, row) for row in counts]  # a short tail: one sample each
