"""Sources that live outside the product, found through entry points (docs/sensors.md).

The simulator is a client of the product, never a dependency of it: nothing under ``tracker/``
or ``calibration/`` imports ``firmware_sim``. It registers itself instead, in its package
metadata (pyproject.toml):

- ``reptrack.sources``: ``sim`` -> a callable ``(workout, *, seed, sensor_id, speed, profile)``
  returning a live source (``reptrack run --sim``, the demo);
- ``reptrack.calibration_sources``: ``sim`` -> a callable ``(kind, workout, seed, chunk)``
  returning a :class:`calibration.flows.Stream` (``reptrack calibrate ... --sim``).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from tracker.errors import UserError

SOURCES_GROUP = "reptrack.sources"
CALIBRATION_SOURCES_GROUP = "reptrack.calibration_sources"


def load_plugin(group: str, name: str) -> Any:
    """The object registered as ``name`` in entry point ``group``; UserError when none is installed."""
    found = [ep for ep in entry_points(group=group) if ep.name == name]
    if not found:
        raise UserError(
            f"no {name!r} source is installed (entry point group {group!r}); "
            "install RepTrack with its simulator (pip install -e .) to use --sim"
        )
    return found[0].load()
