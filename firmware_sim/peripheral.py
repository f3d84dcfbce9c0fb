"""The simulated RepTrack sensor as a BLE peripheral on Bumble (docs/protocol.md, docs/ble.md).

It advertises ``RepTrack-XXXX`` and the IMU service UUID, serves the GATT profile of
docs/protocol.md (IMU data, control point, configuration, Battery, Device Information) and, once a
client writes START, streams its workout live: sample ``i`` becomes due ``t_i / speed`` seconds
after the first START, and a packet leaves as soon as its last sample is due.

The athlete does not wait for the radio: the workout's timeline runs from the first START,
whatever happens to the link. While nobody is streaming (before a new START, during a drop or a
brown-out) samples are not sent, and the client sees the hole.

Faults (:class:`Faults`, all times in workout seconds): packet loss, corrupt packets, latency with
jitter, a disconnect at given times or every N s, a brown-out (the link dies silently, the sensor
is off for a while, then reboots with its clock and sequence restarted). :class:`SensorLog`
records what the sensor did with every packet, so tests can check the client saw exactly that.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import random
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from bumble import hci
from bumble.core import UUID, AdvertisingData, PhysicalTransport
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService
from bumble.transport.common import Transport

from firmware_sim.radio import RadioController, RadioLink, VirtualRadio
from tracker import __version__
from tracker.protocol import (
    ACCEL_RANGES_G,
    CONFIGURATION_UUID,
    CONTROL_POINT_UUID,
    GYRO_RANGES_DPS,
    IMU_DATA_UUID,
    SERVICE_UUID,
    SUPPORTED_RATES_HZ,
    Opcode,
    Packetizer,
    Result,
    SensorConfig,
    encode_response,
    samples_per_packet_for_mtu,
)

logger = logging.getLogger(__name__)

ADVERTISING_INTERVAL_MS = 30.0
TICK_S = 0.005  # how often the sensor looks for due samples (wall time)


# -- what the sensor streams ------------------------------------------------------------------


@dataclass(frozen=True)
class SensorData:
    """The samples a sensor will take, on its own clock (what the simulator generated)."""

    clock_us: npt.NDArray[np.int64]
    accel_g: npt.NDArray[np.float64]
    gyro_dps: npt.NDArray[np.float64] | None
    rate_hz: float
    leg: str | None = None  # the thigh the simulated sensor is on, when the simulator says

    def __post_init__(self) -> None:
        n = self.clock_us.shape[0]
        if self.accel_g.shape != (n, 3) or (self.gyro_dps is not None and self.gyro_dps.shape != (n, 3)):
            raise ValueError("sensor data arrays disagree in length")
        if n < 1:
            raise ValueError("sensor data is empty")

    def __len__(self) -> int:
        return int(self.clock_us.shape[0])

    @property
    def t_s(self) -> npt.NDArray[np.float64]:
        """Workout time of each sample, 0 at the first."""
        return np.asarray((self.clock_us - self.clock_us[0]) / 1e6, dtype=np.float64)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1]) + 1.0 / self.rate_hz

    @classmethod
    def from_session(cls, session: Any) -> SensorData:
        """From a simulated session (``firmware_sim.session.simulate``): clock, accel, gyro."""
        clock = np.asarray(session.clock_us, dtype=np.int64)
        rate = getattr(session, "rate_hz", None)
        if rate is None:
            rate = 1e6 / float(np.median(np.diff(clock))) if clock.size > 1 else 100.0
        gyro = getattr(session, "gyro_dps", None)
        return cls(
            clock,
            np.asarray(session.accel_g, dtype=np.float64),
            None if gyro is None else np.asarray(gyro, dtype=np.float64),
            float(rate),
            getattr(session, "leg", None),
        )

    @classmethod
    def synthetic(cls, duration_s: float = 10.0, rate_hz: float = 100.0, seed: int = 0) -> SensorData:
        """A thigh doing slow squats: enough signal to see, no simulator needed."""
        rng = np.random.default_rng(seed)
        n = round(duration_s * rate_hz)
        t = np.arange(n) / rate_hz
        pitch = np.radians(40.0) * (1 - np.cos(2 * np.pi * t / 3.0))
        accel = np.stack([np.sin(pitch), np.zeros(n), np.cos(pitch)], axis=1) + rng.normal(0, 0.01, (n, 3))
        gyro = np.stack([np.zeros(n), -np.degrees(np.gradient(pitch, t)), np.zeros(n)], axis=1)
        gyro += rng.normal(0, 0.5, (n, 3))
        clock = (np.round(t * 1e6)).astype(np.int64) + int(rng.integers(0, 1 << 30))
        return cls(clock, accel, gyro, rate_hz)


@dataclass(frozen=True)
class Faults:
    """Faults to inject. Times are workout seconds (they scale with ``--speed``)."""

    loss: float = 0.0  # probability that a packet is lost before the radio
    corrupt: float = 0.0  # probability that a packet leaves with a flipped byte (CRC fails)
    latency_s: float = 0.0  # wall seconds each packet waits before it is sent
    jitter_s: float = 0.0  # plus a uniform random 0..jitter_s (order is kept, as BLE keeps it)
    disconnect_at_s: tuple[float, ...] = ()
    disconnect_every_s: float | None = None
    brownout_at_s: tuple[float, ...] = ()
    brownout_off_s: float = 0.5  # how long the sensor stays off (workout seconds)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("loss", "corrupt"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability in 0..1, got {value}")
        for name in ("latency_s", "jitter_s", "brownout_off_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.disconnect_every_s is not None and self.disconnect_every_s <= 0:
            raise ValueError(f"disconnect_every_s must be > 0, got {self.disconnect_every_s}")


Fate = Literal["sent", "lost", "corrupt", "unsent"]


@dataclass(slots=True)
class PacketRecord:
    epoch: int  # which START (0, 1, ...): the sequence restarts at each
    seq: int
    first_sample: int  # index into SensorData
    n: int
    created_s: float  # wall clock (time.time()) when the packet's last sample was due
    first_due_s: float  # wall clock when its first sample was due
    fate: Fate = "sent"


@dataclass
class SensorLog:
    """What the sensor did: every packet built, and the link events it caused."""

    packets: list[PacketRecord] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)  # (workout time, what)

    def seqs(self, fate: Fate, epoch: int | None = None) -> list[int]:
        return [p.seq for p in self.packets if p.fate == fate and (epoch is None or p.epoch == epoch)]

    def count(self, fate: Fate) -> int:
        return sum(1 for p in self.packets if p.fate == fate)


# -- the peripheral ---------------------------------------------------------------------------


def _address_for(serial: str) -> str:
    digest = hashlib.sha256(serial.encode()).digest()
    octets = bytearray(digest[:6])
    octets[0] |= 0xC0  # random static address
    return ":".join(f"{o:02X}" for o in octets)


class SimulatedSensor:
    """A RepTrack sensor on a Bumble host; ``start(transport)`` powers it on."""

    def __init__(
        self,
        data: SensorData,
        *,
        serial: str = "SIM00001",
        speed: float = 1.0,
        faults: Faults | None = None,
        accel_range_g: float = 8.0,
        gyro_range_dps: float = 1000.0,
        battery_pct: float = 100.0,
        battery_drain_pct_per_h: float = 20.0,
        max_samples_per_packet: int = 10,
        report: Callable[[str], None] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.data = data
        self.serial = serial
        self.name = self.advertised_name(serial)
        self.address = _address_for(serial)
        self.speed = float(speed)
        self.faults = faults or Faults()
        self.accel_range_g = accel_range_g
        self.gyro_range_dps = gyro_range_dps
        self.native_rate_hz = round(data.rate_hz)
        self.rate_hz = self.native_rate_hz
        self.battery_start_pct = battery_pct
        self.battery_drain_pct_per_h = battery_drain_pct_per_h
        self.max_samples_per_packet = max_samples_per_packet
        self.log = SensorLog()
        self.report = report  # called with a line for every link event (serve prints them)
        self.finished = asyncio.Event()  # every sample has become due
        self.connected = asyncio.Event()

        self._rng = random.Random(self.faults.seed)
        self._t_s = data.t_s
        self._device: Device | None = None
        self._transport: Transport | None = None
        self._controller: RadioController | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._connection: Connection | None = None
        self._streaming_to: Connection | None = None
        self._packetizer: Any = None  # Packetizer, or a vendor profile's encoder
        self._epoch = -1
        self._view: npt.NDArray[np.int64] = np.zeros(0, np.int64)  # sample indices of this START
        self._view_pos = 0
        self._t0_loop: float | None = None  # loop time of the first START: workout time 0
        self._t0_wall: float | None = None
        self._clock_zero_us = 0  # subtracted from the data clock (a reboot restarts the clock)
        self._off_until_s: float | None = None
        self._send_queue: asyncio.Queue[tuple[float, list[bytes], PacketRecord]] = asyncio.Queue()
        self._last_send_at = 0.0
        self._sending = False  # a packet is between the queue and the radio
        self._next_disconnect = sorted(self.faults.disconnect_at_s)
        self._next_brownout = sorted(self.faults.brownout_at_s)
        self._every_next = self.faults.disconnect_every_s
        self._battery_level = int(battery_pct)
        self._imu: Characteristic[bytes] | None = None  # the characteristic samples are notified on
        self._cp: Characteristic[bytes] | None = None
        self._battery: BatteryService | None = None
        self._pending_rate = self.rate_hz
        self._pending_ranges = (accel_range_g, gyro_range_dps)

    # -- what differs between sensor profiles (firmware_sim.polar, firmware_sim.metawear) ------------

    profile = "reptrack"
    advertised_service_uuids: tuple[str, ...] = (SERVICE_UUID,)

    @staticmethod
    def advertised_name(serial: str) -> str:
        return f"RepTrack-{serial[-4:].upper()}"

    def _encode(self, idx: npt.NDArray[np.int64]) -> list[bytes]:
        """The notifications that carry the samples ``idx`` (one RepTrack packet)."""
        assert self._packetizer is not None
        gyro = None if self.data.gyro_dps is None else self.data.gyro_dps[idx]
        return self._packetizer.encode(
            self.data.clock_us[idx] - self._clock_zero_us, self.data.accel_g[idx], gyro
        )

    def _corrupt(self, notifications: list[bytes]) -> list[bytes]:
        """Flip one byte after the header (the packet's CRC then fails)."""
        packet = notifications[0]
        pos = self._rng.randrange(12, len(packet) - 2)
        return [packet[:pos] + bytes([packet[pos] ^ 0x5A]) + packet[pos + 1 :], *notifications[1:]]

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, transport: Transport) -> None:
        """Power on over ``transport`` (Bumble HCI), build the GATT profile and advertise."""
        self._transport = transport
        self._controller = getattr(transport, "controller", None)
        device = Device.with_hci(self.name, hci.Address(self.address), transport.source, transport.sink)
        self._device = device
        self._build_gatt(device)
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        await device.power_on()
        await self._advertise()
        self._tasks += [
            asyncio.create_task(self._produce(), name=f"{self.name} producer"),
            asyncio.create_task(self._send(), name=f"{self.name} sender"),
        ]

    async def stop(self) -> None:
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._device is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._device.power_off(), 2.0)
        if self._transport is not None:
            await self._transport.close()

    def _note(self, what: str) -> None:
        at_s = self.workout_time_s
        self.log.events.append((at_s, what))
        if self.report is not None:
            self.report(f"[{at_s:7.2f} s] {what}")

    @property
    def workout_time_s(self) -> float:
        """Workout seconds since the first START (0 before it)."""
        if self._t0_loop is None:
            return 0.0
        return (asyncio.get_running_loop().time() - self._t0_loop) * self.speed

    @property
    def start_wall_s(self) -> float | None:
        """Wall clock (``time.time()``) of workout time 0, the first START; None before it."""
        return self._t0_wall

    @property
    def battery_pct(self) -> int:
        return self._battery_level

    # -- GATT profile (docs/protocol.md "GATT profile") -------------------------------------------

    def _build_gatt(self, device: Device) -> None:
        self._imu = Characteristic(
            IMU_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self._cp = Characteristic(
            CONTROL_POINT_UUID,
            Characteristic.Properties.WRITE | Characteristic.Properties.INDICATE,
            Characteristic.WRITEABLE,
            CharacteristicValue[bytes](write=self._on_control_point),
        )
        config: Characteristic[bytes] = Characteristic(
            CONFIGURATION_UUID,
            Characteristic.Properties.READ,
            Characteristic.READABLE,
            CharacteristicValue[bytes](read=self._read_config),
        )
        device.add_service(Service(SERVICE_UUID, [self._imu, self._cp, config]))
        self._battery = BatteryService(lambda _connection: self._battery_level)
        device.add_service(self._battery)
        device.add_service(
            DeviceInformationService(
                manufacturer_name="RepTrack",
                model_number="RT-1 (simulated)",
                serial_number=self.serial,
                firmware_revision=f"sim-{__version__}",
            )
        )

    def _spp_for(self, connection: Connection | None) -> int:
        mtu = connection.att_mtu if connection is not None else 23
        return min(
            self.max_samples_per_packet, samples_per_packet_for_mtu(mtu, self.data.gyro_dps is not None)
        )

    def _read_config(self, connection: Connection) -> bytes:
        return SensorConfig(
            rate_hz=self.rate_hz,
            accel_range_g=self.accel_range_g,
            gyro_range_dps=self.gyro_range_dps,
            samples_per_packet=self._spp_for(connection),
            streaming=self._streaming_to is connection and connection is not None,
            has_gyro=self.data.gyro_dps is not None,
        ).encode()

    def _on_control_point(self, connection: Connection, value: bytes) -> None:
        value = bytes(value)
        opcode = value[0] if value else 0
        result = self._command(connection, value)
        self._spawn(self._indicate(connection, encode_response(opcode, result)))

    async def _indicate(self, connection: Connection, response: bytes) -> None:
        assert self._device is not None and self._cp is not None
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._device.indicate_subscriber(connection, self._cp, response), 2.0)

    def _command(self, connection: Connection, value: bytes) -> Result:
        if not value:
            return Result.INVALID_PARAMETER
        try:
            opcode = Opcode(value[0])
        except ValueError:
            return Result.OPCODE_NOT_SUPPORTED
        if opcode == Opcode.START:
            if len(value) != 1:
                return Result.INVALID_PARAMETER
            return self._start_streaming(connection)
        if opcode == Opcode.STOP:
            if len(value) != 1:
                return Result.INVALID_PARAMETER
            if self._streaming_to is connection:
                self._streaming_to = None
            return Result.SUCCESS
        if opcode == Opcode.SET_RATE:
            if len(value) != 3:
                return Result.INVALID_PARAMETER
            (rate,) = struct.unpack_from("<H", value, 1)
            if rate not in SUPPORTED_RATES_HZ:
                return Result.INVALID_PARAMETER
            if self.native_rate_hz % rate:
                return Result.OPERATION_FAILED  # the simulator cannot invent samples
            self._pending_rate = rate
            return Result.SUCCESS
        if opcode == Opcode.SET_RANGES:
            if len(value) != 3 or value[1] >= len(ACCEL_RANGES_G) or value[2] >= len(GYRO_RANGES_DPS):
                return Result.INVALID_PARAMETER
            self._pending_ranges = (ACCEL_RANGES_G[value[1]], GYRO_RANGES_DPS[value[2]])
            return Result.SUCCESS
        return Result.OPCODE_NOT_SUPPORTED

    def _start_streaming(self, connection: Connection) -> Result:
        spp = self._spp_for(connection)
        if spp < 1:
            return Result.OPERATION_FAILED
        if self._off_until_s is not None:
            return Result.OPERATION_FAILED
        self.rate_hz = self._pending_rate
        self.accel_range_g, self.gyro_range_dps = self._pending_ranges
        packetizer = Packetizer(
            rate_hz=self.rate_hz,
            samples_per_packet=spp,
            accel_range_g=self.accel_range_g,
            gyro_range_dps=self.gyro_range_dps,
            with_gyro=self.data.gyro_dps is not None,
        )
        self._begin_stream(connection, packetizer)
        return Result.SUCCESS

    def _begin_stream(self, connection: Connection, packetizer: Any) -> None:
        """Stream to ``connection`` from now on, ``packetizer.samples_per_packet`` samples at a time.

        ``packetizer`` is a :class:`Packetizer` or any object with ``samples_per_packet`` and
        ``seq`` that :meth:`_encode` understands (the vendor profiles' encoders).
        """
        loop = asyncio.get_running_loop()
        if self._t0_loop is None:
            self._t0_loop = loop.time()
            self._t0_wall = time.time()
        self._packetizer = packetizer
        step = self.native_rate_hz // self.rate_hz
        # The first START is workout time 0; a later one picks up where the athlete is now.
        first = 0 if self._epoch < 0 else int(np.searchsorted(self._t_s, self.workout_time_s))
        self._view = np.arange(first, len(self.data), step, dtype=np.int64)
        self._view_pos = 0
        self._epoch += 1
        self._streaming_to = connection
        self._note(f"start epoch {self._epoch} spp {packetizer.samples_per_packet}")

    # -- advertising and connections -----------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def _advertise(self) -> None:
        assert self._device is not None
        if self._stopping:
            return
        fields = [(AdvertisingData.FLAGS, bytes([0x06]))]  # LE general discoverable, no BR/EDR
        if self.advertised_service_uuids:
            uuids = b"".join(bytes(UUID(u)) for u in self.advertised_service_uuids)
            fields.append((AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, uuids))
        adv = AdvertisingData(fields)
        scan_response = AdvertisingData([(AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode())])
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._device.stop_advertising(), 2.0)
        with contextlib.suppress(Exception):
            await self._device.start_advertising(
                advertising_data=bytes(adv),
                scan_response_data=bytes(scan_response),
                advertising_interval_min=ADVERTISING_INTERVAL_MS,
                advertising_interval_max=ADVERTISING_INTERVAL_MS,
            )

    def _on_connection(self, connection: Connection) -> None:
        if connection.transport != PhysicalTransport.LE:
            return
        logger.info("%s: connected to %s", self.name, connection.peer_address)
        self._connection = connection
        self.connected.set()
        self._note("connected")
        connection.on(
            Connection.EVENT_DISCONNECTION, lambda reason: self._on_disconnection(connection, reason)
        )

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        logger.info("%s: disconnected (reason 0x%02x)", self.name, reason)
        self._note(f"disconnected 0x{reason:02x}")
        if self._connection is connection:
            self._connection = None
            self.connected.clear()
        if self._streaming_to is connection:
            self._streaming_to = None
        if self._off_until_s is None and not self._stopping:
            self._spawn(self._advertise())

    async def _disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._note("fault: disconnect")
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                connection.disconnect(hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR), 2.0
            )

    async def _brownout(self, at_s: float) -> None:
        """Power loss: the link dies without a word, the sensor is off, then it reboots."""
        self._note("fault: brown-out")
        self._off_until_s = at_s + self.faults.brownout_off_s
        self._streaming_to = None
        device = self._device
        assert device is not None
        with contextlib.suppress(Exception):
            await device.stop_advertising()
        if self._controller is not None:
            # The controller forgets its links; the peer times out (supervision timeout).
            self._controller.power_cycle(notify_host=True)
        else:  # a real controller cannot lose its power from here: disconnect instead
            await self._disconnect()

    async def _reboot(self) -> None:
        self._off_until_s = None
        idx = int(np.searchsorted(self._t_s, self.workout_time_s))
        idx = min(idx, len(self.data) - 1)
        self._clock_zero_us = int(self.data.clock_us[idx])  # the clock restarts at 0
        self._note("reboot")
        await self._advertise()

    # -- producing and sending packets -------------------------------------------------------------

    async def _produce(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(TICK_S)
            if self._t0_loop is None:
                continue
            now_s = self.workout_time_s
            await self._faults_due(now_s)
            self._update_battery(now_s)
            if now_s >= self.data.duration_s:
                self.finished.set()
            if self._packetizer is None or self._off_until_s is not None:
                continue
            streaming = self._streaming_to is not None
            while self._view_pos < self._view.size:
                k = self._packetizer.samples_per_packet
                idx = self._view[self._view_pos : self._view_pos + k]
                if self._t_s[idx[-1]] > now_s or (idx.size < k and now_s < self.data.duration_s):
                    break
                self._view_pos += idx.size
                if not streaming:
                    continue  # the sensor is not streaming: samples are not taken
                self._emit(idx, loop.time())

    def _emit(self, idx: npt.NDArray[np.int64], now_loop: float) -> None:
        assert self._packetizer is not None and self._t0_wall is not None
        seq = self._packetizer.seq
        notifications = self._encode(idx)
        rec = PacketRecord(
            epoch=self._epoch,
            seq=seq,
            first_sample=int(idx[0]),
            n=int(idx.size),
            created_s=self._t0_wall + float(self._t_s[idx[-1]]) / self.speed,
            first_due_s=self._t0_wall + float(self._t_s[idx[0]]) / self.speed,
        )
        self.log.packets.append(rec)
        f = self.faults
        if f.loss and self._rng.random() < f.loss:
            rec.fate = "lost"
            return
        if f.corrupt and self._rng.random() < f.corrupt:
            rec.fate = "corrupt"
            notifications = self._corrupt(notifications)
        send_at = now_loop + f.latency_s + (self._rng.uniform(0, f.jitter_s) if f.jitter_s else 0.0)
        send_at = max(send_at, self._last_send_at)
        self._last_send_at = send_at
        self._send_queue.put_nowait((send_at, notifications, rec))

    async def all_sent(self, poll_s: float = 0.05) -> None:
        """Wait until every packet built so far has left the sensor and its controller (a fast
        workout can outrun the radio: packets then wait in the host's and controller's queues)."""
        while not self._send_queue.empty() or self._sending or self._radio_pending():
            await asyncio.sleep(poll_s)

    def _radio_pending(self) -> int:
        """ACL packets not yet on the air: in Bumble's host queue, or waiting for a connection event
        of the virtual radio."""
        host = getattr(self._device, "host", None)
        queue = getattr(host, "le_acl_packet_queue", None) or getattr(host, "acl_packet_queue", None)
        if self._connection is None:
            return 0
        link = getattr(self._controller, "link", None)
        controller = self._controller
        on_air = link.queued_pdus(controller) if isinstance(link, RadioLink) and controller is not None else 0
        return int(getattr(queue, "pending", 0) or 0) + on_air

    async def _send(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._device is not None and self._imu is not None
        while True:
            self._sending = False
            send_at, notifications, rec = await self._send_queue.get()
            self._sending = True
            delay = send_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            connection = self._streaming_to
            if connection is None or rec.epoch != self._epoch:
                if rec.fate == "sent":
                    rec.fate = "unsent"
                continue
            try:
                for packet in notifications:
                    await self._device.notify_subscriber(connection, self._imu, packet)
            except Exception:
                if rec.fate == "sent":
                    rec.fate = "unsent"

    async def _faults_due(self, now_s: float) -> None:
        while self._next_disconnect and self._next_disconnect[0] <= now_s:
            self._next_disconnect.pop(0)
            await self._disconnect()
        if self._every_next is not None and now_s >= self._every_next:
            self._every_next += self.faults.disconnect_every_s or 0.0
            await self._disconnect()
        while self._next_brownout and self._next_brownout[0] <= now_s:
            await self._brownout(self._next_brownout.pop(0))
        if self._off_until_s is not None and now_s >= self._off_until_s:
            await self._reboot()

    def _update_battery(self, now_s: float) -> None:
        level = max(0, math.ceil(self.battery_start_pct - self.battery_drain_pct_per_h * now_s / 3600.0))
        if level != self._battery_level:
            self._battery_level = level
            if self._device is not None and self._battery is not None and self._connection is not None:
                self._spawn(self._notify_battery(level))

    async def _notify_battery(self, level: int) -> None:
        assert self._device is not None and self._battery is not None
        with contextlib.suppress(Exception):
            await self._device.notify_subscribers(self._battery.battery_level_characteristic, level)


# -- a simulated sensor on the in-process radio -----------------------------------------------


@dataclass
class SimulatedSensorHandle:
    """What a client needs to reach a sensor started by :func:`simulated_sensor`."""

    sensor: SimulatedSensor
    radio: VirtualRadio
    transport: str  # Bumble transport spec for the client ("virtual:<name>")

    @property
    def name(self) -> str:
        return self.sensor.name

    @property
    def address(self) -> str:
        return self.sensor.address

    def link_config(self, **overrides: Any) -> Any:
        """A :class:`tracker.ble.LinkConfig` that reaches this sensor with the Bumble backend."""
        from tracker.ble import LinkConfig

        options: dict[str, Any] = {"device": self.name, "backend": "bumble", "transport": self.transport}
        options.update(overrides)
        return LinkConfig(**options)


PROFILES = ("reptrack", "polar", "metawear")
NATIVE_RATE_HZ = {"reptrack": 100.0, "polar": 104.0, "metawear": 100.0}  # what each sensor samples at


def load_sensor_data(spec: str, seed: int = 0, rate_hz: float = 100.0) -> SensorData:
    """``synthetic:SECONDS``, or a workout (``builtin:NAME`` or a TOML path) run by the simulator
    at ``rate_hz`` (a Polar sensor samples at 104 Hz: NATIVE_RATE_HZ)."""
    from tracker.errors import UserError

    if spec.startswith("synthetic:"):
        try:
            seconds = float(spec.partition(":")[2])
        except ValueError:
            raise UserError(f"workout {spec!r}: expected synthetic:SECONDS") from None
        if seconds <= 0:
            raise UserError(f"workout {spec!r}: the duration must be positive")
        return SensorData.synthetic(seconds, rate_hz=rate_hz, seed=seed)
    from firmware_sim.session import simulate
    from firmware_sim.workout import load_workout

    return SensorData.from_session(simulate(load_workout(spec), seed=seed, rate_hz=rate_hz))
