"""Delay from a rep to a subscriber receiving its event, timed on the simulated sensor's own clock.

The simulated sensor streams the workout in real time (speed 1) over the timed virtual BLE
radio; the tracker (SensorLink -> pipeline -> publisher) publishes to a real broker (Mosquitto
when installed, else the embedded amqtt broker); a separate MQTT subscriber notes when each rep
event arrives. Time zero is the sensor's own: the wall time at which the simulated sensor took
its sample at session time 0 (``start_wall_s``), so the radio's delay is inside the figures.
Two delays per rep:

- decision -> subscriber: arrival minus the moment the sensor took the sample that decided the
  rep (the event's ``t_s``): what the radio, the tracker and the broker add;
- upright -> subscriber: arrival minus the moment the athlete was fully upright (the truth's
  ``t_end_s``); negative when the rep is announced during the last part of the ascent.

Also the broker hop alone (arrival minus ``sent_at``). Prints medians and p95 and writes
bench/results/latency.json.

    python bench/latency.py [--workout builtin:runner-strength] [--seconds 100]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Broker, write_results
from tracker.mqtt import BrokerURL, MqttSettings, SensorPublisher, Watcher
from tracker.pipeline import Pipeline
from tracker.service import run_sensor


def truth_rep_ends(workout: str, seed: int) -> list[float]:
    """Session times at which the athlete stood up, from the simulator's ground truth."""
    if workout.startswith("synthetic:"):
        seconds = float(workout.partition(":")[2])
        return [3.0 * k for k in range(1, int(seconds // 3) + 1)]  # SensorData.synthetic: a squat every 3 s
    from firmware_sim.session import simulate
    from firmware_sim.workout import load_workout

    truth = simulate(load_workout(workout), seed=seed).truth.to_json()
    return [float(r["t_end_s"]) for s in truth["sets"] for r in s["reps_detail"]]


async def measure(workout: str, seed: int, seconds: float, url: BrokerURL) -> dict[str, Any]:
    from firmware_sim.source import simulated_source

    settings = MqttSettings(url)
    arrivals: dict[str, tuple[float, dict[str, Any]]] = {}

    def on_message(sensor: str, leaf: str, body: dict[str, Any]) -> None:
        if leaf == "event/rep":
            arrivals[body["id"]] = (time.time(), body)

    watcher = Watcher(settings, persistent=False, on_message=on_message).start()
    source = simulated_source(workout, seed=seed, sensor_id="bench", speed=1.0)
    publisher = SensorPublisher(settings, "bench", "latency")
    publisher.connect()
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    result = await run_sensor(source, publisher, Pipeline(), stop=stop)
    await asyncio.sleep(0.5)
    watcher.stop()
    t0 = source.sensor_wall_t0
    if t0 is None:
        raise SystemExit("the source never streamed")
    truth = np.asarray([t for t in truth_rep_ends(workout, seed) if t <= result.duration_s - 2.0])
    upright, decision, transport, missed = [], [], [], 0
    for t_end in truth:
        best = min(
            (item for item in arrivals.values() if abs(float(item[1]["rep"]["t_end_s"]) - t_end) < 1.0),
            key=lambda item: abs(float(item[1]["rep"]["t_end_s"]) - t_end),
            default=None,
        )
        if best is None:
            missed += 1
            continue
        recv, body = best
        upright.append(recv - (t0 + t_end))
        decision.append(recv - (t0 + float(body["t_s"])))
        transport.append(recv - float(body["sent_at"]))

    def stat(values: list[float], q: float) -> float | None:
        return float(np.percentile(values, q)) if values else None

    return {
        "workout": workout,
        "seconds": result.duration_s,
        "truth_reps": int(truth.size),
        "received_reps": len(arrivals),
        "matched_reps": len(upright),
        "missed_reps": missed,
        "decision_to_subscriber_median_s": stat(decision, 50),
        "decision_to_subscriber_p95_s": stat(decision, 95),
        "upright_to_subscriber_median_s": stat(upright, 50),
        "upright_to_subscriber_p95_s": stat(upright, 95),
        "broker_median_ms": None if not transport else 1000 * float(np.median(transport)),
        "broker_p95_ms": None if not transport else 1000 * float(np.percentile(transport, 95)),
    }


def dashboard_redraw_ms(sensors: int = 50, rounds: int = 20) -> float:
    """Median time to redraw the dashboard table with ``sensors`` rows (done on every message)."""
    import io

    from rich.console import Console

    from tracker.mqtt import LiveFacts, payloads
    from tracker.mqtt.topics import Topics
    from tracker.ui.terminal import render

    facts = LiveFacts("reptrack")
    for i in range(sensors):
        topics = Topics("reptrack", f"sensor-{i:03d}")
        state = payloads.StateTracker()
        facts.handle(topics.status, payloads.encode(payloads.status_payload(topics.sensor_id, "s", True)))
        facts.handle(topics.state, payloads.encode(state.payload(topics.sensor_id, "s")))
    console = Console(file=io.StringIO(), width=160)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        console.print(render(facts))
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workout", default="builtin:runner-strength")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--seconds", type=float, default=100.0, help="how much of the workout to stream (real time)"
    )
    args = ap.parse_args()
    broker = Broker()
    with broker as url:
        figures = asyncio.run(measure(args.workout, args.seed, args.seconds, url))
    figures["broker"] = broker.kind
    figures["dashboard_redraw_50_sensors_ms"] = dashboard_redraw_ms(50)
    print(
        f"latency: rep -> subscriber, on the simulated sensor's clock ({figures['broker']}, timed BLE radio)"
    )
    print(
        f"  reps: {figures['matched_reps']} of {figures['truth_reps']} in truth matched "
        f"({figures['received_reps']} received) over {figures['seconds']:.0f} s of {figures['workout']}"
    )
    if figures["matched_reps"]:
        for label, key in (
            ("decision -> subscriber", "decision_to_subscriber"),
            ("upright -> subscriber", "upright_to_subscriber"),
        ):
            print(
                f"  {label}: median {figures[key + '_median_s'] * 1000:.0f} ms, "
                f"p95 {figures[key + '_p95_s'] * 1000:.0f} ms"
            )
        print(
            f"  of which broker hop: median {figures['broker_median_ms']:.1f} ms, p95 {figures['broker_p95_ms']:.1f} ms"
        )
    print(
        f"  dashboard redraw with 50 sensors: {figures['dashboard_redraw_50_sensors_ms']:.1f} ms (at most 25 redraws a second)"
    )
    path = write_results("latency", figures)
    print(f"  written to {path}")
    return 0 if figures["matched_reps"] else 1


if __name__ == "__main__":
    sys.exit(main())
