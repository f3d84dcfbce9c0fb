"""Home Assistant MQTT discovery (docs/mqtt.md, "Home Assistant").

One device per sensor with the entities reps in set, total reps, exercise, last depth, wobble,
battery and status, all read from the sensor's retained ``state`` and ``status`` topics, so Home
Assistant shows the current values right after it starts. Configs are published retained to
``<discovery_prefix>/sensor/<node>/<object>/config``.
"""

from __future__ import annotations

from typing import Any

from tracker.mqtt.topics import Topics

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
    node = f"reptrack_{topics.sensor_id}".replace("-", "_").replace(".", "_")
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
                    "object_id": f"{node}_{obj}",
                    "state_topic": topics.state,
                    "value_template": template,
                    "device": device,
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
                "object_id": f"{node}_status",
                "state_topic": topics.status,
                "value_template": "{{ value_json.status }}",
                "device": device,
            },
        )
    )
    return out
