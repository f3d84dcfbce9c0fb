"""`reptrack run`: the live service. Sensors in, live facts out over MQTT (docs/mqtt.md).

Sources: ``--device ADDR|NAME`` (a BLE sensor), ``--sim WORKOUT`` (the simulated sensor), or
``--replay FILE`` at ``--speed X``; each option may be given several times to run several
sensors at once. Ctrl-C stops cleanly: the last set is closed, queued events are delivered,
``offline`` is published and recordings are closed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from calibration import resolve_calibration
from tracker.ble.options import add_link_arguments
from tracker.errors import UserError
from tracker.events import Event, RepEvent, SetEvent, WobbleEvent
from tracker.mqtt.options import add_mqtt_arguments, broker_from_args
from tracker.mqtt.plan_publisher import PlanPublisher
from tracker.mqtt.publisher import MqttSettings, SensorPublisher
from tracker.mqtt.topics import check_unique_topic_ids, sensor_topic_id
from tracker.pipeline import Pipeline
from tracker.plan import Plan, PlanFollower, PlannedPipeline, load_plan
from tracker.service import EventPipeline, Recorder, SensorResult, Sink, Source, run_service

HELP = "live service: sensor(s) -> rep counting -> MQTT"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("sources (one or more, any mix)")
    src.add_argument("--device", action="append", default=[], metavar="ADDR|NAME", help="a BLE sensor")
    src.add_argument(
        "--sim",
        action="append",
        default=[],
        metavar="WORKOUT",
        help="a simulated sensor running this workout (builtin:runner-strength or a TOML file)",
    )
    src.add_argument(
        "--sim-profile",
        choices=("reptrack", "polar", "metawear"),
        default="reptrack",
        help="which sensor the simulator plays: RepTrack's own, a Polar Verity Sense or a MetaWear "
        "(docs/sensors.md; default reptrack)",
    )
    src.add_argument("--replay", action="append", default=[], metavar="FILE", type=Path, help="a recording")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="replay/simulation speed, x real time; 0 = as fast as possible",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the first simulated sensor")
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="keep the raw session (with several sensors: FILE-<sensor>.rtrk per sensor)",
    )
    parser.add_argument(
        "--calibration", type=Path, metavar="FILE", help="calibration file (overrides the stored one)"
    )
    parser.add_argument(
        "--plan",
        metavar="PLAN",
        help="follow a workout plan (builtin:runner-strength or a TOML file, docs/plans.md): name "
        "sets from it, announce 'set 3 of 6', publish progress on <prefix>/<sensor>/plan",
    )
    parser.add_argument("--json", action="store_true", help="print the session summary as JSON at the end")
    parser.add_argument("--quiet", action="store_true", help="no line per rep on the terminal")
    add_mqtt_arguments(parser)
    add_link_arguments(parser)


def build_sources(args: argparse.Namespace) -> list[Source]:
    sources: list[Source] = []
    speed = float(args.speed)
    if speed < 0:
        raise UserError(f"--speed must be 0 (as fast as possible) or positive, got {speed}")
    from tracker.service import ReplaySource

    for path in args.replay:
        sources.append(ReplaySource(path, speed))
    for i, workout in enumerate(args.sim):
        profile = getattr(args, "sim_profile", "reptrack")
        sources.append(
            sim_source(workout, seed=args.seed + i, sensor_id=f"sim-{i + 1}", speed=speed, profile=profile)
        )
    for address in args.device:
        sources.append(device_source(address, args))
    if not sources:
        raise UserError("no source: give --device ADDR, --sim WORKOUT or --replay FILE")
    ids = [s.sensor_id for s in sources]
    if len(set(ids)) != len(ids):
        raise UserError(f"two sources have the same sensor id ({', '.join(ids)}); run them separately")
    check_unique_topic_ids(ids)
    return sources


def sim_source(workout: str, *, seed: int, sensor_id: str, speed: float, profile: str = "reptrack") -> Source:
    """The simulated sensor, streaming over the in-process virtual BLE radio (docs/ble.md).

    The simulator registers itself as the ``sim`` source (tracker/plugins.py): no import of it here.
    """
    from tracker.plugins import SOURCES_GROUP, load_plugin

    source: Source = load_plugin(SOURCES_GROUP, "sim")(
        workout, seed=seed, sensor_id=sensor_id, speed=speed, profile=profile
    )
    return source


def device_source(address: str, args: argparse.Namespace | None = None) -> Source:
    """A real sensor through bleak, or through Bumble on a raw controller (--backend, --transport)."""
    from tracker.ble.live import DeviceSource
    from tracker.ble.options import link_config_from_args

    return DeviceSource(link_config_from_args(args or argparse.Namespace(), address))


def _recorder(
    args: argparse.Namespace, source: Source, several: bool, calibration_id: str | None
) -> Recorder | None:
    if args.record is None:
        return None
    from calibration.store import device_slug
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    path = Path(args.record)
    if several:  # the sensor id may hold '/' or be very long: its file-name form, one per id
        path = path.with_name(f"{path.stem}-{device_slug(source.sensor_id)}{path.suffix or '.rtrk'}")
    meta = RecordingMeta(
        device_id=source.sensor_id,
        device_name=source.name,
        source="reptrack run",
        calibration_id=calibration_id,
        extra={"plan": args.plan} if getattr(args, "plan", None) else {},  # the report compares with it
    )
    return RecordingWriter.create(path, meta)


def event_line(sensor: str, ev: Event) -> str | None:
    if isinstance(ev, RepEvent):
        return (
            f"[{sensor}] set {ev.set_index} rep {ev.rep.n}: {ev.exercise}, depth {ev.rep.depth_deg:.0f} deg, "
            f"{ev.rep.duration_s:.1f} s"
        )
    if isinstance(ev, SetEvent):
        return f"[{sensor}] set {ev.index} done: {len(ev.reps)} reps of {ev.exercise} ({ev.leg})"
    if isinstance(ev, WobbleEvent):
        return f"[{sensor}] wobble {ev.level:.2f} (baseline {ev.baseline:.2f}){' balance lost' if ev.balance_loss else ''}"
    return None


def summaries(sources: list[Source], results: list[SensorResult]) -> list[dict[str, Any]]:
    out = []
    for src, res in zip(sources, results, strict=True):
        try:
            from tracker.summary import summarize

            summary: dict[str, Any] = summarize(src.sensor_id, res.duration_s, res.events)
        except ImportError:
            summary = {
                "source": src.sensor_id,
                "duration_s": res.duration_s,
                "total_reps": len(res.reps),
                "sets": [s.to_json() for s in res.sets],
            }
        summary["sensor"] = src.sensor_id
        summary["undelivered_events"] = res.undelivered
        summary["dropped_events"] = res.dropped
        out.append(summary)
    return out


def print_summary(items: list[dict[str, Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up at call time: a caller may have replaced sys.stdout
    print("Session summary", file=out)
    for s in items:
        sets = s.get("sets", [])
        print(
            f"  {s['sensor']}: {s.get('total_reps', 0)} reps in {len(sets)} sets, {s.get('duration_s', 0):.0f} s",
            file=out,
        )
        for st in sets:
            depths = [r.get("depth_deg", 0.0) for r in st.get("reps_detail", [])]
            mean = sum(depths) / len(depths) if depths else 0.0
            print(
                f"    set {st['index']}: {st['reps']:>2} x {st['exercise']} ({st['leg']}), mean depth {mean:.0f} deg",
                file=out,
            )
        if s.get("undelivered_events") or s.get("dropped_events"):
            print(
                f"    warning: {s['undelivered_events']} event(s) not delivered, {s['dropped_events']} dropped",
                file=out,
            )


async def serve(
    sources: list[Source],
    settings: MqttSettings,
    *,
    args: argparse.Namespace,
    session_id: str | None = None,
    on_event: Callable[[str, Event], None] | None = None,
    stop: asyncio.Event | None = None,
) -> list[SensorResult]:
    """Connect a publisher per source, run them all, stop cleanly on SIGINT/SIGTERM or ``stop``."""
    session_id = session_id or time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, _on_signal, loop, sig, stop)
    # Calibrations first: a broken or mismatched file is the user's to fix before anything connects.
    cals = [resolve_calibration(src.sensor_id, getattr(args, "calibration", None)) for src in sources]
    plan = load_plan(args.plan) if getattr(args, "plan", None) else None
    if plan is not None:
        print(
            f"following the plan {plan.name}: {len(plan.tracked)} sets counted by the sensor"
            + (f", then {', '.join(s.title for s in plan.untracked)}" if plan.untracked else ""),
            file=sys.stderr,
            flush=True,
        )
    publishers: list[SensorPublisher] = []
    plan_publishers: list[PlanPublisher] = []
    try:
        for src in sources:
            pub = SensorPublisher(settings, sensor_topic_id(src.sensor_id), session_id, name=src.name)
            await asyncio.to_thread(pub.connect)
            publishers.append(pub)
        runs: list[tuple[Source, Sink | None, EventPipeline, Recorder | None]] = []
        for src, pub, cal in zip(sources, publishers, cals, strict=True):
            if cal is not None:
                print(f"[{src.sensor_id}] applying calibration {cal.id}", file=sys.stderr, flush=True)
            # A DeviceCalibration also gives the pipeline its mounting; the source may know the thigh.
            base = Pipeline(calibration=cal, sensor_leg=getattr(src, "sensor_leg", None))
            pipeline: EventPipeline = base
            if plan is not None:
                plan_pub = PlanPublisher(settings, src.sensor_id, session_id)
                await asyncio.to_thread(plan_pub.connect)
                plan_publishers.append(plan_pub)
                pipeline = _planned(base, plan, plan_pub, src.sensor_id, quiet=getattr(args, "quiet", False))
            runs.append(
                (src, pub, pipeline, _recorder(args, src, len(sources) > 1, None if cal is None else cal.id))
            )
    except BaseException:
        for pub in publishers:
            await asyncio.to_thread(pub.close, 1.0)
        for plan_pub in plan_publishers:
            await asyncio.to_thread(plan_pub.close, 1.0)
        raise
    try:
        return await run_service(runs, stop=stop, on_event=on_event)
    finally:
        for plan_pub in plan_publishers:
            await asyncio.to_thread(plan_pub.close)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


def _planned(
    pipeline: Pipeline, plan: Plan, publisher: PlanPublisher, sensor: str, *, quiet: bool
) -> PlannedPipeline:
    """The pipeline following ``plan``: progress to the retained ``plan`` topic, lines to stdout."""

    def announce(line: str) -> None:
        if not quiet:
            print(f"[{sensor}] {line}", flush=True)

    return PlannedPipeline(pipeline, PlanFollower(plan), on_progress=publisher.publish, on_announce=announce)


def _on_signal(loop: asyncio.AbstractEventLoop, sig: int, stop: asyncio.Event) -> None:
    if stop.is_set():  # a second Ctrl-C: stop waiting for the broker
        raise KeyboardInterrupt
    print("\nstopping: closing the sets, delivering queued events...", file=sys.stderr, flush=True)
    stop.set()


def run(args: argparse.Namespace) -> int:
    sources = build_sources(args)
    settings, embedded = broker_from_args(args)
    try:
        print(
            f"publishing to {settings.broker} under {settings.prefix}/<sensor>/", file=sys.stderr, flush=True
        )

        def on_event(sensor: str, ev: Event) -> None:
            line = event_line(sensor, ev)
            if line and not args.quiet:
                print(line, flush=True)

        results = asyncio.run(serve(sources, settings, args=args, on_event=on_event))
    finally:
        if embedded is not None:
            embedded.stop()
    for src, res in zip(sources, results, strict=True):
        if res.replaced_samples:
            print(f"[{src.sensor_id}] warning: {res.replaced_samples}", file=sys.stderr, flush=True)
    items = summaries(sources, results)
    if args.json:
        print(json.dumps(items if len(items) > 1 else items[0], indent=2))
    else:
        print_summary(items)
    return 1 if any(r.undelivered or r.dropped for r in results) else 0
