"""`reptrack web`: the live page by the rack, served locally (docs/web.md)."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import sys

from tracker.errors import UserError
from tracker.mqtt.broker import DEFAULT_PORT as MQTT_PORT
from tracker.mqtt.broker import BrokerURL, broker_answers
from tracker.mqtt.options import add_mqtt_arguments, mqtt_settings
from tracker.ui import WEB_HOST, WEB_PORT

HELP = "live web page (phone, tablet) of the sensors publishing under a prefix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=WEB_HOST,
        help="address to serve on (default %(default)s: this machine only; 0.0.0.0 lets phones on "
        "the local network in)",
    )
    parser.add_argument("--port", type=int, default=WEB_PORT, help="port (default %(default)s; 0: any free)")
    add_mqtt_arguments(parser, publisher=False)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from tracker.ui.web import WebDashboard  # Starlette and uvicorn: only for this command

    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be 0..65535, got {args.port}")
    if args.broker:
        url = BrokerURL.parse(args.broker)
    else:
        url = BrokerURL("127.0.0.1", MQTT_PORT)
        if not broker_answers(url.host, url.port):
            raise UserError(
                "no MQTT broker answers on localhost:1883; give --broker URL (the one 'reptrack run' printed)"
            )
    web = WebDashboard(mqtt_settings(args, url), host=args.host, port=args.port).connect()
    print(f"RepTrack live page: {web.url} (sensors under {url} {args.prefix}/...; Ctrl-C stops)", flush=True)
    if not is_loopback(args.host):
        print(
            f"note: serving on {args.host}: anyone who can reach this machine can see the page",
            file=sys.stderr,
            flush=True,
        )
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn passes Ctrl-C on once the streams closed
        web.serve_forever()
    return 0
