"""`reptrack demo` (what `make demo` runs): everything in one command, nothing to install.

An MQTT broker (``--broker URL``; else the one on localhost:1883 if it answers; else an embedded
one), the simulated sensor running the seed session (accelerated), the tracker publishing to it,
the dashboard subscribed to it and the live web page beside it (its address is printed), the
tracker following the seed plan; at the end, a session summary. Without a terminal the dashboard
prints plain lines.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import webbrowser
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tracker.errors import UserError
from tracker.mqtt.broker import resolve_broker
from tracker.mqtt.options import add_mqtt_arguments, mqtt_settings
from tracker.mqtt.publisher import MqttSettings
from tracker.ui import WEB_HOST, WEB_PORT
from tracker.ui.terminal import Dashboard

if TYPE_CHECKING:
    from tracker.ui.web import WebDashboard

HELP = "one-command demo: embedded broker, simulated sensor, tracker and live dashboard"

TARGET_RUNTIME_S = 25.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workout", default="builtin:runner-strength", help="workout (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--speed",
        type=float,
        default=None,
        help=f"x real time (default: whatever makes the session last about {TARGET_RUNTIME_S:.0f} s)",
    )
    parser.add_argument("--sensors", type=int, default=1, help="simulated sensors at once (default: 1)")
    parser.add_argument("--plain", action="store_true", help="plain lines instead of the live table")
    parser.add_argument(
        "--plan",
        help="workout plan to follow (default: builtin:runner-strength with the default workout; docs/plans.md)",
    )
    web = parser.add_argument_group("live page (docs/web.md)")
    web.add_argument("--no-web", action="store_true", help="no live web page")
    web.add_argument("--web-host", default=WEB_HOST, help="address of the live page (default %(default)s)")
    web.add_argument(
        "--web-port",
        type=int,
        default=WEB_PORT,
        help="port of the live page (default %(default)s, else any free)",
    )
    web.add_argument("--open", action="store_true", help="open the live page in this machine's browser")
    add_mqtt_arguments(parser, publisher=False)
    parser.set_defaults(record=None, calibration=None, quiet=True, homeassistant=None)


def run(args: argparse.Namespace) -> int:
    from tracker.cli.run import print_summary, sim_source, summaries

    t_start = time.monotonic()
    url, embedded = resolve_broker(args.broker)  # --broker; else localhost:1883 if it answers; else embedded
    try:
        if embedded is not None:
            print(
                f"RepTrack demo: embedded MQTT broker at {url} (subscribe with any MQTT client)", flush=True
            )
        else:
            print(f"RepTrack demo: publishing to the MQTT broker at {url} under {args.prefix}/", flush=True)
        # The embedded broker (amqtt) speaks MQTT 3.1.1 only.
        settings = mqtt_settings(args, url, "3.1.1" if embedded is not None else None)
        results, seen, sources = _run_demo(args, settings, sim_source)
    finally:
        if embedded is not None:
            embedded.stop()
    print()
    print_summary(summaries(sources, results))
    print(
        "  dashboard received: "
        + ", ".join(f"{k} {n} reps" for k, n in sorted(seen.items()))
        + f" (demo took {time.monotonic() - t_start:.0f} s)"
    )
    return 0


def _run_demo(
    args: argparse.Namespace, settings: MqttSettings, sim_source: Any
) -> tuple[Any, dict[str, int], list[Any]]:
    """The simulated sensors, the tracker and the dashboard on ``settings``' broker."""
    from tracker.cli.run import serve

    sources = [
        sim_source(args.workout, seed=args.seed + i, sensor_id=f"sim-{i + 1}", speed=args.speed or 0.0)
        for i in range(max(1, args.sensors))
    ]
    speed = args.speed or _auto_speed(sources)
    for src in sources:
        if hasattr(src, "speed"):
            src.speed = speed
    print(f"simulated sensor(s) running {args.workout} at {speed:.1f}x real time", flush=True)
    if args.plan is None and args.workout == "builtin:runner-strength":
        args.plan = "builtin:runner-strength"
    page = None if args.no_web else _live_page(settings, args)
    dash = Dashboard(settings, live=False if args.plain else None, client_id="reptrack-demo-dashboard")
    dash.start()
    try:
        results = asyncio.run(serve(sources, settings, args=args))
        time.sleep(0.3)  # let the last messages reach the dashboard
    finally:
        dash.stop()
        if page is not None:
            page.stop()
    seen = {v.sensor_id: sum(v.reps_per_set().values()) for v in dash.facts.snapshot()}
    return results, seen, sources


def _live_page(settings: MqttSettings, args: argparse.Namespace) -> WebDashboard:
    """The live page beside the terminal view: on --web-port, or any free port if that one is taken."""
    from tracker.ui.web import WebDashboard  # Starlette and uvicorn: only when the page is served

    try:
        page = WebDashboard(settings, host=args.web_host, port=args.web_port, client_id="reptrack-demo-web")
    except UserError:
        page = WebDashboard(settings, host=args.web_host, port=0, client_id="reptrack-demo-web")
    page.start()
    print(f"live page: {page.url} (a phone on this network needs --web-host 0.0.0.0)", flush=True)
    if args.open:
        webbrowser.open(page.url)
    return page


def _auto_speed(sources: Sequence[object]) -> float:
    longest = 0.0
    for src in sources:
        duration = getattr(src, "duration_s", None)
        if duration:
            longest = max(longest, float(duration))
    return max(1.0, longest / TARGET_RUNTIME_S) if longest else 10.0
