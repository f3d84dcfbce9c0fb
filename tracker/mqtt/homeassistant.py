"""Home Assistant MQTT discovery (docs/mqtt.md, "Home Assistant").

One device per sensor with the entities reps in set, total reps, exercise, last depth, wobble,
battery and status, all read from the sensor's retained ``state`` and ``status`` topics, so Home
Assistant shows the current values right after it starts. Configs are published retained to
``<discovery_prefix>/sensor/<node>/<object>/config``, each with ``default_entity_id`` (the
successor of the deprecated ``object_id``) and an ``origin`` naming RepTrack.
"""

from __future__ import annotations

from typing import Any

from tracker import __version__
from tracker.mqtt.topics import Topics

ORIGIN = {
    "name": "RepTrack",
    "sw_version": __version__,
    "support_url": "https://github.com/reptrack/reptrack",
}
"""Who published the discovery config (Home Assistant shows it, and logs it with errors)."""


def ha_node_id(sensor_topic_id: str) -> str:
    """The sensor's node id as Home Assistant has known it since the first release (unchanged, so
    existing entities keep their history)."""
    return f"reptrack_{sensor_topic_id}".replace("-", "_").replace(".", "_")


# object id, name, value template, extra config
_STATE_SENSORS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("reps_in_set", "Reps in set", "{{ value_json.reps_in_set }}", {"state_class": "measurement"}),
    ("total_reps", "Total reps", "{{ value_json.total_reps }}", {"state_class": "total_increasing"}),
    ("exercise", "Exercise", "{{ value_json.exercise or 'none' }}", {}),
    (
        "last_depth",
        "Last depth",
        "{{ value_json.last_rep.depth_deg | round(1) if value_json.last_rep else none }}",
        {"unit_of_measurement": "°", "state_class": "measurement"},
    ),
    ("wobble", "Wobble", "{{ value_json.wobble | round(2) if value_json.wobble is not none else none }}", {}),
    (
        "battery",
        "Battery",
        "{{ value_json.battery_pct | round(0) if value_json.battery_pct is not none else none }}",
        {"unit_of_measurement": "%", "device_class": "battery", "state_class": "measurement"},
    ),
)


def discovery_messages(discovery_prefix: str, topics: Topics, name: str) -> list[tuple[str, dict[str, Any]]]:
    """The retained discovery configs for one sensor as (topic, payload) pairs."""
    node = ha_node_id(topics.sensor_id)
    device = {
        "identifiers": [node],
        "name": f"RepTrack {name}",
        "manufacturer": "RepTrack",
        "model": "thigh IMU",
    }
    availability = {
        "availability_topic": topics.status,
        "availability_template": "{{ value_json.status }}",
        "payload_available": "online",
        "payload_not_available": "offline",
    }
    out: list[tuple[str, dict[str, Any]]] = []
    for obj, label, template, extra in _STATE_SENSORS:
        out.append(
            (
                f"{discovery_prefix}/sensor/{node}/{obj}/config",
                {
                    "name": label,
                    "unique_id": f"{node}_{obj}",
                    "default_entity_id": f"sensor.{node}_{obj}",
                    "state_topic": topics.state,
                    "value_template": template,
                    "device": device,
                    "origin": ORIGIN,
                    **availability,
                    **extra,
                },
            )
        )
    out.append(
        (
            f"{discovery_prefix}/sensor/{node}/status/config",
            {
                "name": "Status",
                "unique_id": f"{node}_status",
                "default_entity_id": f"sensor.{node}_status",
                "state_topic": topics.status,
                "value_template": "{{ value_json.status }}",
                "device": device,
                "origin": ORIGIN,
            },
        )
    )
    return out
