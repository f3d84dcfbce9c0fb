"""The BLE client: one small API over bleak, whichever backend runs (docs/ble.md).

``SensorLink(LinkConfig(device=...))`` finds a sensor by address or name, connects with the
sensor profile it speaks (RepTrack, Polar PMD or MetaWear: tracker.ble.profiles, docs/sensors.md),
reads its device information, subscribes and streams decoded samples, surviving drops.
``scan(config)`` lists sensors in range. The Bumble backend (``tracker.ble.bumble_backend``)
serves virtual radios and raw HCI controllers such as USB dongles.

Names are imported on first use, so ``import tracker.ble`` alone loads neither bleak nor Bumble.
The bytes the profiles speak (RepTrack's in ``tracker.protocol``, Polar PMD and MetaWear in
``tracker.codecs``) are in the pure core, so a recording is read without this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.ble.link import (
        BACKEND_ENV as BACKEND_ENV,
    )
    from tracker.ble.link import (
        DeviceInfo as DeviceInfo,
    )
    from tracker.ble.link import (
        FoundDevice as FoundDevice,
    )
    from tracker.ble.link import (
        LinkConfig as LinkConfig,
    )
    from tracker.ble.link import (
        LinkError as LinkError,
    )
    from tracker.ble.link import (
        LinkEvent as LinkEvent,
    )
    from tracker.ble.link import (
        SensorLink as SensorLink,
    )
    from tracker.ble.link import (
        StepTimeout as StepTimeout,
    )
    from tracker.ble.link import (
        StreamChunk as StreamChunk,
    )
    from tracker.ble.link import (
        scan as scan,
    )
    from tracker.ble.transports import TRANSPORT_ENV as TRANSPORT_ENV

_EXPORTS = {
    "BACKEND_ENV": "tracker.ble.link",
    "DeviceInfo": "tracker.ble.link",
    "FoundDevice": "tracker.ble.link",
    "LinkConfig": "tracker.ble.link",
    "LinkError": "tracker.ble.link",
    "LinkEvent": "tracker.ble.link",
    "SensorLink": "tracker.ble.link",
    "StepTimeout": "tracker.ble.link",
    "StreamChunk": "tracker.ble.link",
    "scan": "tracker.ble.link",
    "TRANSPORT_ENV": "tracker.ble.transports",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tracker.ble' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
