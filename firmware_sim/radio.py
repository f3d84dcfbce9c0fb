"""The virtual radio: Bumble's in-memory link, with the gaps that matter to us fixed.

Bumble ships a virtual controller (``bumble.controller.Controller``) and an in-memory link
(``bumble.link.LocalLink``) that let two full host stacks talk without hardware. Its controller
has gaps that would otherwise leak into the client as workarounds; :class:`RadioController`
fixes them here, citing the Core specification section each fix follows:

- LE Create Connection Cancel was ignored, so a connect with a timeout hung (Vol 4, Part E,
  7.8.13: the pending connection ends with an LE Connection Complete event, status 0x02).
- HCI Reset did nothing (Vol 4, Part E, 7.3.2: the controller returns to its power-on state:
  no advertising, no scanning, no connections).
- A host that died left its connections open forever. A controller whose host is gone (TCP
  client closed, in-process transport closed) or that resets now stops answering, and each
  peer sees the link end with reason 0x08 after the supervision timeout (Vol 6, Part B, 4.5.2).
- The scan response repeated the advertising data; it now carries the advertiser's own scan
  response data, reported as a legacy SCAN_RSP (Vol 4, Part E, 7.7.65.13).
- The LE ACL buffer defaulted to 27 bytes; it is 251 (Data Length Extension), as on any
  current controller.

:class:`RadioLink` adds a timing model: data PDUs travel only at connection events, every
connection interval (7.5-30 ms) from the connection's anchor, at most a few PDUs per event, so
latency figures measured over the virtual radio mean something.

:class:`VirtualRadio` is the in-process radio (tests, the demo); :func:`serve_hci_over_tcp`
exposes one of its controllers as HCI over TCP so another process (``firmware-sim serve``, or the
tracker) can use it as if it were a USB dongle. ``python -m firmware_sim.radio PORT PORT`` runs a
stand-alone radio with two such controllers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import math
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bumble import hci, ll
from bumble.controller import AdvertisingSet, Connection, Controller
from bumble.core import PhysicalTransport
from bumble.link import LocalLink
from bumble.transport.common import PacketParser, Transport

logger = logging.getLogger(__name__)

LE_ACL_BUFFER_BYTES = 251
MAX_PDUS_PER_EVENT = 6  # data PDUs per direction in one connection event (a short event length)
DEFAULT_SUPERVISION_TIMEOUT_S = 0.72  # Bumble's default connection parameter, used when none is known
DEFAULT_LOG_LIMIT = 20_000  # PDUs and link events a RadioLink remembers (the oldest are forgotten)

_controller_ids = itertools.count(1)


@dataclass(slots=True)
class _LinkTiming:
    """Timing state of one direction of one connection (see :class:`RadioLink`)."""

    anchor: float  # loop time of the first connection event
    interval_s: float
    last_event: int = -1
    sent_in_event: int = 0
    queue: deque[tuple[float, bytes, PduRecord]] = field(default_factory=deque)
    handle: asyncio.TimerHandle | None = None


@dataclass(slots=True)
class PduRecord:
    """One data PDU in the timing model, as the radio's own log keeps it (loop times, in s).

    Tests read this log instead of timing arrivals themselves: the schedule is what the model
    decided, whatever the load on the machine did to the moment the PDU was finally handed over.
    """

    sender: str  # the sending controller's name
    size: int  # bytes of the L2CAP fragment
    submitted_s: float  # when the sender's controller handed it to the link
    anchor_s: float  # the connection's first event
    interval_s: float  # the connection interval at the time
    event: int  # the connection event it travels in: anchor_s + event * interval_s
    delivered_s: float | None = None  # when the receiver got it; None if lost with its link

    @property
    def event_s(self) -> float:
        return self.anchor_s + self.event * self.interval_s


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A connection-level event in the radio's log: ``kind`` is ``supervision_timeout``."""

    at_s: float  # loop time
    kind: str
    controller: str  # whose link ended
    after_s: float  # how long the link had been silent


