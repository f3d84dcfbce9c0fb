"""`reptrack forget SENSOR_ID`: clear a sensor's retained topics on the broker (docs/mqtt.md)."""

from __future__ import annotations

import argparse

from tracker.errors import UserError
from tracker.mqtt.broker import DEFAULT_PORT, BrokerURL, broker_answers
from tracker.mqtt.options import add_mqtt_arguments, mqtt_settings

HELP = "clear a sensor's retained status, state and discovery topics (a sensor that will not come back)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sensor", nargs="+", metavar="SENSOR_ID", help="sensor id as `reptrack run` used it")
    add_mqtt_arguments(parser, publisher=False)
    parser.add_argument(
        "--homeassistant",
        nargs="?",
        const="homeassistant",
        default=None,
        metavar="PREFIX",
        help="also clear its Home Assistant discovery configs (discovery prefix, default homeassistant)",
    )
    parser.add_argument("--force", action="store_true", help="clear a sensor even while its status is online")


def run(args: argparse.Namespace) -> int:
    from tracker.mqtt.forget import forget_sensor

    if args.broker:
        url = BrokerURL.parse(args.broker)
    else:
        url = BrokerURL("127.0.0.1", DEFAULT_PORT)
        if not broker_answers(url.host, url.port):
            raise UserError("no MQTT broker answers on localhost:1883; give --broker URL")
    settings = mqtt_settings(args, url)
    for sensor in args.sensor:
        cleared = forget_sensor(settings, sensor, homeassistant_prefix=args.homeassistant, force=args.force)
        if cleared:
            print(f"{sensor}: cleared {len(cleared)} retained topics: {', '.join(cleared)}")
        else:
            print(f"{sensor}: nothing retained under {settings.prefix}/ on {settings.broker}")
    return 0
