"""The virtual radio: Bumble's controller gaps fixed, and the connection-event timing model.

Everything runs through real Bumble host stacks and bleak's public client API on in-memory
virtual controllers.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import numpy as np
import pytest
from bleak import BleakClient, BleakScanner
from bumble import hci
from bumble.device import Device
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim.peripheral import SensorData, simulated_sensor
from firmware_sim.radio import LE_ACL_BUFFER_BYTES, VirtualRadio
from tracker.ble.bumble_backend import BumbleBleakClient, BumbleBleakScanner, uuid_str
from tracker.protocol import CONTROL_POINT_UUID, IMU_DATA_UUID, SERVICE_UUID, Opcode, encode_command

pytestmark = pytest.mark.timeout(60)

DATA = SensorData.synthetic(4.0, seed=3)


async def _bumble_device(radio: VirtualRadio, address: str) -> Device:
    transport = await radio.open_transport()
    device = Device.with_hci("test", hci.Address(address), transport.source, transport.sink)
    await device.power_on()
    return device


async def test_scan_reports_the_scan_response_not_the_advertising_data_twice() -> None:
    async with simulated_sensor(DATA) as sim:
        options: dict[str, Any] = {"backend": BumbleBleakScanner, "bumble": {"transport": sim.transport}}
        found = await BleakScanner.discover(timeout=0.5, return_adv=True, **options)
        (device, adv) = found[sim.address]
        # The name travels only in the scan response; the service UUID only in the advertising data.
        assert adv.local_name == sim.name
        assert adv.service_uuids == [SERVICE_UUID]
        assert device.name == sim.name


async def test_connect_with_timeout_to_an_absent_device_gives_up_in_time() -> None:
    radio = VirtualRadio()
    radio.register("absent-test")
    try:
        client = BleakClient(
            "C0:11:22:33:44:55",
            backend=BumbleBleakClient,
            bumble={"transport": "virtual:absent-test"},
            timeout=0.5,
        )
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.connect()
        assert time.monotonic() - t0 < 3.0  # LE Create Connection Cancel ends the attempt
        # and the host can connect again afterwards (no connection left pending)
        with pytest.raises(TimeoutError):
            await client.connect()
    finally:
        radio.close()


@pytest.mark.parametrize("how", ["reset", "host dies"])
async def test_a_silent_peer_ends_the_link_after_the_supervision_timeout(how: str) -> None:
    radio = VirtualRadio()
    transport = await radio.open_transport()
    peripheral = Device.with_hci("p", hci.Address("C1:00:00:00:00:01"), transport.source, transport.sink)
    await peripheral.power_on()
    await peripheral.start_advertising(advertising_interval_min=20, advertising_interval_max=20)
    central = await _bumble_device(radio, "C2:00:00:00:00:02")
    connection = await central.connect(hci.Address("C1:00:00:00:00:01"), timeout=2.0)
    reason: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_disconnection(code: int) -> None:
        if not reason.done():
            reason.set_result(code)

    connection.on("disconnection", on_disconnection)
    t0 = time.monotonic()
    if how == "reset":
        await peripheral.host.reset()
    else:
        await transport.close()
    assert await asyncio.wait_for(reason, 3.0) == hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR
    # Bumble's default supervision timeout is 720 ms: not at once, and not never.
    assert 0.5 < time.monotonic() - t0 < 2.0
    radio.close()


async def test_le_acl_buffer_is_251_bytes() -> None:
    radio = VirtualRadio()
    device = await _bumble_device(radio, "C3:00:00:00:00:03")
    response = await device.host.send_sync_command(hci.HCI_LE_Read_Buffer_Size_Command())
    assert response.le_acl_data_packet_length == LE_ACL_BUFFER_BYTES
    radio.close()


async def test_notifications_arrive_on_connection_events() -> None:
    interval_s = 0.030
    async with simulated_sensor(DATA, speed=4.0) as sim:
        arrivals: list[float] = []
        loop = asyncio.get_running_loop()
        async with BleakClient(
            sim.address,
            backend=BumbleBleakClient,
            bumble={"transport": sim.transport, "connection_interval_ms": (30.0, 30.0)},
            timeout=5.0,
        ) as client:
            await client.start_notify(CONTROL_POINT_UUID, lambda _c, _d: None)
            await client.start_notify(IMU_DATA_UUID, lambda _c, _d: arrivals.append(loop.time()))
            await client.write_gatt_char(CONTROL_POINT_UUID, encode_command(Opcode.START), response=True)
            await asyncio.sleep(0.8)
    assert len(arrivals) >= 10
    # The grid's phase is the circular mean of all arrivals' phases, not the first arrival's: on a
    # loaded machine any one timer (the first included) may fire a little late.
    angle = 2 * np.pi * ((np.array(arrivals) - arrivals[0]) / interval_s % 1.0)
    grid = np.angle(np.mean(np.exp(1j * angle))) / (2 * np.pi)
    phase = ((np.array(arrivals) - arrivals[0]) / interval_s - grid) % 1.0
    off_grid = np.minimum(phase, 1.0 - phase) * interval_s
    # arrivals sit on the 30 ms event grid
    assert np.median(off_grid) < 0.002 and np.percentile(off_grid, 90) < 0.006, off_grid
    # ... and between events the radio is silent: no arrivals 10 ms apart as a plain stream would give
    gaps = np.array([b - a for a, b in itertools.pairwise(arrivals)])
    assert np.percentile(gaps[gaps > 0.001], 10) >= interval_s - 0.004, gaps


@settings(max_examples=50, deadline=None)
@given(st.uuids())
def test_uuid_strings_match_bleak(u: object) -> None:
    from bleak.uuids import normalize_uuid_str
    from bumble.core import UUID

    text = str(u)
    assert uuid_str(UUID(text)) == normalize_uuid_str(text)


async def test_scan_by_service_uuid() -> None:
    async with simulated_sensor(DATA) as sim:
        for uuids, expected in (
            ([SERVICE_UUID], [sim.address]),
            (["0000feed-0000-1000-8000-00805f9b34fb"], []),
        ):
            options: dict[str, Any] = {"backend": BumbleBleakScanner, "bumble": {"transport": sim.transport}}
            found = await BleakScanner.discover(timeout=0.4, service_uuids=uuids, **options)
            assert [d.address for d in found] == expected


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(st.characters(codec="utf-8"), min_size=1, max_size=8),
    uuids=st.lists(st.uuids(), max_size=1),
    short=st.lists(st.integers(0, 0xFFFF), max_size=3, unique=True),
    company=st.integers(0, 0xFFFF),
    payload=st.binary(max_size=6),
)
def test_advertisement_data_reaches_bleak_intact(
    name: str, uuids: list[object], short: list[int], company: int, payload: bytes
) -> None:
    from bleak.uuids import normalize_uuid_16
    from bumble.core import UUID, AdvertisingData
    from bumble.device import Advertisement

    from tracker.ble.bumble_backend import advertisement_data

    items = [(AdvertisingData.COMPLETE_LOCAL_NAME, name.encode())]
    if uuids:
        items.append(
            (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS, bytes(UUID(str(uuids[0]))))
        )
    if short:
        items.append(
            (
                AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                b"".join(u.to_bytes(2, "little") for u in short),
            )
        )
    items.append((AdvertisingData.MANUFACTURER_SPECIFIC_DATA, company.to_bytes(2, "little") + payload))
    adv = Advertisement(
        address=hci.Address("C0:00:00:00:00:01"), rssi=-40, data_bytes=bytes(AdvertisingData(items))
    )
    data = advertisement_data(adv)
    assert data.local_name == name
    assert sorted(data.service_uuids) == sorted(
        [str(u) for u in uuids] + [normalize_uuid_16(u) for u in short]
    )
    assert data.manufacturer_data == {company: payload}
    assert data.rssi == -40


async def test_start_at_the_default_mtu_is_refused_as_protocol_md_says() -> None:
    from tracker.protocol import Result, decode_response

    async with simulated_sensor(DATA) as sim:
        responses: asyncio.Queue[bytes] = asyncio.Queue()
        async with BleakClient(
            sim.address,
            backend=BumbleBleakClient,
            bumble={"transport": sim.transport, "mtu": 23},
            timeout=5.0,
        ) as client:
            assert client.mtu_size == 23
            await client.start_notify(CONTROL_POINT_UUID, lambda _c, d: responses.put_nowait(bytes(d)))
            await client.write_gatt_char(CONTROL_POINT_UUID, encode_command(Opcode.START), response=True)
            request, result = decode_response(await asyncio.wait_for(responses.get(), 2.0))
    assert (request, result) == (Opcode.START, Result.OPERATION_FAILED)