class RadioController(Controller):
    """Bumble's virtual controller with the fixes listed in the module docstring."""

    le_acl_data_packet_length = LE_ACL_BUFFER_BYTES
    supported_max_tx_octets = LE_ACL_BUFFER_BYTES
    supported_max_rx_octets = LE_ACL_BUFFER_BYTES
    suggested_max_tx_octets = LE_ACL_BUFFER_BYTES
    supported_max_tx_time = 2120
    supported_max_rx_time = 2120

    link: RadioLink

    def __init__(self, name: str, link: RadioLink, address: str | None = None) -> None:
        super().__init__(name, link=link)
        self.random_address = hci.Address(
            address or _random_static_address(), hci.Address.RANDOM_DEVICE_ADDRESS
        )
        self.le_scan_type = 0
        self.alive = True

    # -- Vol 4, Part E, 7.3.2 Reset ---------------------------------------------------------------

    def on_hci_reset_command(self, _command: hci.HCI_Reset_Command) -> hci.HCI_StatusReturnParameters:
        self.power_cycle()
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def power_cycle(self, notify_host: bool = False) -> None:
        """Forget every link, advertiser and scan, as a controller coming out of reset does.

        Each peer notices the silence only when its supervision timeout expires. Our own host is
        told nothing (it asked for the reset, or it is gone) unless ``notify_host``: then it
        hears of each link's end as a supervision timeout too (the simulated brown-out, whose
        host survives in this process).
        """
        self.le_legacy_advertiser.stop()
        self.le_legacy_advertiser.advertising_data = b""
        self.le_legacy_advertiser.scan_response_data = b""
        for adv_set in self.advertising_sets.values():
            adv_set.stop()
        self.advertising_sets.clear()
        self.le_scan_enable = False
        self.pending_le_connection = None
        for connection in list(self.le_connections.values()):
            self.link.connection_lost(self, connection)
            if notify_host:
                self.send_hci_packet(
                    hci.HCI_Disconnection_Complete_Event(
                        status=hci.HCI_ErrorCode.SUCCESS,
                        connection_handle=connection.handle,
                        reason=hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR,
                    )
                )
        self.le_connections.clear()
        self.event_mask = 0
        self.le_event_mask = 0

    def detach_host(self) -> None:
        """The host behind this controller died: the controller goes silent (see power_cycle)."""
        self.power_cycle()
        self.host = None

    def on_hci_acl_data_packet(self, packet: hci.HCI_AclDataPacket) -> None:
        # Data a host sent just before it heard of a disconnection is dropped, as a real
        # controller drops it (Bumble logs a warning for each).
        if self.find_connection_by_handle(packet.connection_handle) is None:
            logger.debug("%s: data for closed connection 0x%04x dropped", self.name, packet.connection_handle)
            return
        super().on_hci_acl_data_packet(packet)

    # -- Vol 4, Part E, 7.8.13 LE Create Connection Cancel ------------------------------------

    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        if self.pending_le_connection is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)
        pending = self.pending_le_connection
        self.pending_le_connection = None
        # The Command Complete goes out first (returned below), then the connection attempt
        # ends with status "Unknown Connection Identifier".
        asyncio.get_running_loop().call_soon(
            self.send_hci_packet,
            hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0,
                role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address.address_type,
                peer_address=pending.peer_address,
                connection_interval=0,
                peripheral_latency=0,
                supervision_timeout=0,
                central_clock_accuracy=0,
            ),
        )
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    # -- scanning: Vol 4, Part E, 7.7.65.2 / 7.7.65.13 advertising reports -------------------

    def on_hci_le_set_extended_scan_parameters_command(
        self, command: hci.HCI_LE_Set_Extended_Scan_Parameters_Command
    ) -> hci.HCI_StatusReturnParameters:
        scan_types = getattr(command, "scan_types", None) or [0]
        self.le_scan_type = int(scan_types[0])
        return super().on_hci_le_set_extended_scan_parameters_command(command)

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        if self.le_scan_enable and self.alive:
            scan_response = self.link.scan_response_for(pdu.advertiser_address)
            self._report_advertisement(pdu, scan_response if self.le_scan_type == 1 else None)
        # Let Bumble handle periodic advertising syncs and a pending connection, without its
        # own (wrong) reports.
        scan_enable = self.le_scan_enable
        self.le_scan_enable = False
        try:
            super().on_advertising_pdu(pdu)
        finally:
            self.le_scan_enable = scan_enable

    def _report_advertisement(self, pdu: ll.AdvInd | ll.AdvExtInd, scan_response: bytes | None) -> None:
        address = pdu.advertiser_address
        if self.le_features & hci.LeFeatureMask.LE_EXTENDED_ADVERTISING:
            ext = hci.HCI_LE_Extended_Advertising_Report_Event
            kinds = [(ext.EventType.CONNECTABLE_ADVERTISING | ext.EventType.SCANNABLE_ADVERTISING, pdu.data)]
            if scan_response is not None:
                kinds.append(
                    (ext.EventType.SCAN_RESPONSE | ext.EventType.SCANNABLE_ADVERTISING, scan_response)
                )
            for event_type, data in kinds:
                report = ext.Report(
                    event_type=int(event_type | ext.EventType.LEGACY_ADVERTISING_PDU_USED),
                    address_type=address.address_type,
                    address=address,
                    primary_phy=hci.Phy.LE_1M,
                    secondary_phy=0,
                    advertising_sid=0xFF,
                    tx_power=ext.TX_POWER_INFORMATION_NOT_AVAILABLE,
                    rssi=-50,
                    periodic_advertising_interval=0,
                    direct_address_type=0,
                    direct_address=hci.Address.ANY,
                    data=data,
                )
                self.send_hci_packet(ext([report]))
        else:
            legacy = hci.HCI_LE_Advertising_Report_Event
            kinds_legacy = [(legacy.EventType.ADV_IND, pdu.data)]
            if scan_response is not None:
                kinds_legacy.append((legacy.EventType.SCAN_RSP, scan_response))
            for legacy_type, data in kinds_legacy:
                self.send_hci_packet(
                    legacy(
                        [
                            legacy.Report(
                                event_type=legacy_type,
                                address_type=address.address_type,
                                address=address,
                                data=data,
                                rssi=-50,
                            )
                        ]
                    )
                )

    # -- connection timing ---------------------------------------------------------------------

    def create_le_connection(self, peer_address: hci.Address) -> None:
        pending = self.pending_le_connection
        interval, timeout = _interval_and_timeout(pending)
        super().create_le_connection(peer_address)
        connection = self.le_connections.get(pending.peer_address) if pending is not None else None
        if connection is not None:
            self.link.connection_started(self, connection, interval * 1.25e-3, timeout * 10e-3)

    def on_le_connect_ind(self, packet: ll.ConnectInd) -> None:
        super().on_le_connect_ind(packet)
        connection = self.le_connections.get(packet.initiator_address)
        if connection is not None:
            self.link.connection_started(self, connection, packet.interval * 1.25e-3, packet.timeout * 10e-3)

    def on_ll_control_pdu(self, sender_address: hci.Address, packet: ll.ControlPdu) -> None:
        if not self.alive:
            return
        super().on_ll_control_pdu(sender_address, packet)
        if isinstance(packet, ll.ConnectionUpdateInd) and (conn := self.le_connections.get(sender_address)):
            self.link.connection_started(self, conn, packet.interval * 1.25e-3, packet.timeout * 10e-3)

    def on_hci_le_connection_update_command(self, command: hci.HCI_LE_Connection_Update_Command) -> None:
        super().on_hci_le_connection_update_command(command)
        if conn := self.find_le_connection_by_handle(command.connection_handle):
            self.link.connection_started(
                self, conn, command.connection_interval_max * 1.25e-3, command.supervision_timeout * 10e-3
            )

    def on_le_disconnected(self, connection: Connection, reason: int) -> None:
        if connection.peer_address in self.le_connections:
            super().on_le_disconnected(connection, reason)
        self.link.forget_connection(self, connection)


