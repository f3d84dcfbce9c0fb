"""The sensor link: find a sensor, connect, stream, and keep streaming through drops.

Written against bleak's public API only (``BleakScanner``, ``BleakClient``); the backend is
bleak's platform default (BlueZ on Linux) or our Bumble backend, chosen by
:attr:`LinkConfig.backend` or ``REPTRACK_BLE_BACKEND``. Nothing above this module knows which.

What differs between sensors (RepTrack, Polar PMD, MetaWear) is their profile
(tracker.ble.profiles): chosen from the advertisement, the GATT services or
:attr:`LinkConfig.profile`. Every step has a timeout. After a drop the link reconnects with
exponential backoff and the profile starts the stream again; the one decoder of the session
carries on, so the consumer sees a ``restart`` or ``gap`` placed on the same session clock, and
the samples that were never sent as a hole in time, never as a shift.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice

from tracker.ble.profiles import (
    PROFILE_KINDS,
    ProfileError,
    RepTrackProfile,
    SensorProfile,
    profile_by_kind,
    profile_for_advertisement,
    profile_for_services,
)
from tracker.codecs import PacketDecoder
from tracker.errors import UserError
from tracker.protocol import (
    BATTERY_LEVEL_UUID,
    FIRMWARE_REVISION_UUID,
    MANUFACTURER_NAME_UUID,
    MODEL_NUMBER_UUID,
    SERIAL_NUMBER_UUID,
    Opcode,
    SensorConfig,
    StreamDecoder,
    StreamNotice,
)
from tracker.samples import Samples

logger = logging.getLogger(__name__)

BACKEND_ENV = "REPTRACK_BLE_BACKEND"
BACKENDS = ("bleak", "bumble")
_ADDRESS = re.compile(
    r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(/P)?$|^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$"
)

T = TypeVar("T")


class LinkError(UserError):
    """The sensor could not be reached, or stopped answering for good."""


class StepTimeout(LinkError):
    """One step of talking to the sensor (scan, connect, read, subscribe, command) took too long."""


@dataclass(frozen=True)
class LinkConfig:
    """How to reach a sensor. ``device`` is a Bluetooth address or an advertised name."""

    device: str
    backend: str | None = None  # "bleak" (platform default), "bumble"; None: $REPTRACK_BLE_BACKEND or bleak
    transport: str | None = None  # Bumble HCI transport (usb:0, tcp-client:HOST:PORT, virtual:NAME)
    scan_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    step_timeout_s: float = 5.0  # each read, subscribe and command
    reconnect: bool = True
    backoff_first_s: float = 0.1
    backoff_max_s: float = 5.0
    give_up_after_s: float | None = 300.0  # None: retry for ever
    rate_hz: int | None = None  # ask the sensor for this rate (SET_RATE) before START
    accel_range_g: float | None = None
    gyro_range_dps: float | None = None
    chunk_s: float = 0.1  # stream() yields at most this long after a packet arrives
    connection_interval_ms: tuple[float, float] | None = None  # Bumble backend: (min, max), 7.5..4000
    profile: str | None = None  # "reptrack", "polar", "metawear"; None: recognised from the sensor

    def resolved_backend(self) -> str:
        name = self.backend or os.environ.get(BACKEND_ENV) or ("bumble" if self.transport else "bleak")
        if name not in BACKENDS:
            raise UserError(f"unknown BLE backend {name!r}; expected one of {', '.join(BACKENDS)}")
        return name


def bleak_options(config: LinkConfig) -> dict[str, Any]:
    """Keyword arguments that make ``BleakScanner``/``BleakClient`` use the configured backend."""
    if config.resolved_backend() == "bleak":
        return {}
    from tracker.ble.bumble_backend import BumbleBleakClient, BumbleBleakScanner

    bumble: dict[str, Any] = {}
    if config.transport:
        bumble["transport"] = config.transport
    if config.connection_interval_ms is not None:
        bumble["connection_interval_ms"] = config.connection_interval_ms
    return {"bumble": bumble, "_client": BumbleBleakClient, "_scanner": BumbleBleakScanner}


def _scanner_kwargs(config: LinkConfig) -> dict[str, Any]:
    opts = bleak_options(config)
    if not opts:
        return {}
    return {"backend": opts["_scanner"], "bumble": opts["bumble"]}


def _client_kwargs(config: LinkConfig) -> dict[str, Any]:
    opts = bleak_options(config)
    if not opts:
        return {}
    return {"backend": opts["_client"], "bumble": opts["bumble"]}


@dataclass(frozen=True)
class DeviceInfo:
    name: str
    address: str
    manufacturer: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    battery_pct: int | None
    config: SensorConfig
    mtu: int
    backend: str
    profile: str = "reptrack"  # which sensor profile it speaks (tracker.ble.profiles)
    codec: str = "reptrack"  # the codec of its notifications (tracker.codecs; recordings keep it)


@dataclass(frozen=True)
class LinkEvent:
    """Something that happened to the link (``connected``, ``disconnected``, ``reconnected``, ``battery``)."""

    kind: str
    host_time_s: float
    detail: str = ""


@dataclass
class StreamChunk:
    """What arrived since the last chunk: decoded samples, stream notices, raw packets, link events."""

    samples: Samples
    notices: list[StreamNotice] = field(default_factory=list)
    packets: list[bytes] = field(default_factory=list)
    host_times_s: list[float] = field(default_factory=list)
    events: list[LinkEvent] = field(default_factory=list)


@dataclass(frozen=True)
class FoundDevice:
    address: str
    name: str | None
    rssi: int
    kind: str | None  # the sensor profile it advertises ("reptrack", "polar", "metawear"), None: none

    @property
    def is_reptrack(self) -> bool:
        return self.kind == "reptrack"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, UserError) or not text else text


NO_BLUEZ_HINT = (
    " (the bleak backend talks to BlueZ over the D-Bus system bus, and neither answered: start "
    "bluetoothd and D-Bus, or in a container share /run/dbus/system_bus_socket; or drive a USB "
    "Bluetooth dongle directly with --backend bumble --transport usb:0)"
)


def bluetooth_stack_hint(exc: BaseException) -> str:
    """What to do when the platform's Bluetooth stack is missing (the bare error is only
    "[Errno 2] No such file or directory": the D-Bus socket). Empty for any other error."""
    text = str(exc).lower()
    missing_socket = isinstance(exc, FileNotFoundError | ConnectionRefusedError | PermissionError)
    if missing_socket or "org.bluez" in text or "dbus" in text or "no bluetooth adapters" in text:
        return NO_BLUEZ_HINT
    return ""


async def _step(what: str, awaitable: Awaitable[T], timeout_s: float) -> T:
    try:
        return await asyncio.wait_for(awaitable, timeout_s)
    except TimeoutError:
        raise StepTimeout(f"{what}: no answer within {timeout_s:g} s") from None


async def scan(config: LinkConfig, timeout_s: float = 5.0, all_devices: bool = False) -> list[FoundDevice]:
    """Devices heard within ``timeout_s``: supported sensors only unless ``all_devices``."""
    found = await BleakScanner.discover(timeout=timeout_s, return_adv=True, **_scanner_kwargs(config))
    out = []
    for device, adv in found.values():
        name = adv.local_name or device.name
        profile = profile_for_advertisement(name, list(adv.service_uuids))
        if all_devices or profile is not None:
            out.append(FoundDevice(device.address, name, adv.rssi, None if profile is None else profile.kind))
    return sorted(out, key=lambda d: -d.rssi)


class SensorLink:
    """A live link to one sensor. Use as ``async with SensorLink(config) as link``."""

    def __init__(self, config: LinkConfig) -> None:
        self.config = config
        self.backend = config.resolved_backend()
        if config.profile is not None and config.profile not in PROFILE_KINDS:
            raise UserError(
                f"unknown sensor profile {config.profile!r}; expected one of {', '.join(PROFILE_KINDS)}"
            )
        self.decoder: PacketDecoder = StreamDecoder()  # replaced by the profile's on the first connect
        self.profile: SensorProfile | None = None
        self._advertised: type[SensorProfile] | None = None
        self.device_info: DeviceInfo | None = None
        self.reconnects = 0
        self._client: BleakClient | None = None
        self._incoming: list[tuple[float, bytes]] = []
        self._events: list[LinkEvent] = []
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._closed = False
        self._closing: asyncio.Future[None] | None = None
        self._battery: int | None = None
        self._rate_window: list[tuple[float, int]] = []  # (host time, samples) for the live rate
        self._connected_since: float | None = None

    async def __aenter__(self) -> SensorLink:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connecting ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Find, connect, read the device information, subscribe and START. Raises LinkError."""
        try:
            await self._connect_once()
        except UserError:
            await self._drop_client()
            raise
        except Exception as exc:  # bleak's, the platform's or Bumble's own errors
            await self._drop_client()
            hint = bluetooth_stack_hint(exc) if self.backend == "bleak" else ""
            raise LinkError(f"cannot connect to {self.config.device!r}: {_describe(exc)}{hint}") from exc
        except BaseException:
            await self._drop_client()
            raise
        self._event("connected", self.device_info.address if self.device_info else "")

    async def _find(self) -> BLEDevice | str:
        cfg = self.config
        if _ADDRESS.match(cfg.device):
            if self.backend == "bumble":
                return cfg.device  # Bumble connects by address directly
            device = await BleakScanner.find_device_by_address(cfg.device, timeout=cfg.scan_timeout_s)
        else:
            name = cfg.device

            def wanted(d: BLEDevice, ad: Any) -> bool:
                if ad.local_name != name and d.name != name:
                    return False
                self._advertised = profile_for_advertisement(name, list(ad.service_uuids))
                return True

            device = await BleakScanner.find_device_by_filter(
                wanted, timeout=cfg.scan_timeout_s, **_scanner_kwargs(cfg)
            )
        if device is None:
            raise LinkError(
                f"no sensor {cfg.device!r} heard within {cfg.scan_timeout_s:g} s "
                f"(backend {self.backend}{', transport ' + cfg.transport if cfg.transport else ''}); "
                "is it on and advertising? 'reptrack scan' lists what is in range"
            )
        return device

    @property
    def client(self) -> BleakClient:
        """The connected client (profiles use it while they start the stream)."""
        if self._client is None:
            raise LinkError(f"not connected to {self.config.device!r}")
        return self._client

    async def step(self, what: str, awaitable: Awaitable[T]) -> T:
        """One step of talking to the sensor, with the configured timeout (profiles use it)."""
        return await _step(what, awaitable, self.config.step_timeout_s)

    def _profile_class(self, client: BleakClient | None) -> type[SensorProfile] | None:
        if self.config.profile is not None:
            return profile_by_kind(self.config.profile)
        if self.profile is not None:
            return type(self.profile)
        if self._advertised is not None or client is None:
            return self._advertised
        return profile_for_services(lambda uuid: client.services.get_service(uuid) is not None)

    async def _connect_once(self) -> None:
        cfg = self.config
        target = await _step("scanning", self._find(), cfg.scan_timeout_s + 2.0)
        self._lost.clear()
        known = self._profile_class(None)
        client = BleakClient(
            target,
            disconnected_callback=self._on_disconnected,
            services=None if known is None else known().services(),
            timeout=cfg.connect_timeout_s,
            **_client_kwargs(cfg),
        )
        self._client = client
        await _step(f"connecting to {cfg.device}", client.connect(), cfg.connect_timeout_s + 2.0)
        kind = self._profile_class(client)
        if kind is None:
            raise LinkError(
                f"{cfg.device!r} is not a sensor RepTrack knows: it has none of the "
                f"{', '.join(PROFILE_KINDS)} services (docs/sensors.md)"
            )
        if self.profile is None or type(self.profile) is not kind:
            self.profile = kind()
        info = await self._device_information(client)
        await self._subscribe_battery(client)
        try:
            setup = await self.profile.start(self)
        except ProfileError as exc:
            raise LinkError(str(exc)) from exc
        if setup.battery_pct is not None:
            self._battery = setup.battery_pct
        if self.device_info is None or self.device_info.codec != setup.codec:
            self.decoder = self.profile.new_decoder(setup)  # a reconnect keeps the session's decoder
        name = client.name if not isinstance(target, BLEDevice) or not target.name else target.name
        if _ADDRESS.match(cfg.device) is None:
            name = cfg.device
        self.device_info = DeviceInfo(
            name=name,
            address=client.address,
            battery_pct=self._battery,
            config=setup.config,
            mtu=client.mtu_size,
            backend=self.backend,
            profile=self.profile.kind,
            codec=setup.codec,
            **info,
        )
        self._connected_since = time.time()

    async def _device_information(self, client: BleakClient) -> dict[str, str | None]:
        """Device Information strings (read once per device: a reconnect reuses them)."""
        previous = self.device_info
        keys = ("manufacturer", "model", "serial", "firmware")
        if previous is not None and previous.address == client.address:
            return {k: getattr(previous, k) for k in keys}

        async def read_text(uuid: str) -> str | None:
            if client.services.get_characteristic(uuid) is None:
                return None
            raw = await self.step(f"reading {uuid}", client.read_gatt_char(uuid))
            return bytes(raw).decode("utf-8", "replace").rstrip("\x00")

        uuids = (MANUFACTURER_NAME_UUID, MODEL_NUMBER_UUID, SERIAL_NUMBER_UUID, FIRMWARE_REVISION_UUID)
        return {k: await read_text(u) for k, u in zip(keys, uuids, strict=True)}

    async def _subscribe_battery(self, client: BleakClient) -> None:
        """The standard Battery service, when the sensor has one: read it, follow its notifications."""
        battery_char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
        if battery_char is None:
            return
        raw = await self.step("reading the battery level", client.read_gatt_char(BATTERY_LEVEL_UUID))
        self._battery = raw[0] if raw else None
        if "notify" in battery_char.properties:
            await self.step(
                "subscribing to the battery level", client.start_notify(battery_char, self._on_battery)
            )

    async def command(self, opcode: Opcode, *params: int) -> None:
        """Write a RepTrack control point command and wait for its answer; LinkError if refused."""
        assert self._client is not None
        if not isinstance(self.profile, RepTrackProfile):
            raise LinkError(f"{self.config.device!r} is not a RepTrack sensor: no control point commands")
        try:
            await self.profile.command(self, opcode, *params)
        except ProfileError as exc:
            raise LinkError(str(exc)) from exc

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 3.0)

    async def close(self) -> None:
        """Stop streaming and disconnect (best effort: the sensor may be gone already)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        self._closed = True
        self._wake.set()
        client = self._client
        if client is not None and client.is_connected and self.profile is not None:
            try:
                await asyncio.wait_for(self.profile.stop(client), 1.0)
            except (Exception, asyncio.CancelledError):
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
        await self._drop_client()

    # -- callbacks (bleak calls these in the event loop) ------------------------------------------

    def on_packet(self, _char: Any, data: bytearray) -> None:
        """A notification that carries samples (the profile subscribes it)."""
        self._incoming.append((time.time(), bytes(data)))
        self._wake.set()

    def _on_battery(self, _char: Any, data: bytearray) -> None:
        if data:
            self._battery = int(data[0])
            self._event("battery", str(self._battery))

    def _on_disconnected(self, _client: BleakClient) -> None:
        if not self._closed:
            self._event("disconnected", "")
        self._lost.set()
        self._wake.set()

    def _event(self, kind: str, detail: str) -> None:
        self._events.append(LinkEvent(kind, time.time(), detail))
        self._wake.set()

    # -- streaming ---------------------------------------------------------------------------------

    async def stream(self) -> AsyncIterator[StreamChunk]:
        """Yield what arrives, in chunks, until :meth:`close`; reconnect after drops.

        Raises :class:`LinkError` when the sensor stays away longer than ``give_up_after_s``
        (what arrived before is yielded first).
        """
        while not self._closed:
            if not self._incoming and not self._events and not self._lost.is_set():
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                if self._incoming and self.config.chunk_s > 0:
                    await asyncio.sleep(self.config.chunk_s)  # let a few packets gather
            chunk = self._take()
            if chunk is not None:
                yield chunk
            if self._lost.is_set() and not self._closed:
                if not self.config.reconnect:
                    raise LinkError(f"lost the link to {self.config.device!r}")
                await self._reconnect()
        chunk = self._take()  # what arrived while closing
        if chunk is not None:
            yield chunk

    def _take(self) -> StreamChunk | None:
        if not self._incoming and not self._events:
            return None
        arrived, self._incoming = self._incoming, []
        events, self._events = self._events, []
        packets = [p for _, p in arrived]
        host = [h for h, _ in arrived]
        if packets:
            samples, notices = self.decoder.feed(packets, host)
            self._rate_window.append((host[-1], len(samples)))
        else:
            samples, notices = Samples.empty(), []
        return StreamChunk(samples, notices, packets, host, events)

    async def _reconnect(self) -> None:
        cfg = self.config
        await self._drop_client()
        self._connected_since = None
        started = time.monotonic()
        delay = cfg.backoff_first_s
        attempt = 0
        while not self._closed:
            attempt += 1
            await asyncio.sleep(delay)
            try:
                await self._connect_once()
            except Exception as exc:  # any failure of one attempt: try again later
                logger.info("reconnect attempt %d to %s failed: %s", attempt, cfg.device, _describe(exc))
                await self._drop_client()
                if cfg.give_up_after_s is not None and time.monotonic() - started > cfg.give_up_after_s:
                    raise LinkError(
                        f"lost {cfg.device!r} and could not reconnect within {cfg.give_up_after_s:g} s: "
                        f"{_describe(exc)}"
                    ) from exc
                delay = min(delay * 2, cfg.backoff_max_s)
                continue
            self.reconnects += 1
            self._event("reconnected", f"after {time.monotonic() - started:.2f} s, attempt {attempt}")
            return

    # -- telemetry -------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected and not self._lost.is_set()

    @property
    def telemetry(self) -> dict[str, Any]:
        """Battery, packet loss, live rate, reconnects: what the service publishes as telemetry."""
        stats = self.decoder.stats
        now = time.time()
        self._rate_window = [(h, n) for h, n in self._rate_window if now - h <= 5.0]
        rate = 0.0
        if len(self._rate_window) >= 2:
            span = self._rate_window[-1][0] - self._rate_window[0][0]
            if span > 0:
                rate = sum(n for _, n in self._rate_window[1:]) / span
        return {
            "connected": self.connected,
            "battery_pct": self._battery,
            "packet_loss": stats.loss_ratio,
            "packets": stats.packets,
            "lost_packets": stats.lost_packets,
            "lost_samples": stats.lost_samples,
            "duplicates": stats.duplicates,
            "corrupt": stats.corrupt,
            "restarts": stats.restarts,
            "rate_hz": rate,
            "reconnects": self.reconnects,
            "backend": self.backend,
        }
