"""Which simulated sensor speaks a profile's protocol, and starting one on a virtual radio.

This module sits above the peripherals it picks from.

The Polar and MetaWear sensors derive from :class:`~firmware_sim.peripheral.SimulatedSensor`, so the
choice among the three cannot live in ``peripheral.py`` without an import cycle.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

from firmware_sim.metawear import MetaWearSimulatedSensor
from firmware_sim.peripheral import PROFILES, Faults, SensorData, SimulatedSensor, SimulatedSensorHandle
from firmware_sim.polar import PolarSimulatedSensor
from firmware_sim.radio import VirtualRadio
from tracker.errors import UserError

SENSOR_CLASSES: dict[str, type[SimulatedSensor]] = {
    "reptrack": SimulatedSensor,
    "polar": PolarSimulatedSensor,
    "metawear": MetaWearSimulatedSensor,
}


def sensor_class(profile: str) -> type[SimulatedSensor]:
    """The simulated sensor that speaks ``profile``'s protocol."""
    try:
        return SENSOR_CLASSES[profile]
    except KeyError:
        raise UserError(
            f"unknown sensor profile {profile!r}; expected one of {', '.join(PROFILES)}"
        ) from None


_radio_names = itertools.count(1)


@contextlib.asynccontextmanager
async def simulated_sensor(
    data: SensorData | Any,
    *,
    speed: float = 1.0,
    faults: Faults | None = None,
    serial: str = "SIM00001",
    timed: bool = True,
    radio: VirtualRadio | None = None,
    profile: str = "reptrack",
    **sensor_options: Any,
) -> AsyncIterator[SimulatedSensorHandle]:
    """Start a simulated sensor on an in-process virtual radio; yield how to reach it.

    ``data`` is :class:`SensorData` or a simulated session (anything with ``clock_us``,
    ``accel_g``, ``gyro_dps``). The radio is registered as ``virtual:<name>`` for the tracker's
    Bumble backend while the context is open. ``profile`` picks the sensor it plays: ``reptrack``,
    ``polar`` (firmware_sim.polar) or ``metawear`` (firmware_sim.metawear).
    """
    sensor_data = data if isinstance(data, SensorData) else SensorData.from_session(data)
    own_radio = radio is None
    radio = radio or VirtualRadio(timed=timed)
    name = f"sim{next(_radio_names)}"
    spec = radio.register(name)
    sensor = sensor_class(profile)(sensor_data, speed=speed, faults=faults, serial=serial, **sensor_options)
    await sensor.start(await radio.open_transport())
    try:
        yield SimulatedSensorHandle(sensor, radio, spec)
    finally:
        await sensor.stop()
        if own_radio:
            radio.close()
