"""A simulated Polar Verity Sense: the Polar Measurement Data (PMD) service on Bumble.

It follows the public PMD protocol byte for byte (codec in :mod:`tracker.codecs.polar_pmd`, which
cites the Polar BLE SDK files): a control point (read: feature bits; write: get settings, start,
stop; answers as indications) and a data characteristic streaming ACC frames (delta-compressed,
frame type 0x81, milli-g x factor) and GYRO frames (delta-compressed, 0x80, deg/s x factor),
each stamped with the nanosecond time of its last sample since 2000-01-01. Streaming, time and
faults come from :class:`~firmware_sim.peripheral.SimulatedSensor`.

What a real Verity Sense offers was not confirmed from a device: the settings here (ACC and GYRO
at 52 or 104 Hz, 16-bit, the usual ranges) are the simulator's, and docs/sensors.md says so.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import numpy as np
import numpy.typing as npt
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from firmware_sim.peripheral import SimulatedSensor
from tracker import __version__
from tracker.codecs import polar_pmd as pmd

RATES_HZ = (52, 104)
ACC_RANGES_G = (2, 4, 8, 16)
GYRO_RANGES_DPS = (250, 500, 1000, 2000)
SAMPLES_PER_FRAME = 20
MIN_MTU = 120  # a frame of 20 samples needs about 100 bytes; a real sensor asks for more
# The sensor clock at power-on, in ns since 2000-01-01 (PMD's epoch): 2026-01-01.
CLOCK_BASE_NS = (1767225600 - pmd.POLAR_EPOCH_UNIX_S) * 1_000_000_000


def factor_for(measurement: pmd.PmdType, range_: float) -> float:
    """Full scale over the 16-bit counts: milli-g per count (ACC), deg/s per count (GYRO)."""
    return range_ * (1000.0 if measurement == pmd.PmdType.ACC else 1.0) / 32768.0


class _FrameEncoder:
    """What :meth:`SimulatedSensor._begin_stream` needs: samples per frame and a frame counter."""

    def __init__(self, samples_per_packet: int) -> None:
        self.samples_per_packet = samples_per_packet
        self.seq = 0


class PolarSimulatedSensor(SimulatedSensor):
    profile = "polar"
    advertised_service_uuids = ()  # a Polar sensor advertises its name (and Heart Rate), not PMD

    @staticmethod
    def advertised_name(serial: str) -> str:
        return f"Polar Sense {hashlib.sha256(serial.encode()).hexdigest()[:8].upper()}"

    def __init__(self, data: Any, **options: Any) -> None:
        options.setdefault("gyro_range_dps", 2000.0)
        super().__init__(data, **options)
        self._settings: dict[pmd.PmdType, dict[pmd.PmdSetting, int]] = {}  # started measurements
        self._control: Characteristic[bytes] | None = None

    # -- GATT ---------------------------------------------------------------------------------------

    def _build_gatt(self, device: Device) -> None:
        self._imu = Characteristic(
            pmd.PMD_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self._control = Characteristic(
            pmd.PMD_CONTROL_POINT_UUID,
            Characteristic.Properties.READ
            | Characteristic.Properties.WRITE
            | Characteristic.Properties.INDICATE,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue[bytes](read=self._read_features, write=self._on_control_write),
        )
        device.add_service(Service(pmd.PMD_SERVICE_UUID, [self._control, self._imu]))
        self._battery = BatteryService(lambda _connection: self._battery_level)
        device.add_service(self._battery)
        device.add_service(
            DeviceInformationService(
                manufacturer_name="Polar Electro Oy",
                model_number="Polar Sense (simulated)",
                serial_number=self.serial,
                firmware_revision=f"sim-{__version__}",
            )
        )

    def _read_features(self, _connection: Connection) -> bytes:
        types = {pmd.PmdType.ACC} | ({pmd.PmdType.GYRO} if self.data.gyro_dps is not None else set())
        return pmd.encode_features(types)

    def _offered(self, measurement: pmd.PmdType) -> pmd.Settings:
        rates = [r for r in RATES_HZ if self.native_rate_hz % r == 0]
        ranges = ACC_RANGES_G if measurement == pmd.PmdType.ACC else GYRO_RANGES_DPS
        return {
            pmd.PmdSetting.SAMPLE_RATE: [float(r) for r in rates],
            pmd.PmdSetting.RESOLUTION: [16.0],
            pmd.PmdSetting.RANGE: [float(r) for r in ranges],
            pmd.PmdSetting.CHANNELS: [3.0],
        }

    # -- the control point ----------------------------------------------------------------------------

    def _on_control_write(self, connection: Connection, value: bytes) -> None:
        value = bytes(value)
        answer = self._answer(connection, value)
        self._spawn(self._indicate_answer(connection, answer))

    async def _indicate_answer(self, connection: Connection, answer: bytes) -> None:
        assert self._device is not None and self._control is not None
        with contextlib.suppress(Exception):
            await self._device.indicate_subscriber(connection, self._control, answer)

    def _answer(self, connection: Connection, value: bytes) -> bytes:
        if len(value) < 2:
            return pmd.encode_response(value[0] if value else 0, 0, pmd.PmdStatus.ERROR_INVALID_LENGTH)
        op, raw_type = value[0], value[1]
        try:
            measurement = pmd.PmdType(raw_type)
        except ValueError:
            return pmd.encode_response(op, raw_type, pmd.PmdStatus.ERROR_INVALID_MEASUREMENT_TYPE)
        if measurement == pmd.PmdType.GYRO and self.data.gyro_dps is None:
            return pmd.encode_response(op, raw_type, pmd.PmdStatus.ERROR_NOT_SUPPORTED)
        if op == pmd.PmdOp.GET_MEASUREMENT_SETTINGS:
            return pmd.encode_response(op, raw_type, 0, pmd.encode_settings(self._offered(measurement)))
        if op == pmd.PmdOp.REQUEST_MEASUREMENT_START:
            return self._start(connection, measurement, value[2:])
        if op == pmd.PmdOp.STOP_MEASUREMENT:
            self._settings.pop(measurement, None)
            if not self._settings and self._streaming_to is connection:
                self._streaming_to = None
            return pmd.encode_response(op, raw_type, pmd.PmdStatus.SUCCESS)
        return pmd.encode_response(op, raw_type, pmd.PmdStatus.ERROR_INVALID_OP_CODE)

    def _start(self, connection: Connection, measurement: pmd.PmdType, raw: bytes) -> bytes:
        op = pmd.PmdOp.REQUEST_MEASUREMENT_START

        def refuse(status: pmd.PmdStatus) -> bytes:
            return pmd.encode_response(op, measurement, status)

        if measurement in self._settings and self._streaming_to is connection:
            return refuse(pmd.PmdStatus.ERROR_ALREADY_IN_STATE)
        if connection.att_mtu < MIN_MTU:
            return refuse(pmd.PmdStatus.ERROR_INVALID_MTU)
        if self._off_until_s is not None:
            return refuse(pmd.PmdStatus.ERROR_INVALID_STATE)
        try:
            asked = {k: int(v[0]) for k, v in pmd.decode_settings(raw).items() if v}
        except Exception:
            return refuse(pmd.PmdStatus.ERROR_INVALID_PARAMETER)
        offered = self._offered(measurement)
        checks = (
            (pmd.PmdSetting.SAMPLE_RATE, pmd.PmdStatus.ERROR_INVALID_SAMPLE_RATE),
            (pmd.PmdSetting.RESOLUTION, pmd.PmdStatus.ERROR_INVALID_RESOLUTION),
            (pmd.PmdSetting.RANGE, pmd.PmdStatus.ERROR_INVALID_RANGE),
        )
        for setting, status in checks:
            if setting not in asked or asked[setting] not in offered[setting]:
                return refuse(status)
        others = [s[pmd.PmdSetting.SAMPLE_RATE] for t, s in self._settings.items() if t != measurement]
        if others and others[0] != asked[pmd.PmdSetting.SAMPLE_RATE]:
            return refuse(pmd.PmdStatus.ERROR_INVALID_SAMPLE_RATE)  # one clock for both here
        self._settings = {t: s for t, s in self._settings.items() if self._streaming_to is connection}
        self._settings[measurement] = asked
        if self._streaming_to is not connection:
            self.rate_hz = asked[pmd.PmdSetting.SAMPLE_RATE]
            self._begin_stream(connection, _FrameEncoder(SAMPLES_PER_FRAME))
        factor = factor_for(measurement, asked[pmd.PmdSetting.RANGE])
        return pmd.encode_response(op, measurement, 0, pmd.encode_settings({pmd.PmdSetting.FACTOR: [factor]}))

    # -- frames -----------------------------------------------------------------------------------------

    def _encode(self, idx: npt.NDArray[np.int64]) -> list[bytes]:
        self._packetizer.seq += 1
        stamp_ns = CLOCK_BASE_NS + int(self.data.clock_us[idx[-1]] - self._clock_zero_us) * 1000
        out = []
        for measurement, settings in self._settings.items():
            factor = factor_for(measurement, settings[pmd.PmdSetting.RANGE])
            if measurement == pmd.PmdType.ACC:
                values, frame_type = self.data.accel_g[idx] * 1000.0, 0x01
            else:
                assert self.data.gyro_dps is not None
                values, frame_type = self.data.gyro_dps[idx], 0x00
            counts = np.clip(np.round(values / factor), -32768, 32767).astype(np.int64)
            content = pmd.delta_encode(counts, 16)
            out.append(pmd.encode_frame(measurement, stamp_ns, pmd.COMPRESSED | frame_type, content))
        return out

    def _corrupt(self, notifications: list[bytes]) -> list[bytes]:
        """PMD frames carry no checksum, so a flipped bit would pass unseen: cut the frame instead."""
        frame = notifications[0]
        return [frame[: self._rng.randrange(1, len(frame) - 1)], *notifications[1:]]