def _interval_and_timeout(pending: Any) -> tuple[int, int]:
    """Connection interval (1.25 ms units) and supervision timeout (10 ms units) requested."""
    if pending is None:
        return 12, 72
    if isinstance(pending, hci.HCI_LE_Extended_Create_Connection_Command):
        return pending.connection_interval_mins[0], pending.supervision_timeouts[0]
    return pending.connection_interval_min, pending.supervision_timeout


def _random_static_address() -> str:
    """A random static address (two top bits set), unique per controller in this process."""
    import random

    octets = [random.randrange(256) for _ in range(6)]
    octets[0] |= 0xC0
    return ":".join(f"{o:02X}" for o in octets)


class RadioLink(LocalLink):
    """Bumble's LocalLink plus connection timing and supervision timeouts.

    With ``timed`` (the default) a data PDU waits for the next connection event of its
    connection: events happen every connection interval from the connection's anchor, and at
    most :data:`MAX_PDUS_PER_EVENT` PDUs per direction travel in one event. Without ``timed``
    PDUs travel on the next loop iteration, as in Bumble.

    The link keeps its own log: every timed data PDU (:attr:`pdu_log`: when it was handed over,
    the connection event it was given, when it was delivered) and every supervision timeout
    (:attr:`event_log`). Tests read the schedule from there rather than timing arrivals, which a
    loaded machine delays.
    """

    def __init__(self, timed: bool = True, log_limit: int = DEFAULT_LOG_LIMIT) -> None:
        super().__init__()
        self.timed = timed
        self._timing: dict[tuple[int, int], _LinkTiming] = {}
        self._supervision_s: dict[int, float] = {}
        self.pdu_log: deque[PduRecord] = deque(maxlen=log_limit)  # timed data PDUs, oldest first
        self.event_log: deque[LinkEvent] = deque(maxlen=log_limit)

    # -- bookkeeping, called by RadioController ---------------------------------------------------

    def connection_started(
        self, controller: Controller, connection: Connection, interval_s: float, timeout_s: float
    ) -> None:
        interval_s = min(max(interval_s, 7.5e-3), 4.0)
        now = asyncio.get_running_loop().time()
        old = self._timing.get((id(controller), id(connection)))
        if old is not None:  # a parameter update keeps the anchor and what is in flight
            old.interval_s = interval_s
        else:
            self._timing[(id(controller), id(connection))] = _LinkTiming(now, interval_s)
        self._supervision_s[id(connection)] = timeout_s if timeout_s > 0 else DEFAULT_SUPERVISION_TIMEOUT_S

    def forget_connection(self, controller: Controller, connection: Connection) -> None:
        self._timing.pop((id(controller), id(connection)), None)
        self._supervision_s.pop(id(connection), None)

    def connection_lost(self, controller: Controller, connection: Connection) -> None:
        """``controller`` went silent on ``connection``: its peer times out (reason 0x08)."""
        timeout_s = self._supervision_s.get(id(connection), DEFAULT_SUPERVISION_TIMEOUT_S)
        self.forget_connection(controller, connection)
        peer = self.find_le_controller(connection.peer_address)
        if peer is None or peer is controller:
            return
        peer_connection = peer.le_connections.get(connection.self_address)
        if peer_connection is None:
            return

        def supervision_timeout() -> None:
            if peer.le_connections.get(connection.self_address) is peer_connection:
                now = asyncio.get_running_loop().time()
                self.event_log.append(LinkEvent(now, "supervision_timeout", peer.name, timeout_s))
                peer.on_le_disconnected(peer_connection, hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR)

        asyncio.get_running_loop().call_later(timeout_s, supervision_timeout)

    def scan_response_for(self, address: hci.Address) -> bytes:
        """The scan response data of whoever advertises with ``address`` (empty if none)."""
        for c in self.controllers:
            adv = c.le_legacy_advertiser
            if adv.enabled and adv.address == address:
                return bytes(adv.scan_response_data)
            for adv_set in c.advertising_sets.values():
                if isinstance(adv_set, AdvertisingSet) and adv_set.enabled and adv_set.address == address:
                    return bytes(adv_set.scan_response_data)
        return b""

    # -- LocalLink overrides -----------------------------------------------------------------------

    def send_advertising_pdu(self, sender_controller: Controller, packet: ll.AdvertisingPdu) -> None:
        if getattr(sender_controller, "alive", True):
            super().send_advertising_pdu(sender_controller, packet)

    def send_acl_data(
        self,
        sender_controller: Controller,
        destination_address: hci.Address,
        transport: PhysicalTransport,
        data: bytes,
    ) -> None:
        if transport != PhysicalTransport.LE or not self.timed:
            super().send_acl_data(sender_controller, destination_address, transport, data)
            return
        destination = self.find_le_controller(destination_address)
        connection = sender_controller.le_connections.get(destination_address)
        if destination is None or connection is None:
            return
        loop = asyncio.get_running_loop()
        source_address = connection.self_address
        timing = self._timing.get((id(sender_controller), id(connection)))
        if timing is None:
            loop.call_soon(destination.on_link_acl_data, source_address, transport, data)
            return
        now = loop.time()
        event = max(math.ceil((now - timing.anchor) / timing.interval_s - 1e-9), timing.last_event)
        if event == timing.last_event:
            if timing.sent_in_event >= MAX_PDUS_PER_EVENT:
                event += 1
                timing.sent_in_event = 0
        else:
            timing.sent_in_event = 0
        timing.last_event = event
        timing.sent_in_event += 1
        when = timing.anchor + event * timing.interval_s
        record = PduRecord(sender_controller.name, len(data), now, timing.anchor, timing.interval_s, event)
        self.pdu_log.append(record)
        # One queue per direction keeps PDUs in order (asyncio does not order timers due at
        # the same instant).
        timing.queue.append((when, data, record))
        if timing.handle is None:
            timing.handle = loop.call_at(
                when, self._deliver, timing, sender_controller, connection, destination
            )

    def queued_pdus(self, controller: Controller) -> int:
        """Data PDUs ``controller`` has sent that still wait for a connection event."""
        return sum(len(t.queue) for (cid, _), t in self._timing.items() if cid == id(controller))

    def _deliver(
        self, timing: _LinkTiming, sender: Controller, connection: Connection, destination: Controller
    ) -> None:
        loop = asyncio.get_running_loop()
        timing.handle = None
        now = loop.time()
        while timing.queue and timing.queue[0][0] <= now + 1e-6:
            _, data, record = timing.queue.popleft()
            # A PDU in flight is lost with its link.
            if sender.le_connections.get(connection.peer_address) is connection:
                record.delivered_s = now
                destination.on_link_acl_data(connection.self_address, PhysicalTransport.LE, data)
        if timing.queue:
            timing.handle = loop.call_at(
                timing.queue[0][0], self._deliver, timing, sender, connection, destination
            )


