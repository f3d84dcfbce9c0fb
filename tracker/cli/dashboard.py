"""`reptrack dashboard`: a live terminal view of every sensor under the prefix (docs/mqtt.md)."""

from __future__ import annotations

import argparse

from tracker.errors import UserError
from tracker.mqtt.broker import DEFAULT_PORT, BrokerURL, broker_answers
from tracker.mqtt.options import add_mqtt_arguments, mqtt_settings
from tracker.ui.terminal import Dashboard

HELP = "live terminal dashboard of the sensors publishing under a prefix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_mqtt_arguments(parser, publisher=False)
    parser.add_argument(
        "--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)"
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="print one line per fact instead of the live table (automatic without a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    if args.broker:
        url = BrokerURL.parse(args.broker)
    else:
        url = BrokerURL("127.0.0.1", DEFAULT_PORT)
        if not broker_answers(url.host, url.port):
            raise UserError(
                "no MQTT broker answers on localhost:1883; give --broker URL (the one 'reptrack run' printed)"
            )
    dash = Dashboard(mqtt_settings(args, url), live=False if args.plain else None)
    dash.start()
    try:
        dash.run_forever(args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        dash.stop()
    return 0
