"""The BLE client: one small API over bleak, whichever backend runs (docs/ble.md).

``SensorLink(LinkConfig(device=...))`` finds a RepTrack sensor by address or name, connects,
reads its device information, subscribes and streams decoded samples, surviving drops.
``scan(config)`` lists sensors in range. The Bumble backend (``tracker.ble.bumble_backend``)
serves virtual radios and raw HCI controllers such as USB dongles.
"""

from tracker.ble.link import (
    BACKEND_ENV,
    DeviceInfo,
    FoundDevice,
    LinkConfig,
    LinkError,
    LinkEvent,
    SensorLink,
    StepTimeout,
    StreamChunk,
    scan,
)
from tracker.ble.transports import TRANSPORT_ENV

__all__ = [
    "BACKEND_ENV",
    "TRANSPORT_ENV",
    "DeviceInfo",
    "FoundDevice",
    "LinkConfig",
    "LinkError",
    "LinkEvent",
    "SensorLink",
    "StepTimeout",
    "StreamChunk",
    "scan",
]
