"""The worker pool's own path, measured: one gateway, Mosquitto, K ``reptrack worker`` processes.

N simulated sensors stream 10-sample packets, 10 a second each, in real time through a gateway
(tracker/scaleout/gateway.py, run inside this process) to Mosquitto on a free port, and K real
``reptrack worker`` processes claim them through the MQTT 5 shared subscription and publish their
facts. A subscriber in this process notes every rep event (by id, counting copies), each sensor's
last telemetry and each rep's arrival time. Reported per run:

- CPU per packet of each worker (its own utime+stime from /proc/<pid>/stat over the stream,
  start-up and imports excluded), and how the sensors were spread over the workers;
- packets sent by the gateway vs decoded by the workers (the sensors' ``telemetry``), lost
  (sequence gaps the decoder saw); rep events published vs expected (the same packets through one
  Pipeline offline) and rep events received more than once;
- lag: a rep's arrival at the subscriber minus the moment the gateway published the packet whose
  feed decides that rep offline (so the detector's own wait is not counted);
- Mosquitto's CPU and this process's (the gateway and the subscriber) over the same window.

Writes bench/results/pool.json.

    .venv/bin/python bench/pool.py                          # N=200,400 x K=1,2, 40 s each
    .venv/bin/python bench/pool.py --sensors 200 --workers 2 --seconds 40
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import Broker, write_results  # noqa: E402
from bench.throughput import workout_hour  # noqa: E402
from tracker.mqtt import MqttSettings, payloads  # noqa: E402
from tracker.pipeline import Pipeline  # noqa: E402
from tracker.protocol import Packetizer, StreamDecoder  # noqa: E402
from tracker.samples import Samples  # noqa: E402
from tracker.scaleout.gateway import Gateway  # noqa: E402
from tracker.service import SourceChunk  # noqa: E402

TICK_S = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """utime + stime of process ``pid`` (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK_S


def session_packets(seconds: float) -> list[bytes]:
    """``seconds`` of a thigh squatting 10 reps (5-35 s of every 120 s), as 10-sample packets."""
    data = workout_hour(hours=(seconds + 5) / 3600, seed=3)
    clock_us = np.round(data.t_s * 1e6).astype(np.int64)
    return Packetizer().encode(clock_us, data.accel_g, data.gyro_dps)[: int(seconds * 10)]


def deciding_packets(packets: list[bytes]) -> dict[str, int]:
    """Offline, one packet a feed: ``"<set>/<rep>"`` -> index of the packet whose feed emits it."""
    decoder, pipeline = StreamDecoder(), Pipeline()
    decided: dict[str, int] = {}
    for k, packet in enumerate(packets):
        samples, _ = decoder.feed([packet])
        for ev in pipeline.feed(samples):
            if ev.kind == "rep":
                decided["/".join(payloads.event_id("s", "x", ev).split("/")[-2:])] = k
    for ev in pipeline.finish():
        if ev.kind == "rep":
            decided["/".join(payloads.event_id("s", "x", ev).split("/")[-2:])] = len(packets) - 1
    return decided


class PacedSource:
    """A sensor's packets in real time, one every 100 ms, from when every sensor has an owner;
    notes when each packet was handed to the gateway (which publishes it at once)."""

    def __init__(self, sensor_id: str, packets: list[bytes], offset_s: float, ready: asyncio.Event) -> None:
        self.sensor_id = sensor_id
        self.name = sensor_id
        self.wall_t0: float | None = None
        self.stats = StreamDecoder().stats
        self.packets = packets
        self.offset_s = offset_s
        self.ready = ready
        self.sent_at: list[float] = []
        self.t0 = 0.0

    async def chunks(self) -> Any:
        await self.ready.wait()
        self.t0 = t0 = time.time() + self.offset_s
        for k, packet in enumerate(self.packets):
            await asyncio.sleep(max(0.0, t0 + (k + 1) * 0.1 - time.time()))
            now = time.time()
            self.sent_at.append(now)
            yield SourceChunk(Samples.empty(), [packet], [now])


class Subscriber:
    """Rep events (arrival times, copies), each sensor's last telemetry, the workers online."""

    def __init__(self, port: int) -> None:
        self.reps: dict[str, list[float]] = {}
        self.telemetry: dict[str, dict[str, Any]] = {}
        self.online: set[str] = set()
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, "bench-pool-sub", protocol=mqtt.MQTTv5)
        self.client.on_message = self.on_message
        self.client.connect("127.0.0.1", port)
        for topic in ("reptrack/+/event/rep", "reptrack/+/telemetry", "reptrack-pool/workers/+/status"):
            self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = time.time()
        with self.lock:
            if message.topic.endswith("/status"):
                if message.payload == b"online":
                    self.online.add(message.topic.split("/")[-2])
                return
            body = payloads_loads(bytes(message.payload))
            if message.topic.endswith("/event/rep"):
                self.reps.setdefault(str(body["id"]), []).append(now)
            else:
                self.telemetry[message.topic.split("/")[1]] = body

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def payloads_loads(data: bytes) -> dict[str, Any]:
    import json

    body = json.loads(data)
    return body if isinstance(body, dict) else {}


