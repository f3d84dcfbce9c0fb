"""Live facts over MQTT: topics, payloads, the publisher, the embedded broker, watchers (docs/mqtt.md)."""

from tracker.mqtt.broker import (
    BrokerError,
    BrokerURL,
    EmbeddedBroker,
    Security,
    broker_answers,
    load_security,
    resolve_broker,
)
from tracker.mqtt.connection import MqttSettings
from tracker.mqtt.publisher import SensorPublisher
from tracker.mqtt.subscriber import LiveFacts, SensorView, Watcher
from tracker.mqtt.topics import DEFAULT_PREFIX, Topics

__all__ = [
    "DEFAULT_PREFIX",
    "BrokerError",
    "BrokerURL",
    "EmbeddedBroker",
    "LiveFacts",
    "MqttSettings",
    "Security",
    "SensorPublisher",
    "SensorView",
    "Topics",
    "Watcher",
    "broker_answers",
    "load_security",
    "resolve_broker",
]
