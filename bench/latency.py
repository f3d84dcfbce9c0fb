"""Delay from the athlete standing up to a subscriber receiving the rep event.

The simulated sensor streams the workout in real time (speed 1) over the timed virtual BLE
radio; the tracker (SensorLink -> pipeline -> publisher) publishes to a real broker (Mosquitto
when installed, else the embedded amqtt broker); a separate MQTT subscriber notes when each rep
event arrives. For each rep: arrival (Unix time) minus the moment the athlete stood up, which is
the ground truth ``t_end_s`` placed on the host clock by the source's ``wall_t0`` (arrival of the
first packet minus its session time, so the first packet's radio delay is not counted).
Splits the delay into the pipeline's part (event ``t_s`` minus truth) and transport (arrival
minus ``sent_at``). Prints median and p95 and writes bench/results/latency.json.

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
    if source.wall_t0 is None:
        raise SystemExit("the source never streamed")
    truth = np.asarray([t for t in truth_rep_ends(workout, seed) if t <= result.duration_s - 2.0])
    total, pipeline, transport, missed = [], [], [], 0
    for t_end in truth:
        best = None
        for recv, body in arrivals.values():
            if abs(float(body["rep"]["t_end_s"]) - t_end) < 1.0 and (
                best is None
                or abs(float(body["rep"]["t_end_s"]) - t_end) < abs(float(best[1]["rep"]["t_end_s"]) - t_end)
            ):
                best = (recv, body)
        if best is None:
            missed += 1
            continue
        recv, body = best
        total.append(recv - (source.wall_t0 + t_end))
        pipeline.append(float(body["t_s"]) - t_end)
        transport.append(recv - float(body["sent_at"]))
    return {
        "workout": workout,
        "seconds": result.duration_s,
        "truth_reps": int(truth.size),
        "received_reps": len(arrivals),
        "matched_reps": len(total),
        "missed_reps": missed,
        "delay_median_s": float(np.median(total)) if total else None,
        "delay_p95_s": float(np.percentile(total, 95)) if total else None,
        "pipeline_median_s": float(np.median(pipeline)) if pipeline else None,
        "broker_median_ms": 1000 * float(np.median(transport)) if transport else None,
        "broker_p95_ms": 1000 * float(np.percentile(transport, 95)) if transport else None,
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
        f"latency: athlete stands up -> subscriber has the rep event ({figures['broker']}, timed BLE radio)"
    )
    print(
        f"  reps: {figures['matched_reps']} of {figures['truth_reps']} in truth matched "
        f"({figures['received_reps']} received) over {figures['seconds']:.0f} s of {figures['workout']}"
    )
    if figures["delay_median_s"] is not None:
        print(
            f"  total delay: median {figures['delay_median_s'] * 1000:.0f} ms, p95 {figures['delay_p95_s'] * 1000:.0f} ms"
        )
        print(
            f"  of which pipeline (confirming the stand-up): median {figures['pipeline_median_s'] * 1000:.0f} ms"
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
