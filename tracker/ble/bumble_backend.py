"""A bleak backend built on Bumble: bleak's client and scanner API over any HCI controller.

Bumble is a complete Bluetooth host in Python. Behind bleak's :class:`BaseBleakClient` and
:class:`BaseBleakScanner` it lets the same client code talk to a USB dongle, a controller exposed
over TCP or serial, or a controller on an in-process virtual radio (see
:mod:`tracker.ble.transports`). Pass ``backend=BumbleBleakClient`` / ``BumbleBleakScanner`` to
bleak, with ``bumble={"transport": SPEC}`` or the ``REPTRACK_BLE_TRANSPORT`` variable.

A scanner and the clients of one process share one Bumble host per transport (a dongle can be
opened only once); the host closes when the last of them lets go.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bleak.uuids import normalize_uuid_str
from bumble import hci
from bumble.att import ATT_Error
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, ConnectionParametersPreferences, Device, Peer
from bumble.gatt import Characteristic
from bumble.gatt_client import CharacteristicProxy
from bumble.transport.common import Transport

from tracker.ble.transports import default_transport, open_hci_transport

logger = logging.getLogger(__name__)

PREFERRED_MTU = 247  # fits a 10-sample packet with gyro (136 bytes) with room to spare
DEFAULT_CONNECTION_INTERVAL_MS = (15.0, 30.0)  # a controller takes the minimum; phones often 15-30
DEFAULT_SUPERVISION_TIMEOUT_MS = 720


def _transport_spec(options: dict[str, Any] | None) -> str:
    spec = (options or {}).get("transport") or default_transport()
    if not spec:
        raise BleakError(
            "the Bumble backend needs an HCI transport: pass bumble={'transport': ...} "
            "or set REPTRACK_BLE_TRANSPORT (e.g. usb:0, tcp-client:127.0.0.1:9001)"
        )
    return str(spec)


def _random_static_address() -> hci.Address:
    octets = [random.randrange(256) for _ in range(6)]
    octets[0] |= 0xC0
    return hci.Address(":".join(f"{o:02X}" for o in octets), hci.Address.RANDOM_DEVICE_ADDRESS)


def uuid_str(uuid: UUID) -> str:
    """A Bumble UUID as bleak spells it: 128-bit, lower case, with dashes."""
    h = uuid.to_hex_str().lower()
    if len(h) <= 8:
        return normalize_uuid_str(h)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# -- one Bumble host per transport, shared ------------------------------------------------------


@dataclass
class _SharedHost:
    spec: str
    transport: Transport
    device: Device
    users: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one LE connect at a time


_hosts: dict[tuple[int, str], _SharedHost] = {}
_hosts_lock: dict[int, asyncio.Lock] = {}


async def acquire_host(spec: str) -> _SharedHost:
    loop_id = id(asyncio.get_running_loop())
    lock = _hosts_lock.setdefault(loop_id, asyncio.Lock())
    async with lock:
        shared = _hosts.get((loop_id, spec))
        if shared is None:
            transport = await open_hci_transport(spec)
            device = Device.with_hci("reptrack", _random_static_address(), transport.source, transport.sink)
            try:
                await asyncio.wait_for(device.power_on(), 10.0)
            except BaseException:
                await transport.close()
                raise
            shared = _SharedHost(spec, transport, device)
            _hosts[(loop_id, spec)] = shared
        shared.users += 1
        return shared


async def release_host(shared: _SharedHost) -> None:
    loop_id = id(asyncio.get_running_loop())
    lock = _hosts_lock.setdefault(loop_id, asyncio.Lock())
    async with lock:
        shared.users -= 1
        if shared.users > 0:
            return
        _hosts.pop((loop_id, shared.spec), None)
        try:
            await asyncio.wait_for(shared.device.power_off(), 2.0)
        except (TimeoutError, Exception):  # closing anyway
            logger.debug("power off of the Bumble host failed", exc_info=True)
        await shared.transport.close()


# -- scanner ----------------------------------------------------------------------------------


def advertisement_data(adv: Advertisement) -> AdvertisementData:
    """Bumble's parsed advertisement (with its scan response merged) in bleak's form."""
    data = adv.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(AdvertisingData.SHORTENED_LOCAL_NAME)
    uuids: list[str] = []
    for kind in (
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    ):
        uuid_values: list[Any] = list(data.get_all(kind))
        for value in uuid_values:
            uuids.extend(uuid_str(u) for u in (value if isinstance(value, list) else [value]))
    manufacturer: dict[int, bytes] = {}
    manufacturer_values: list[Any] = list(data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA))
    for value in manufacturer_values:
        company, payload = value
        manufacturer[int(company)] = bytes(payload)
    service_data: dict[str, bytes] = {}
    for kind in (
        AdvertisingData.SERVICE_DATA_16_BIT_UUID,
        AdvertisingData.SERVICE_DATA_32_BIT_UUID,
        AdvertisingData.SERVICE_DATA_128_BIT_UUID,
    ):
        service_values: list[Any] = list(data.get_all(kind))
        for value in service_values:
            uuid, payload = value
            service_data[uuid_str(uuid)] = bytes(payload)
    tx_power = data.get(AdvertisingData.TX_POWER_LEVEL)
    return AdvertisementData(
        local_name=str(name) if name is not None else None,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=uuids,
        tx_power=int(tx_power) if isinstance(tx_power, int) else None,
        rssi=int(adv.rssi),
        platform_data=(adv,),
    )


class BumbleBleakScanner(BaseBleakScanner):
    """bleak scanner backend on a Bumble host. ``bumble={"transport": SPEC}`` picks the controller."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        bumble: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._spec = _transport_spec(bumble)
        self._active = scanning_mode != "passive"
        self._host: _SharedHost | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._host = await acquire_host(self._spec)
        device = self._host.device
        device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        await device.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        host, self._host = self._host, None
        if host is None:
            return
        host.device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        try:
            if host.device.is_scanning:
                await asyncio.wait_for(host.device.stop_scanning(), 2.0)
        finally:
            await release_host(host)

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = advertisement_data(adv)
        if not self.is_allowed_uuid(data.service_uuids):
            return
        address = str(adv.address)
        if adv.address.address_type == hci.Address.PUBLIC_DEVICE_ADDRESS:
            address += "/P"
        device = self.create_or_update_device(address, address, data.local_name, adv.address, data)
        self.call_detection_callbacks(device, data)


