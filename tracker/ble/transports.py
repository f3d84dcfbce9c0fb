"""Where the Bumble backend finds its HCI controller.

A transport spec is a string, as in Bumble: ``usb:0`` (a USB dongle), ``serial:/dev/ttyACM0``,
``tcp-client:127.0.0.1:9001`` (a controller exposed over TCP, e.g. by ``firmware-sim serve``),
``hci-socket:0`` (a Linux HCI socket, needs privileges), or ``virtual:<name>``: a controller on
an in-process virtual radio registered under that name (``firmware_sim.radio.VirtualRadio``).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from bumble.transport import open_transport
from bumble.transport.common import Transport

from tracker.errors import UserError

TRANSPORT_ENV = "REPTRACK_BLE_TRANSPORT"

_virtual: dict[str, Callable[[], Awaitable[Transport]]] = {}


def register_virtual_transport(name: str, opener: Callable[[], Awaitable[Transport]]) -> None:
    """Make ``virtual:<name>`` open a new controller on an in-process radio."""
    _virtual[name] = opener


def unregister_virtual_transport(name: str) -> None:
    _virtual.pop(name, None)


def default_transport() -> str | None:
    return os.environ.get(TRANSPORT_ENV) or None


async def open_hci_transport(spec: str) -> Transport:
    """Open the HCI transport ``spec``; raise :class:`UserError` saying what is wrong."""
    scheme, _, rest = spec.partition(":")
    if scheme == "virtual":
        opener = _virtual.get(rest)
        if opener is None:
            known = ", ".join(f"virtual:{n}" for n in sorted(_virtual)) or "none in this process"
            raise UserError(f"no virtual radio named {rest!r} in this process (known: {known})")
        return await opener()
    try:
        return await open_transport(spec)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot open HCI transport {spec!r}: {exc}") from exc
    except Exception as exc:  # Bumble raises its own error types per transport
        raise UserError(f"cannot open HCI transport {spec!r}: {type(exc).__name__}: {exc}") from exc
