"""The simulated sensor over the in-process virtual radio, as a source for the service.

``reptrack run --sim WORKOUT`` and the demo use this: the simulator's packets travel through a
Bumble peripheral, the virtual radio and the same bleak client as a real sensor's. The product
finds it through the ``reptrack.sources`` entry point (tracker/plugins.py), never by import.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator
from typing import Any

from tracker.ble.live import DeviceSource
from tracker.protocol import StreamStats

AS_FAST_AS_POSSIBLE = 50.0  # a radio has a finite throughput: "speed 0" streams at 50 x real time


class SimulatedSource:
    """Starts a simulated sensor on its own virtual radio when iterated; stops it at the end."""

    def __init__(
        self,
        workout: str,
        *,
        seed: int,
        sensor_id: str,
        speed: float,
        faults: Any = None,
        profile: str = "reptrack",
    ) -> None:
        from firmware_sim.peripheral import NATIVE_RATE_HZ, load_sensor_data
        from firmware_sim.sensors import sensor_class

        sensor_class(profile)  # an unknown profile is the user's error before anything starts
        self.profile = profile
        self.workout = workout
        self.sensor_id = sensor_id
        self.name = f"simulated ({workout})"
        self.speed = speed if speed > 0 else AS_FAST_AS_POSSIBLE
        self.data = load_sensor_data(workout, seed=seed, rate_hz=NATIVE_RATE_HZ[profile])
        self.faults = faults
        self.seed = seed
        self.wall_t0: float | None = None
        self.sensor_wall_t0: float | None = None  # the simulated sensor's own clock: wall time of its t = 0
        self.stats = StreamStats()
        self.duration_s = self.data.duration_s
        self.inner: DeviceSource | None = None
        self.sensor_leg = self.data.leg  # a real sensor's thigh comes from its calibration instead

    async def chunks(self) -> AsyncIterator[Any]:
        from firmware_sim.sensors import simulated_sensor

        serial = f"SIM{zlib.crc32(self.sensor_id.encode()) % 100000:05d}"
        async with simulated_sensor(
            self.data, speed=self.speed, faults=self.faults, serial=serial, profile=self.profile
        ) as sim:
            # A MetaWear sends three samples a notification: the shortest connection interval
            # (7.5 ms) lets the virtual radio carry them at high replay speeds.
            fast = {"connection_interval_ms": (7.5, 7.5)} if self.profile == "metawear" else {}
            inner = DeviceSource(sim.link_config(**fast), sensor_id=self.sensor_id, name=self.name)
            self.inner = inner
            self.stats = inner.stats

            async def end_with_the_workout() -> None:
                await sim.sensor.finished.wait()
                await sim.sensor.all_sent()  # small notifications at a high speed queue up
                latency = 0.0 if self.faults is None else self.faults.latency_s + self.faults.jitter_s
                await asyncio.sleep(0.3 + latency)  # the last packets are still in the air
                await inner.close()

            ender = asyncio.create_task(end_with_the_workout())
            try:
                async for chunk in inner.chunks():
                    self.wall_t0 = inner.wall_t0
                    self.stats = inner.stats  # the profile's decoder's, once connected
                    self.sensor_wall_t0 = sim.sensor.start_wall_s
                    yield chunk
            finally:
                ender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ender


def simulated_source(
    workout: str, *, seed: int, sensor_id: str, speed: float, faults: Any = None, profile: str = "reptrack"
) -> SimulatedSource:
    """The ``sim`` entry of ``reptrack.sources``: a simulated ``profile`` sensor running ``workout``."""
    return SimulatedSource(
        workout, seed=seed, sensor_id=sensor_id, speed=speed, faults=faults, profile=profile
    )