def start_workers(url: str, k: int, sub: Subscriber) -> dict[str, subprocess.Popen[str]]:
    workers = {
        f"w{i + 1}": subprocess.Popen(
            [sys.executable, "-m", "tracker.cli", "worker", "--id", f"w{i + 1}", "--broker", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for i in range(k)
    }
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sub.lock:
            if sub.online >= set(workers):
                return workers
        time.sleep(0.1)
    raise RuntimeError(f"workers not online after 60 s: {sorted(set(workers) - sub.online)}")


async def stream(gateway: Gateway, sources: list[PacedSource], ready: asyncio.Event, limit_s: float) -> float:
    """Run the gateway until every sensor is done; streaming starts once all have an owner.
    Returns the wall time streaming started."""
    stop = asyncio.Event()
    serving = asyncio.ensure_future(gateway.serve(sources, stop))
    while not all(s.owner for s in gateway.sensors.values()) or len(gateway.sensors) < len(sources):
        await asyncio.sleep(0.05)
    ready.set()
    started = time.time()
    try:
        await asyncio.wait_for(asyncio.shield(serving), limit_s)
    except TimeoutError:
        stop.set()
        await serving
    return started


def _run_with_broker(
    url: Any,
    bpid: int | None,
    sensors: int,
    k: int,
    packets: list[bytes],
    decided: dict[str, int],
    seconds: float,
    window: int = 0,
) -> dict[str, Any]:
    """One run against the broker at ``url`` (process ``bpid``); ``window``: the gateway's QoS 1
    window (0: paho's default, 20)."""
    sub = Subscriber(url.port)
    workers = start_workers(f"mqtt://127.0.0.1:{url.port}", k, sub)
    try:
        return _measure(url, bpid, workers, sub, sensors, k, packets, decided, seconds, window)
    finally:
        for proc in workers.values():  # never leave a worker behind, even after an error
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        sub.close()


def _measure(
    url: Any,
    bpid: int | None,
    workers: dict[str, subprocess.Popen[str]],
    sub: Subscriber,
    sensors: int,
    k: int,
    packets: list[bytes],
    decided: dict[str, int],
    seconds: float,
    window: int,
) -> dict[str, Any]:
    gateway = Gateway(MqttSettings(url, protocol="5"), "bench")
    if window:  # paho takes the window only before connecting
        prepare = gateway._prepare
        gateway._prepare = lambda c: (c.max_inflight_messages_set(window), prepare(c))[1]  # type: ignore[method-assign]
    gateway.connect()
    ready = asyncio.Event()
    sources = [PacedSource(f"p{i:04d}", packets, 0.1 * i / sensors, ready) for i in range(sensors)]
    pids = {name: p.pid for name, p in workers.items()}

    async def main() -> tuple[float, dict[str, float], float, float, float]:
        task = asyncio.ensure_future(stream(gateway, sources, ready, seconds + 15))
        await ready.wait()
        cpu0 = {n: proc_cpu_s(p) for n, p in pids.items()}
        b0, me0 = (proc_cpu_s(bpid) if bpid else 0.0), time.process_time()
        started = await task
        wall = time.time() - started
        cpu = {n: proc_cpu_s(p) - cpu0[n] for n, p in pids.items()}
        return (
            wall,
            cpu,
            (proc_cpu_s(bpid) - b0 if bpid else float("nan")),
            time.process_time() - me0,
            started,
        )

    wall, cpu, broker_cpu, own_cpu, _started = asyncio.run(main())
    time.sleep(1.0)  # the last telemetry and events reach the subscriber
    owners = {s.sensor_id: s.owner for s in gateway.sensors.values()}
    done = sum(s.done for s in gateway.sensors.values())
    handovers = gateway.handovers
    gateway.close()
    for proc in workers.values():
        proc.send_signal(signal.SIGINT)
    outs = {n: proc.communicate(timeout=60)[0] for n, proc in workers.items()}
    return summarise(sensors, k, seconds, packets, decided, sources, sub, owners, cpu, wall) | {
        "sensors_done": done,
        "handovers": handovers,
        "broker_cpu_s": broker_cpu,
        "broker_share_of_one_core": broker_cpu / wall,
        "gateway_and_subscriber_cpu_s": own_cpu,
        "worker_reported_reps": {n: _reported_reps(out) for n, out in outs.items()},
    }


def _reported_reps(out: str) -> int:
    return sum(int(line.split(": ")[1].split()[0]) for line in out.splitlines() if " reps in " in line)


def summarise(
    sensors: int,
    k: int,
    seconds: float,
    packets: list[bytes],
    decided: dict[str, int],
    sources: list[PacedSource],
    sub: Subscriber,
    owners: dict[str, str | None],
    cpu: dict[str, float],
    wall: float,
) -> dict[str, Any]:
    spread = {name: sum(1 for o in owners.values() if o == name) for name in cpu}
    sent = sum(len(s.sent_at) for s in sources)
    decoded = sum(int(t.get("packets") or 0) for t in sub.telemetry.values())
    lost = sum(int(t.get("lost_packets") or 0) for t in sub.telemetry.values())
    lags: list[float] = []
    sent_at = {src.sensor_id: src.sent_at for src in sources}
    for rep_id, times in sub.reps.items():
        parts = rep_id.split("/")
        k_pkt = decided.get("/".join(parts[-2:]))
        published = sent_at.get(parts[0], [])
        if k_pkt is not None and k_pkt < len(published):
            lags.append(times[0] - published[k_pkt])
    per_worker = {
        name: {
            "sensors": spread[name],
            "cpu_s": cpu[name],
            "share_of_one_core": cpu[name] / wall,
            "us_per_packet": cpu[name] / max(1, spread[name] * len(packets)) * 1e6,
        }
        for name in cpu
    }
    lag = np.asarray(lags) if lags else np.asarray([float("nan")])
    late = np.concatenate(
        [np.asarray(s.sent_at) - (s.t0 + 0.1 * np.arange(1, len(s.sent_at) + 1)) for s in sources]
    )
    return {
        "sensors": sensors,
        "workers": k,
        "seconds": seconds,
        "wall_s": wall,
        "per_worker": per_worker,
        "packets_sent": sent,
        "packets_decoded": decoded,
        "packets_lost": lost,
        "reps_expected": len(decided) * sensors,
        "reps_received": len(sub.reps),
        "reps_received_twice_or_more": sum(1 for t in sub.reps.values() if len(t) > 1),
        "lag_median_s": float(np.median(lag)),
        "lag_p99_s": float(np.percentile(lag, 99)),
        "lag_max_s": float(lag.max()),
        "gateway_late_median_s": float(np.median(late)),
        "gateway_late_p99_s": float(np.percentile(late, 99)),
    }


def print_run(r: dict[str, Any]) -> None:
    workers = ", ".join(
        f"{n}: {w['sensors']} sensors {w['share_of_one_core']:.0%} of a core {w['us_per_packet']:.0f} us/packet"
        for n, w in r["per_worker"].items()
    )
    print(
        f"N={r['sensors']} K={r['workers']}: {workers}; packets {r['packets_sent']} sent, "
        f"{r['packets_decoded']} decoded, {r['packets_lost']} lost; reps {r['reps_received']}/"
        f"{r['reps_expected']} ({r['reps_received_twice_or_more']} twice); lag median "
        f"{r['lag_median_s'] * 1e3:.0f} ms p99 {r['lag_p99_s'] * 1e3:.0f} ms max {r['lag_max_s'] * 1e3:.0f} ms; "
        f"gateway late median {r['gateway_late_median_s'] * 1e3:.0f} ms p99 {r['gateway_late_p99_s'] * 1e3:.0f} ms; "
        f"broker {r['broker_share_of_one_core']:.0%} of a core, gateway+subscriber "
        f"{r['gateway_and_subscriber_cpu_s'] / r['wall_s']:.0%}; done {r['sensors_done']}/{r['sensors']}",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sensors", type=int, nargs="+", default=[200, 400])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=float, default=40.0, help="stream length (default 40)")
    ap.add_argument(
        "--window",
        type=int,
        default=0,
        help="QoS 1 window: the gateway's paho max_inflight_messages and Mosquitto's "
        "max_inflight_messages, with max_queued_messages unlimited (default: both defaults, 20 and 1000)",
    )
    args = ap.parse_args()
    load = os.getloadavg()
    runs = []
    for n in args.sensors:
        for k in args.workers:
            conf = (f"max_inflight_messages {args.window}", "max_queued_messages 0") if args.window else ()
            broker = Broker(conf)
            with broker as url:
                bpid = broker.proc.pid if broker.proc else None
                packets = session_packets(args.seconds)
                run = _run_with_broker(
                    url, bpid, n, k, packets, deciding_packets(packets), args.seconds, args.window
                )
            run["broker"] = broker.kind
            run["window"] = args.window or "defaults (20 in flight, 1000 queued)"
            run["load_average_before"] = load
            print_run(run)
            runs.append(run)
            load = os.getloadavg()
    path = write_results("pool", {"cores": os.cpu_count(), "runs": runs})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