# -- client -----------------------------------------------------------------------------------


class BumbleBleakClient(BaseBleakClient):
    """bleak client backend on a Bumble host. ``bumble={"transport": SPEC}`` picks the controller.

    Extra options in ``bumble``: ``connection_interval_ms`` (min, max), ``supervision_timeout_ms``
    and ``mtu`` (ATT MTU requested right after connecting).
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        bumble: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout)
        options = dict(bumble or {})
        self._spec = _transport_spec(options)
        self._interval_ms = tuple(options.get("connection_interval_ms", DEFAULT_CONNECTION_INTERVAL_MS))
        self._supervision_ms = float(options.get("supervision_timeout_ms", DEFAULT_SUPERVISION_TIMEOUT_MS))
        self._mtu_wanted = int(options.get("mtu", PREFERRED_MTU))
        self._peer_address: hci.Address = (
            address_or_ble_device.details
            if isinstance(address_or_ble_device, BLEDevice)
            and isinstance(address_or_ble_device.details, hci.Address)
            else _parse_address(self.address)
        )
        self._name = address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        self._host: _SharedHost | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._notify: dict[int, Callable[[bytes], None]] = {}
        wanted = kwargs.get("services")  # bleak passes the normalised UUIDs of its services filter
        self._service_filter = [UUID(u) for u in wanted] if wanted else []

    @property
    def name(self) -> str:
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        return int(self._connection.att_mtu) if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if pair:
            logger.info("pairing is not supported by the Bumble backend; connecting without it")
        self._host = await acquire_host(self._spec)
        try:
            await asyncio.wait_for(self._connect(self._host), self._timeout)
        except BaseException as exc:
            await self._drop(disconnect=True)
            if isinstance(exc, TimeoutError):
                raise TimeoutError(
                    f"connecting to {self.address} timed out after {self._timeout:g} s"
                ) from None
            raise

    async def _connect(self, host: _SharedHost) -> None:
        prefs = ConnectionParametersPreferences(
            connection_interval_min=self._interval_ms[0],
            connection_interval_max=self._interval_ms[1],
            max_latency=0,
            supervision_timeout=round(self._supervision_ms),
        )
        async with host.lock:
            try:
                connection = await host.device.connect(
                    self._peer_address,
                    connection_parameters_preferences={hci.Phy.LE_1M: prefs},
                    timeout=self._timeout,
                )
            except Exception as exc:  # Bumble's ConnectionError / TimeoutError
                if "timeout" in type(exc).__name__.lower():
                    raise TimeoutError(str(exc)) from exc
                raise BleakDeviceNotFoundError(
                    self.address, f"cannot connect to {self.address}: {exc}"
                ) from exc
        self._connection = connection
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        peer = Peer(connection)
        self._peer = peer
        if self._mtu_wanted > 23:
            await peer.request_mtu(self._mtu_wanted)
        await peer.discover_services(self._service_filter)
        collection = BleakGATTServiceCollection()
        for service in peer.services:
            bleak_service = BleakGATTService(service, service.handle, uuid_str(service.uuid))
            collection.add_service(bleak_service)
            await service.discover_characteristics()
            for char in service.characteristics:
                await char.discover_descriptors()
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    uuid_str(char.uuid),
                    _properties(int(char.properties)),
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, uuid_str(desc.type), bleak_char)
                    )
        self.services = collection

    def _on_disconnection(self, reason: int) -> None:
        logger.info("disconnected from %s (reason 0x%02x)", self.address, reason)
        self._connection = None
        self._peer = None
        self.services = None
        asyncio.get_running_loop().create_task(self._drop(disconnect=False))
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _drop(self, disconnect: bool) -> None:
        connection, self._connection = self._connection, None
        self._peer = None
        host, self._host = self._host, None
        try:
            if disconnect and connection is not None:
                connection.remove_listener(Connection.EVENT_DISCONNECTION, self._on_disconnection)
                await asyncio.wait_for(
                    connection.disconnect(hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR), 2.0
                )
        except Exception:  # already gone: nothing to tear down
            logger.debug("disconnect failed", exc_info=True)
        finally:
            if host is not None:
                await release_host(host)

    async def disconnect(self) -> None:
        await self._drop(disconnect=True)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("pairing is not supported by the Bumble backend")

    async def unpair(self) -> None:
        raise NotImplementedError("pairing is not supported by the Bumble backend")

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, **kwargs: Any) -> bytearray:
        try:
            return bytearray(await self._require_peer().read_value(characteristic.handle))
        except ATT_Error as exc:
            raise BleakError(f"reading {characteristic.uuid} failed: {exc}") from exc

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, **kwargs: Any) -> bytearray:
        return bytearray(await self._require_peer().read_value(descriptor.handle))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        try:
            await self._require_peer().write_value(characteristic.handle, bytes(data), with_response=response)
        except ATT_Error as exc:
            raise BleakError(f"writing {characteristic.uuid} failed: {exc}") from exc

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        await self._require_peer().write_value(descriptor.handle, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        proxy = characteristic.obj
        assert isinstance(proxy, CharacteristicProxy)

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        self._notify[characteristic.handle] = on_value
        prefer_notify = bool(int(proxy.properties) & Characteristic.Properties.NOTIFY)
        await self._require_peer().subscribe(proxy, on_value, prefer_notify=prefer_notify)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        on_value = self._notify.pop(characteristic.handle, None)
        proxy = characteristic.obj
        assert isinstance(proxy, CharacteristicProxy)
        await self._require_peer().unsubscribe(proxy, on_value)


def _parse_address(text: str) -> hci.Address:
    try:
        return hci.Address(text)
    except Exception as exc:
        raise BleakError(
            f"not a Bluetooth address: {text!r} (expected XX:XX:XX:XX:XX:XX, '/P' for public)"
        ) from exc


_PROPERTY_NAMES = (
    (0x01, "broadcast"),
    (0x02, "read"),
    (0x04, "write-without-response"),
    (0x08, "write"),
    (0x10, "notify"),
    (0x20, "indicate"),
    (0x40, "authenticated-signed-writes"),
    (0x80, "extended-properties"),
)


def _properties(bits: int) -> list[Any]:
    return [name for bit, name in _PROPERTY_NAMES if bits & bit]
