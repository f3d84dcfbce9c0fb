"""Sensor profiles: what differs between the sensors RepTrack streams from (docs/sensors.md).

A profile knows how to recognise its sensor in a scan (advertised name, service UUIDs) or by its
GATT services, how to set the rate and ranges and start and stop streaming, which notifications
carry samples and which decoder turns them into :class:`~tracker.samples.Samples` with sensor
time, and how to read the battery. :class:`~tracker.ble.link.SensorLink` does everything else
(finding, connecting, device information, reconnecting with backoff) the same way for all.
After a reconnect the link calls :meth:`SensorProfile.start` again on a fresh connection; the
session's decoder carries on, so time runs on and no sample is counted twice.

Three profiles: RepTrack's own (docs/protocol.md), Polar PMD (Verity Sense, OH1) and MetaWear
(MetaMotion, BMI160). A new one is a subclass here plus its codec module (docs/sensors.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from bleak import BleakClient

from tracker.codecs import PacketDecoder, decoder_for_codec
from tracker.codecs import metawear as mw
from tracker.codecs import polar_pmd as pmd
from tracker.errors import UserError
from tracker.protocol import (
    CONFIGURATION_UUID,
    CONTROL_POINT_UUID,
    IMU_DATA_UUID,
    SERVICE_UUID,
    Opcode,
    ProtocolError,
    Result,
    SensorConfig,
    accel_range_code,
    decode_response,
    encode_command,
    gyro_range_code,
)

T = TypeVar("T")
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
DEVICE_INFORMATION_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
PREFERRED_RATE_HZ = 100.0  # the rate RepTrack asks for when the user does not say


class ProfileError(UserError):
    """The sensor refused or garbled a step of its profile (subclassed by LinkError users)."""


class LinkSide(Protocol):
    """What a profile needs from the link while it starts the stream."""

    @property
    def client(self) -> BleakClient: ...

    @property
    def config(self) -> Any: ...  # tracker.ble.link.LinkConfig

    async def step(self, what: str, awaitable: Awaitable[T]) -> T: ...

    def on_packet(self, char: Any, data: bytearray) -> None: ...


@dataclass(frozen=True)
class StreamSetup:
    """What the sensor streams now: its configuration and the codec of its notifications."""

    config: SensorConfig
    codec: str  # tracker.codecs spec; recordings store it (RecordingMeta.codec)
    battery_pct: int | None = None  # when the profile reads the battery its own way


class SensorProfile:
    """One kind of sensor. A fresh instance per link (it holds the link's answer queue)."""

    kind: ClassVar[str]
    label: ClassVar[str]
    service_uuid: ClassVar[str]
    name_prefixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.answers: asyncio.Queue[bytes] = asyncio.Queue()

    @classmethod
    def recognises(cls, name: str | None, service_uuids: list[str]) -> bool:
        """Does an advertisement (local name, service UUIDs) come from this kind of sensor?"""
        uuids = [u.lower() for u in service_uuids]
        return cls.service_uuid in uuids or bool(name and name.startswith(cls.name_prefixes))

    def services(self) -> list[str]:
        """GATT services to discover (fewer is faster)."""
        return [self.service_uuid, BATTERY_SERVICE_UUID, DEVICE_INFORMATION_UUID]

    def new_decoder(self, setup: StreamSetup) -> PacketDecoder:
        return decoder_for_codec(setup.codec)

    async def start(self, link: LinkSide) -> StreamSetup:  # pragma: no cover - abstract
        raise NotImplementedError

    async def stop(self, client: BleakClient) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _on_answer(self, _char: Any, data: bytearray) -> None:
        self.answers.put_nowait(bytes(data))

    def _drain(self) -> None:
        while not self.answers.empty():
            self.answers.get_nowait()


def _closest(offered: list[float], wanted: float) -> float:
    return min(offered, key=lambda v: (abs(v - wanted), -v))


# -- RepTrack's own profile (docs/protocol.md) --------------------------------------------------------


class RepTrackProfile(SensorProfile):
    kind = "reptrack"
    label = "RepTrack"
    service_uuid = SERVICE_UUID
    name_prefixes = ("RepTrack-",)

    async def start(self, link: LinkSide) -> StreamSetup:
        cfg, client = link.config, link.client
        if client.services.get_characteristic(IMU_DATA_UUID) is None:
            raise ProfileError(f"{cfg.device!r} is not a RepTrack sensor: it has no IMU data characteristic")
        self._drain()
        await link.step(
            "subscribing to the control point", client.start_notify(CONTROL_POINT_UUID, self._on_answer)
        )
        await link.step("subscribing to IMU data", client.start_notify(IMU_DATA_UUID, link.on_packet))
        if cfg.rate_hz is not None:
            await self.command(link, Opcode.SET_RATE, cfg.rate_hz)
        if cfg.accel_range_g is not None or cfg.gyro_range_dps is not None:
            await self.command(
                link,
                Opcode.SET_RANGES,
                accel_range_code(cfg.accel_range_g or 8.0),
                gyro_range_code(cfg.gyro_range_dps or 1000.0),
            )
        await self.command(link, Opcode.START)
        raw = await link.step("reading the configuration", client.read_gatt_char(CONFIGURATION_UUID))
        try:
            config = SensorConfig.decode(bytes(raw))
        except ProtocolError as exc:
            raise ProfileError(f"{cfg.device!r}: bad configuration characteristic: {exc}") from exc
        return StreamSetup(config, "reptrack")

    async def command(self, link: LinkSide, opcode: Opcode, *params: int) -> None:
        """Write a control point command and wait for its answer; ProfileError if refused."""
        await link.step(
            f"writing {opcode.name}",
            link.client.write_gatt_char(CONTROL_POINT_UUID, encode_command(opcode, *params), response=True),
        )
        while True:
            raw = await link.step(f"waiting for the answer to {opcode.name}", self.answers.get())
            try:
                request, result = decode_response(raw)
            except ProtocolError as exc:
                raise ProfileError(f"bad control point response {raw.hex()}: {exc}") from exc
            if request == opcode:
                break
        if result != Result.SUCCESS:
            raise ProfileError(f"the sensor refused {opcode.name}: {result.name}")

    async def stop(self, client: BleakClient) -> None:
        await client.write_gatt_char(CONTROL_POINT_UUID, encode_command(Opcode.STOP), response=True)


# -- Polar PMD (Verity Sense, OH1) ----------------------------------------------------------------------


class PolarPmdProfile(SensorProfile):
    kind = "polar"
    label = "Polar PMD"
    service_uuid = pmd.PMD_SERVICE_UUID
    name_prefixes = ("Polar Sense", "Polar OH1", "Polar Verity")

    async def start(self, link: LinkSide) -> StreamSetup:
        client = link.client
        raw = await link.step("reading the PMD features", client.read_gatt_char(pmd.PMD_CONTROL_POINT_UUID))
        try:
            features = pmd.decode_features(bytes(raw))
        except ProtocolError as exc:
            raise ProfileError(f"{link.config.device!r}: {exc}") from exc
        if pmd.PmdType.ACC not in features:
            raise ProfileError(f"{link.config.device!r} does not stream an accelerometer over PMD")
        self._drain()
        await link.step(
            "subscribing to the PMD control point",
            client.start_notify(pmd.PMD_CONTROL_POINT_UUID, self._on_answer),
        )
        await link.step("subscribing to PMD data", client.start_notify(pmd.PMD_DATA_UUID, link.on_packet))
        types = [t for t in (pmd.PmdType.ACC, pmd.PmdType.GYRO) if t in features]
        offered = {t: await self._settings(link, t) for t in types}
        rates = set(offered[types[0]].get(pmd.PmdSetting.SAMPLE_RATE, []))
        for t in types[1:]:
            rates &= set(offered[t].get(pmd.PmdSetting.SAMPLE_RATE, []))
        if not rates:
            raise ProfileError(f"{link.config.device!r}: no sample rate common to ACC and GYRO")
        rate = _closest(sorted(rates), float(link.config.rate_hz or PREFERRED_RATE_HZ))
        wanted = {
            pmd.PmdType.ACC: link.config.accel_range_g or 8.0,
            pmd.PmdType.GYRO: link.config.gyro_range_dps or 2000.0,
        }
        factors: dict[pmd.PmdType, float] = {}
        ranges: dict[pmd.PmdType, float] = {}
        for t in types:
            ranges[t] = _closest(offered[t].get(pmd.PmdSetting.RANGE, [wanted[t]]), wanted[t])
            factors[t] = await self._start_one(link, t, int(rate), int(ranges[t]), offered[t])
        has_gyro = pmd.PmdType.GYRO in types
        decoder = pmd.PmdDecoder(rate, factors[pmd.PmdType.ACC], factors.get(pmd.PmdType.GYRO, 1.0), has_gyro)
        config = SensorConfig(
            rate_hz=int(rate),
            accel_range_g=ranges[pmd.PmdType.ACC],
            gyro_range_dps=ranges.get(pmd.PmdType.GYRO, 0.0),
            samples_per_packet=0,  # PMD frames vary in length
            streaming=True,
            has_gyro=has_gyro,
        )
        return StreamSetup(config, decoder.codec_spec())

    async def _command(
        self, link: LinkSide, op: pmd.PmdOp, t: pmd.PmdType, settings: pmd.Settings | None = None
    ) -> pmd.PmdResponse:
        what = f"PMD {op.name} {t.name}"
        await link.step(
            what,
            link.client.write_gatt_char(
                pmd.PMD_CONTROL_POINT_UUID, pmd.encode_command(op, t, settings), response=True
            ),
        )
        while True:
            raw = await link.step(f"waiting for the answer to {what}", self.answers.get())
            try:
                answer = pmd.decode_response(raw)
            except ProtocolError as exc:
                raise ProfileError(f"bad PMD answer {raw.hex()}: {exc}") from exc
            if answer.op == op and answer.measurement == t:
                return answer

    async def _settings(self, link: LinkSide, t: pmd.PmdType) -> pmd.Settings:
        answer = await self._command(link, pmd.PmdOp.GET_MEASUREMENT_SETTINGS, t)
        if answer.status != pmd.PmdStatus.SUCCESS:
            raise ProfileError(f"the sensor refused the {t.name} settings query: {_status(answer.status)}")
        try:
            return pmd.decode_settings(answer.parameters)
        except ProtocolError as exc:
            raise ProfileError(f"bad {t.name} settings {answer.parameters.hex()}: {exc}") from exc

    async def _start_one(
        self, link: LinkSide, t: pmd.PmdType, rate: int, range_: int, offered: pmd.Settings
    ) -> float:
        settings: pmd.Settings = {
            pmd.PmdSetting.SAMPLE_RATE: [rate],
            pmd.PmdSetting.RESOLUTION: [16],
            pmd.PmdSetting.RANGE: [range_],
        }
        if pmd.PmdSetting.CHANNELS in offered:
            settings[pmd.PmdSetting.CHANNELS] = [3]
        answer = await self._command(link, pmd.PmdOp.REQUEST_MEASUREMENT_START, t, settings)
        if answer.status == pmd.PmdStatus.ERROR_ALREADY_IN_STATE:  # still streaming from before a drop
            await self._command(link, pmd.PmdOp.STOP_MEASUREMENT, t)
            answer = await self._command(link, pmd.PmdOp.REQUEST_MEASUREMENT_START, t, settings)
        if answer.status != pmd.PmdStatus.SUCCESS:
            raise ProfileError(f"the sensor refused to start {t.name} at {rate} Hz: {_status(answer.status)}")
        try:
            factor = pmd.decode_settings(answer.parameters).get(pmd.PmdSetting.FACTOR, [1.0])
        except ProtocolError as exc:
            raise ProfileError(f"bad {t.name} start answer {answer.parameters.hex()}: {exc}") from exc
        return float(factor[0])

    async def stop(self, client: BleakClient) -> None:
        for t in (pmd.PmdType.ACC, pmd.PmdType.GYRO):
            await client.write_gatt_char(
                pmd.PMD_CONTROL_POINT_UUID, pmd.encode_command(pmd.PmdOp.STOP_MEASUREMENT, t), response=True
            )


def _status(code: int) -> str:
    try:
        return pmd.PmdStatus(code).name
    except ValueError:
        return f"status 0x{code:02x}"


# -- MetaWear (MetaMotion, BMI160) -------------------------------------------------------------------------


class MetaWearProfile(SensorProfile):
    kind = "metawear"
    label = "MetaWear"
    service_uuid = mw.METAWEAR_SERVICE_UUID
    name_prefixes = ("MetaWear", "MetaMotion")
    RATES_HZ = (25, 50, 100, 200)

    def __init__(self) -> None:
        super().__init__()
        self._data: Callable[[Any, bytearray], None] | None = None

    def _on_notify(self, char: Any, data: bytearray) -> None:
        raw = bytes(data)
        if not mw.is_data(raw):
            self.answers.put_nowait(raw)
        # Data, and the accelerometer's module info (read on every connect: the decoder starts a
        # new segment there), go to the stream and its recording.
        if self._data is not None and (mw.is_data(raw) or raw[:2] == mw.module_info_read(mw.ACC_MODULE)):
            self._data(char, data)

    async def _write(self, link: LinkSide, command: bytes, what: str) -> None:
        await link.step(what, link.client.write_gatt_char(mw.COMMAND_UUID, command, response=True))

    async def _read(self, link: LinkSide, command: bytes, what: str) -> bytes:
        await self._write(link, command, what)
        while True:
            answer = await link.step(f"waiting for the answer to {what}", self.answers.get())
            if answer[:2] == command[:2]:
                return answer

    async def start(self, link: LinkSide) -> StreamSetup:
        cfg = link.config
        self._drain()
        self._data = link.on_packet
        await link.step(
            "subscribing to MetaWear notifications", link.client.start_notify(mw.NOTIFY_UUID, self._on_notify)
        )
        acc = await self._read(link, mw.module_info_read(mw.ACC_MODULE), "reading the accelerometer module")
        gyro = await self._read(link, mw.module_info_read(mw.GYRO_MODULE), "reading the gyroscope module")
        if len(acc) < 3 or acc[2] != mw.ACC_IMPLEMENTATION_BMI160:
            raise ProfileError(
                f"{cfg.device!r}: accelerometer {acc.hex()} is not a BMI160; RepTrack streams MetaWear "
                "boards with a BMI160 (docs/sensors.md)"
            )
        has_gyro = len(gyro) >= 3 and gyro[2] == mw.GYRO_IMPLEMENTATION_BMI160
        if not has_gyro:
            raise ProfileError(f"{cfg.device!r}: no BMI160 gyroscope (module info {gyro.hex()})")
        rate = int(_closest([float(r) for r in self.RATES_HZ], float(cfg.rate_hz or PREFERRED_RATE_HZ)))
        accel_range = _closest(list(mw.ACC_RANGE_CODES), cfg.accel_range_g or 8.0)
        gyro_range = _closest(list(mw.GYRO_RANGE_CODES), cfg.gyro_range_dps or 1000.0)
        await self._write(link, mw.acc_config_command(rate, accel_range), "configuring the accelerometer")
        await self._write(link, mw.gyro_config_command(rate, gyro_range), "configuring the gyroscope")
        battery: int | None = None
        try:
            battery = mw.decode_battery(
                await self._read(link, mw.battery_read(), "reading the battery")
            ).charge_pct
        except ProtocolError:
            battery = None
        for command in mw.start_commands():
            await self._write(link, command, "starting the stream")
        decoder = mw.MetaWearDecoder(rate, accel_range, gyro_range)
        config = SensorConfig(
            rate, accel_range, gyro_range, samples_per_packet=3, streaming=True, has_gyro=True
        )
        return StreamSetup(config, decoder.codec_spec(), battery_pct=battery)

    async def stop(self, client: BleakClient) -> None:
        for command in mw.stop_commands():
            await client.write_gatt_char(mw.COMMAND_UUID, command, response=True)


PROFILES: tuple[type[SensorProfile], ...] = (RepTrackProfile, PolarPmdProfile, MetaWearProfile)
PROFILE_KINDS = tuple(p.kind for p in PROFILES)


def profile_by_kind(kind: str) -> type[SensorProfile]:
    for p in PROFILES:
        if p.kind == kind:
            return p
    raise UserError(f"unknown sensor profile {kind!r}; expected one of {', '.join(PROFILE_KINDS)}")


def profile_for_advertisement(name: str | None, service_uuids: list[str]) -> type[SensorProfile] | None:
    for p in PROFILES:
        if p.recognises(name, service_uuids):
            return p
    return None


def profile_for_services(has_service: Callable[[str], bool]) -> type[SensorProfile] | None:
    for p in PROFILES:
        if has_service(p.service_uuid):
            return p
    return None
