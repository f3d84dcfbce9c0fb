"""A live BLE sensor as a source for the service (``reptrack run --device``, tracker/service.py).

Backend and transport come from the options given or from ``REPTRACK_BLE_BACKEND`` /
``REPTRACK_BLE_TRANSPORT``; the service above does not know which runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tracker.ble.link import LinkConfig, SensorLink
from tracker.protocol import StreamNotice, StreamStats
from tracker.samples import Samples


class DeviceSource:
    """Yields :class:`tracker.service.SourceChunk` from a :class:`SensorLink`, through drops.

    ``wall_t0`` is the host time of session time 0 (the first packet's arrival minus its session
    time), so the service can measure end-to-end delay. ``link`` is the live link while streaming
    (its ``telemetry`` has reconnects and the live rate).
    """

    def __init__(self, config: LinkConfig, sensor_id: str | None = None, name: str | None = None) -> None:
        self.config = config
        self.sensor_id = sensor_id or config.device
        self.name = name or config.device
        self.wall_t0: float | None = None
        self.link = SensorLink(config)
        self.stats: StreamStats = self.link.decoder.stats  # the profile's decoder's, once connected

    async def chunks(self) -> AsyncIterator[Any]:
        from tracker.service import SourceChunk

        async with self.link as link:
            self.stats = link.decoder.stats
            if link.device_info is not None:
                self.name = link.device_info.name
                # Recordings learn which codec to replay with (tracker.io.native reads this note).
                yield SourceChunk(
                    Samples.empty(), [], [], [StreamNotice("codec", 0.0, detail=link.device_info.codec)]
                )
            async for chunk in link.stream():
                if self.wall_t0 is None and len(chunk.samples) and chunk.host_times_s:
                    self.wall_t0 = chunk.host_times_s[-1] - float(chunk.samples.t_s[-1])
                if not len(chunk.samples) and not chunk.notices and not chunk.packets:
                    continue  # link events only; they show in link.telemetry
                yield SourceChunk(
                    chunk.samples,
                    chunk.packets,
                    chunk.host_times_s,
                    chunk.notices,
                    link.telemetry["battery_pct"],
                )

    async def close(self) -> None:
        await self.link.close()


def device_source(device: str, sensor_id: str | None = None, **link_options: Any) -> DeviceSource:
    """The source for ``reptrack run --device ADDR|NAME`` (``link_options``: see LinkConfig)."""
    return DeviceSource(LinkConfig(device=device, **link_options), sensor_id=sensor_id)