class _ControllerTransport(Transport):
    """A Bumble transport whose far end is a :class:`RadioController` in this process."""

    def __init__(self, controller: RadioController, radio: VirtualRadio) -> None:
        super().__init__(controller, controller)
        self.controller = controller
        self.radio = radio

    async def close(self) -> None:
        self.radio.remove(self.controller)


class VirtualRadio:
    """An in-process radio: controllers on one :class:`RadioLink`.

    ``open_transport()`` returns a Bumble transport to a new controller on this radio; closing
    it is the host dying (peers time out). Register the radio under a name with
    :meth:`register` so that the tracker's Bumble backend finds it as transport
    ``virtual:<name>``.
    """

    def __init__(self, timed: bool = True) -> None:
        self.link = RadioLink(timed=timed)
        self._names: list[str] = []

    def add_controller(self, name: str | None = None) -> RadioController:
        return RadioController(name or f"C{next(_controller_ids)}", self.link)

    def remove(self, controller: RadioController) -> None:
        controller.detach_host()
        controller.alive = False
        if controller in self.link.controllers:
            self.link.remove_controller(controller)

    async def open_transport(self) -> Transport:
        return _ControllerTransport(self.add_controller(), self)

    def register(self, name: str) -> str:
        """Make this radio reachable as Bumble transport ``virtual:<name>``; returns that spec."""
        from tracker.ble.transports import register_virtual_transport

        register_virtual_transport(name, self.open_transport)
        self._names.append(name)
        return f"virtual:{name}"

    def close(self) -> None:
        from tracker.ble.transports import unregister_virtual_transport

        for name in self._names:
            unregister_virtual_transport(name)
        self._names.clear()
        for controller in list(self.link.controllers):
            if isinstance(controller, RadioController):
                self.remove(controller)


