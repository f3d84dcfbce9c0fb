"""Command-line options shared by ``reptrack run``, ``dashboard`` and ``demo`` (docs/mqtt.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tracker.errors import UserError
from tracker.mqtt.broker import BrokerURL, EmbeddedBroker, load_security, resolve_broker
from tracker.mqtt.connection import DEFAULT_MAX_BUFFERED_EVENTS, MqttSettings
from tracker.mqtt.topics import DEFAULT_PREFIX, check_prefix


def add_mqtt_arguments(parser: argparse.ArgumentParser, *, publisher: bool = True) -> None:
    g = parser.add_argument_group("MQTT")
    g.add_argument(
        "--broker",
        metavar="URL",
        help="mqtt://[user@]host[:port] or mqtts://...; default: localhost:1883 if a broker answers, "
        "else an embedded broker is started. The password comes from REPTRACK_MQTT_PASSWORD or "
        "--mqtt-config, never from the command line",
    )
    g.add_argument(
        "--mqtt-config",
        metavar="FILE",
        type=Path,
        help="TOML file with username, password, ca_file, cert_file, key_file (docs/mqtt.md)",
    )
    g.add_argument("--prefix", default=DEFAULT_PREFIX, help="topic prefix (default: %(default)s)")
    g.add_argument(
        "--mqtt-protocol",
        choices=("auto", "5", "3.1.1"),
        default="auto",
        help="MQTT version; auto tries 5 and falls back to 3.1.1 (default: %(default)s)",
    )
    if publisher:
        g.add_argument(
            "--max-buffer",
            type=int,
            default=DEFAULT_MAX_BUFFERED_EVENTS,
            metavar="N",
            help="events kept per sensor while the broker is unreachable (default: %(default)s)",
        )
        g.add_argument(
            "--homeassistant",
            nargs="?",
            const="homeassistant",
            default=None,
            metavar="PREFIX",
            help="publish Home Assistant MQTT discovery configs (discovery prefix, default homeassistant)",
        )


def mqtt_settings(args: argparse.Namespace, broker: BrokerURL, protocol: str | None = None) -> MqttSettings:
    max_buffer = int(getattr(args, "max_buffer", DEFAULT_MAX_BUFFERED_EVENTS))
    if max_buffer < 1:
        raise UserError(f"--max-buffer must be at least 1, got {max_buffer}")
    return MqttSettings(
        broker=broker,
        security=load_security(broker, args.mqtt_config),
        prefix=check_prefix(args.prefix),
        protocol=protocol or args.mqtt_protocol,
        max_buffered_events=max_buffer,
        homeassistant_prefix=getattr(args, "homeassistant", None),
    )


def broker_from_args(
    args: argparse.Namespace, say: bool = True
) -> tuple[MqttSettings, EmbeddedBroker | None]:
    """Resolve ``--broker`` (starting the embedded broker if needed) and build the settings."""
    url, embedded = resolve_broker(args.broker)
    if embedded is not None and say:
        print(
            f"No MQTT broker on localhost:1883: started an embedded broker at {embedded.url} "
            "(subscribe there; it keeps nothing after the service stops)",
            file=sys.stderr,
            flush=True,
        )
    # The embedded broker (amqtt) speaks MQTT 3.1.1 only.
    return mqtt_settings(args, url, "3.1.1" if embedded is not None else None), embedded
