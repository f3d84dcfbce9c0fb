"""Clearing a sensor's retained topics (``reptrack forget``, docs/mqtt.md "Removing a sensor").

A broker keeps a retained message until someone publishes an empty retained message to the same
topic. A sensor that will not come back (a failed ``run --device``, a renamed sensor, a test)
would otherwise show as ``offline`` in every dashboard forever.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from tracker.errors import UserError
from tracker.mqtt.connection import MqttSettings, connect_client, disconnect_client
from tracker.mqtt.homeassistant import ha_node_id
from tracker.mqtt.topics import Topics, sensor_topic_id

RETAINED_GRACE_S = 0.5
"""How long to wait, after the broker acknowledged the subscription, for retained messages."""


def retained_filters(settings: MqttSettings, sensor_id: str, homeassistant_prefix: str | None) -> list[str]:
    """The topic filters under which this sensor's retained messages may live."""
    topics = Topics(settings.prefix, sensor_topic_id(sensor_id))
    filters = [f"{topics.base}/#"]
    if homeassistant_prefix:
        filters.append(f"{homeassistant_prefix}/sensor/{ha_node_id(topics.sensor_id)}/+/config")
    return filters


def forget_sensor(
    settings: MqttSettings,
    sensor_id: str,
    *,
    homeassistant_prefix: str | None = None,
    force: bool = False,
    timeout_s: float = 10.0,
) -> list[str]:
    """Clear every retained message of ``sensor_id``; return the topics cleared (sorted).

    Refuses (``UserError``) while the sensor's status says ``online`` unless ``force``: a tracker
    is publishing it, and clearing its status would hide a live sensor.
    """
    found: dict[str, bytes] = {}
    subscribed = threading.Event()
    lock = threading.Lock()

    def prepare(client: mqtt.Client) -> None:
        def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            if msg.retain and msg.payload:
                with lock:
                    found[msg.topic] = bytes(msg.payload)

        def on_subscribe(c: mqtt.Client, userdata: Any, mid: int, rcs: Any, props: Any) -> None:
            subscribed.set()

        client.on_message = on_message
        client.on_subscribe = on_subscribe

    client = connect_client(settings, f"reptrack-forget-{os.getpid()}", prepare=prepare, timeout_s=timeout_s)
    try:
        filters = retained_filters(settings, sensor_id, homeassistant_prefix)
        client.subscribe([(f, 1) for f in filters])
        if not subscribed.wait(timeout_s):
            raise UserError(f"the MQTT broker {settings.broker} did not acknowledge the subscription")
        time.sleep(RETAINED_GRACE_S)
        with lock:
            retained = dict(found)
        status_topic = Topics(settings.prefix, sensor_topic_id(sensor_id)).status
        if not force and b'"online"' in retained.get(status_topic, b""):
            raise UserError(
                f"sensor {sensor_id!r} is online ({status_topic}): a tracker is publishing it; stop it "
                "first, or pass --force"
            )
        for topic in sorted(retained):
            info = client.publish(topic, b"", qos=1, retain=True)
            info.wait_for_publish(timeout_s)
            if not info.is_published():
                raise UserError(f"the MQTT broker {settings.broker} did not acknowledge clearing {topic}")
        return sorted(retained)
    finally:
        disconnect_client(client)