# -- HCI over TCP ----------------------------------------------------------------------------------


class HciTcpServer:
    """One controller exposed as HCI (H4 framing) over TCP, one host at a time.

    When the host's connection closes, the controller behaves as if its host died: it goes
    silent and its peers see a supervision timeout. A new host may then connect; it starts, as
    every Bumble host does, with HCI Reset.
    """

    def __init__(self, controller: RadioController, server: asyncio.Server) -> None:
        self.controller = controller
        self.server = server
        self._writer: asyncio.StreamWriter | None = None

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def transport_spec(self) -> str:
        host = self.server.sockets[0].getsockname()[0]
        return f"tcp-client:{host}:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:
            logger.warning("HCI over TCP: a host is already connected; refusing another")
            writer.close()
            return
        self._writer = writer
        controller = self.controller

        class _Sink:
            def on_packet(self, packet: bytes) -> None:
                if not writer.is_closing():
                    writer.write(packet)

        controller.host = _Sink()
        controller.alive = True
        parser = PacketParser(controller)
        try:
            while data := await reader.read(65536):
                parser.feed_data(data)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            logger.info("HCI over TCP: host on port %d disconnected", self.port)
            self._writer = None
            controller.detach_host()
            writer.close()

    def close(self) -> None:
        self.server.close()
        if self._writer is not None:
            self._writer.close()


