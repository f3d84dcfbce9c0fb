"""The virtual radio: Bumble's controller gaps fixed, and the connection-event timing model.

Everything runs through real Bumble host stacks and bleak's public client API on in-memory
virtual controllers.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import math
from typing import Any

import pytest
from bleak import BleakClient, BleakScanner
from bumble import hci
from bumble.device import Device
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim.peripheral import SensorData
from firmware_sim.radio import LE_ACL_BUFFER_BYTES, MAX_PDUS_PER_EVENT, VirtualRadio
from firmware_sim.sensors import simulated_sensor
from tracker.ble.bumble_backend import BumbleBleakClient, BumbleBleakScanner, uuid_str
from tracker.protocol import CONTROL_POINT_UUID, IMU_DATA_UUID, SERVICE_UUID, Opcode, encode_command

pytestmark = pytest.mark.timeout(60)


@functools.cache
def _data() -> SensorData:
    """4 s of slow squats the simulated sensor streams (made on first use, not at import)."""
    return SensorData.synthetic(4.0, seed=3)


async def _bumble_device(radio: VirtualRadio, address: str) -> Device:
    transport = await radio.open_transport()
    device = Device.with_hci("test", hci.Address(address), transport.source, transport.sink)
    await device.power_on()
    return device


async def test_scan_reports_the_scan_response_not_the_advertising_data_twice() -> None:
    async with simulated_sensor(_data()) as sim:
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
        # LE Create Connection Cancel ends the attempt: bleak's own timeout fires, well before ours.
        # The second attempt times out the same way: one still pending would be refused at once.
        for _ in range(2):
            attempt = asyncio.ensure_future(client.connect())
            done, _pending = await asyncio.wait({attempt}, timeout=20.0)
            assert attempt in done, "the connect attempt never ended"
            assert isinstance(attempt.exception(), TimeoutError)
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
    reason: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()

    def on_disconnection(code: int) -> None:
        if not reason.done():  # the reason, and how many link events the radio had logged by then
            reason.set_result((code, len(radio.link.event_log)))

    connection.on("disconnection", on_disconnection)
    if how == "reset":
        await peripheral.host.reset()
    else:
        await transport.close()
    code, logged = await asyncio.wait_for(reason, 20.0)
    assert code == hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR
    # The radio's own log: the central's link ended when its supervision timer fired (Bumble's
    # default supervision timeout, 720 ms), not at once because of anything the silent peer did.
    assert logged == 1, "the central heard of the end before its supervision timer fired"
    (ended,) = radio.link.event_log
    assert ended.kind == "supervision_timeout" and ended.after_s == pytest.approx(0.72)
    assert ended.controller != transport.controller.name  # the central's link, not the silent one's
    radio.close()


async def test_le_acl_buffer_is_251_bytes() -> None:
    radio = VirtualRadio()
    device = await _bumble_device(radio, "C3:00:00:00:00:03")
    response = await device.host.send_sync_command(hci.HCI_LE_Read_Buffer_Size_Command())
    assert response.le_acl_data_packet_length == LE_ACL_BUFFER_BYTES
    radio.close()


async def test_notifications_arrive_on_connection_events() -> None:
    interval_s = 0.030
    notifications = 0
    enough = asyncio.Event()

    def on_imu(_c: object, _d: bytearray) -> None:
        nonlocal notifications
        notifications += 1
        if notifications >= 25:
            enough.set()

    async with simulated_sensor(_data(), speed=4.0) as sim:
        async with BleakClient(
            sim.address,
            backend=BumbleBleakClient,
            bumble={"transport": sim.transport, "connection_interval_ms": (30.0, 30.0)},
            timeout=5.0,
        ) as client:
            await client.start_notify(CONTROL_POINT_UUID, lambda _c, _d: None)
            await client.start_notify(IMU_DATA_UUID, on_imu)
            await client.write_gatt_char(CONTROL_POINT_UUID, encode_command(Opcode.START), response=True)
            await asyncio.wait_for(enough.wait(), 20.0)
        log = list(sim.radio.link.pdu_log)
    # The radio's own schedule, read from its log (a loaded machine delays the timers, not the plan).
    # The sensor's direction is the one that carries the stream.
    sensor = max({r.sender for r in log}, key=lambda name: sum(r.sender == name for r in log))
    sent = [r for r in log if r.sender == sensor and r.interval_s == pytest.approx(interval_s)]
    assert len(sent) >= notifications >= 25
    per_event = collections.Counter(r.event for r in sent)
    assert max(per_event.values()) <= MAX_PDUS_PER_EVENT
    assert [r.event for r in sent] == sorted(r.event for r in sent), "PDUs overtook each other"
    for r in sent:
        # each PDU waits for the next connection event of the 30 ms grid, later only when the
        # events in between were full; nothing travels between events
        first = math.ceil((r.submitted_s - r.anchor_s) / r.interval_s - 1e-9)
        assert r.event >= first, r
        assert all(per_event[e] == MAX_PDUS_PER_EVENT for e in range(first, r.event)), r
        assert r.delivered_s is None or r.delivered_s >= r.event_s - 1e-6, r
    assert sum(r.delivered_s is not None for r in sent) >= notifications
    # a stream 40 packets/s over 30 ms events: most events carry one PDU, some two
    assert len(per_event) < len(sent)


@settings(max_examples=50, deadline=None)
@given(st.uuids())
def test_uuid_strings_match_bleak(u: object) -> None:
    from bleak.uuids import normalize_uuid_str
    from bumble.core import UUID

    text = str(u)
    assert uuid_str(UUID(text)) == normalize_uuid_str(text)


async def test_scan_by_service_uuid() -> None:
    async with simulated_sensor(_data()) as sim:
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

    async with simulated_sensor(_data()) as sim:
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