async def serve_hci_over_tcp(
    controller: RadioController, host: str = "127.0.0.1", port: int = 0
) -> HciTcpServer:
    """Expose ``controller`` as HCI over TCP on ``host:port`` (0 picks a free port)."""
    holder: list[HciTcpServer] = []

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await holder[0].handle(reader, writer)

    server = await asyncio.start_server(on_client, host, port)
    holder.append(HciTcpServer(controller, server))
    return holder[0]


def parse_listen(spec: str) -> tuple[str, int]:
    """``PORT`` or ``HOST:PORT`` -> (host, port); the host defaults to 127.0.0.1."""
    host, _, port = spec.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise ValueError(f"expected PORT or HOST:PORT, got {spec!r}") from None


async def _run_radio(listens: list[str], timed: bool, ready: Callable[[str], None]) -> None:
    radio = VirtualRadio(timed=timed)
    servers = []
    for spec in listens:
        host, port = parse_listen(spec)
        server = await serve_hci_over_tcp(radio.add_controller(), host, port)
        servers.append(server)
        ready(server.transport_spec)
    try:
        await asyncio.Event().wait()
    finally:
        for server in servers:
            server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m firmware_sim.radio",
        description="A stand-alone virtual radio: each LISTEN is a virtual controller exposed as HCI over TCP.",
    )
    parser.add_argument("listen", nargs="+", help="PORT or HOST:PORT (port 0 picks a free one)")
    parser.add_argument("--untimed", action="store_true", help="no connection-event timing model")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _run_radio(args.listen, not args.untimed, lambda spec: print(f"controller: {spec}", flush=True))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
