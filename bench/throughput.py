"""Throughput: one hour of 100 Hz data through decoder and pipeline (best of three), the live
service's whole path for many sensors, and one pipeline's memory over 8 hours.

The live figure runs the service as ``reptrack run`` does: N sensors streaming 10-sample packets
at 100 Hz in real time, each decoded, fed to its pipeline and published through its own MQTT
connection to a real broker (Mosquitto on a free port, else the embedded one). It reports the
CPU share of one core (process CPU time over wall time: the machine is shared) and how late
packets were handled. ``Pipeline.feed`` alone is reported too, for comparison.
Writes bench/results/throughput.json.

    .venv/bin/python bench/throughput.py [--sensors 500] [--seconds 30] [--skip-hour]
    .venv/bin/python bench/throughput.py --replay   # reptrack replay and --help as whole processes
    .venv/bin/python bench/throughput.py --skip-hour --groups 1 2 5 10   # CPU per packet by batch
    .venv/bin/python bench/throughput.py --replay --baseline ../main   # and main's replay, same run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import write_results  # noqa: E402
from tracker.pipeline import Pipeline  # noqa: E402
from tracker.protocol import Packetizer, StreamDecoder  # noqa: E402
from tracker.samples import Samples  # noqa: E402


def workout_hour(rate_hz: float = 100.0, hours: float = 1.0, seed: int = 0) -> Samples:
    """Synthetic thigh data: standing, squat sets of 10 reps, rests, walking-like swings."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 * rate_hz)
    t = np.arange(n) / rate_hz
    pitch = np.zeros(n)
    cycle = 120.0  # a 30 s set then 90 s of rest/walk, repeated
    ph = t % cycle
    in_set = (ph > 5) & (ph < 35)
    pitch[in_set] = 40 * (1 - np.cos(2 * np.pi * (ph[in_set] - 5) / 3.0))
    walking = (ph > 60) & (ph < 90)
    pitch[walking] = 25 * np.sin(2 * np.pi * (ph[walking] - 60) / 1.1)
    th = np.radians(pitch)
    accel = np.stack([np.sin(th), np.zeros(n), np.cos(th)], axis=1) + rng.normal(0, 0.01, (n, 3))
    gyro = np.zeros((n, 3))
    gyro[:, 1] = -np.gradient(pitch, t)
    gyro += rng.normal(0, 0.5, (n, 3))
    return Samples.from_arrays(t, accel, gyro)


def bench_hour(samples: Samples) -> dict[str, float]:
    clock_us = np.round(samples.t_s * 1e6).astype(np.int64)
    packets = Packetizer().encode(clock_us, samples.accel_g, samples.gyro_dps)
    decode_s = float("inf")
    for _ in range(3):  # best of three: the machine is shared (each run decodes a fresh stream)
        t_a = time.process_time()
        decoded, _notices = StreamDecoder().feed(packets)
        decode_s = min(decode_s, time.process_time() - t_a)
    best = float("inf")
    events: list[Any] = []
    for _ in range(3):  # best of three: the machine is shared
        t_a = time.process_time()
        p = Pipeline()
        events = p.feed(decoded) + p.finish()
        best = min(best, time.process_time() - t_a)
    total = decode_s + best
    n = len(samples)
    dur = samples.duration_s
    return {
        "samples": n,
        "decode_s": decode_s,
        "pipeline_s": best,
        "samples_per_s": n / total,
        "realtime_factor": dur / total,
        "reps": sum(1 for e in events if e.kind == "rep"),
    }


def bench_pipeline_only(
    samples: Samples, sensors: int = 200, packet: int = 10, seconds: float = 60.0
) -> dict[str, float]:
    """``Pipeline.feed`` alone: ``sensors`` pipelines, ``seconds`` of data each, in ``packet``-sample chunks.
    (Not what the service sustains: see :func:`bench_service`.)"""
    rate = samples.estimated_rate_hz()
    n = int(seconds * rate)
    part = samples.slice(0, n)
    chunks = list(part.chunks(packet))
    pipes = [Pipeline() for _ in range(sensors)]
    t0 = time.process_time()
    for c in chunks:
        for p in pipes:
            p.feed(c)
    cpu = time.process_time() - t0
    calls = len(chunks) * sensors
    return {
        "sensors": sensors,
        "packet_samples": packet,
        "cpu_share_of_one_core": cpu / seconds,
        "us_per_packet": cpu / calls * 1e6,
    }


class PacketSource:
    """A sensor streaming 10-sample packets at 100 Hz in real time, as a BLE sensor's link
    delivers them (tracker/ble/link.py): what has arrived since the service last asked is taken
    at once and decoded (StreamDecoder), then handed to the service. A service that keeps up gets
    one packet at a time; one that is late gets the packets waiting for it together. Notes how
    late each packet is handled (``lag_s``: now minus the moment it was due)."""

    def __init__(self, sensor_id: str, packets: list[bytes], speed: float, wall_t0: float) -> None:
        self.sensor_id = sensor_id
        self.name = sensor_id
        self.packets = packets
        self.speed = speed
        self.wall_t0: float | None = wall_t0
        self.decoder = StreamDecoder()
        self.stats = self.decoder.stats
        self.lags_s: list[float] = []

    async def chunks(self) -> Any:
        from tracker.service import SourceChunk

        assert self.wall_t0 is not None
        period = 0.1 / self.speed
        k = 0
        while k < len(self.packets):
            due = self.wall_t0 + (k + 1) * period
            await asyncio.sleep(max(due - time.time(), 0.0))
            now = time.time()
            arrived = min(len(self.packets), max(k + 1, int((now - self.wall_t0) / period)))
            self.lags_s.extend(now - (self.wall_t0 + (j + 1) * period) for j in range(k, arrived))
            packets = self.packets[k:arrived]
            k = arrived
            samples, notices = self.decoder.feed(packets)
            yield SourceChunk(samples, packets, None, notices)


def bench_service(sensors: int, seconds: float, url: Any, shared: bool = True) -> dict[str, Any]:
    """The live service's own path for ``sensors`` sensors at 100 Hz in real time: packets ->
    decoder -> pipeline -> MQTT -> the broker. ``shared``: all sensors over one connection, as a
    ``reptrack worker`` publishes; else one SensorPublisher (connection) per sensor, as
    ``reptrack run`` does (paho's select() limits that to about 340 connections a process).

    CPU time of this process (all threads: asyncio, paho's network threads) over the streaming
    window; ``lag`` is how late packets were handled (a service that keeps up stays near 0)."""
    from tracker.mqtt import MqttSettings, SensorPublisher
    from tracker.mqtt.publisher import connect_client
    from tracker.scaleout.channel import SharedChannel
    from tracker.service import Sink, run_service

    hour = workout_hour(hours=(seconds + 5) / 3600, seed=3)
    clock_us = np.round(hour.t_s * 1e6).astype(np.int64)
    packets = Packetizer().encode(clock_us, hour.accel_g, hour.gyro_dps)[: int(seconds * 10)]
    settings = MqttSettings(url, protocol="5")
    publishers: list[Sink] = []
    client = connect_client(settings, "bench-worker") if shared else None
    for i in range(sensors):
        if client is not None:
            publishers.append(SharedChannel(client, settings.prefix, f"bench-{i:04d}", "throughput"))
            continue
        pub = SensorPublisher(settings, f"bench-{i:04d}", "throughput")
        pub.connect()
        publishers.append(pub)

    async def main() -> tuple[float, float, list[Any]]:
        wall_t0 = time.time() + 1.0
        # sensors start spread over one packet interval, as real sensors' connection events are
        sources = [
            PacketSource(f"bench-{i:04d}", packets, 1.0, wall_t0 + 0.1 * i / sensors) for i in range(sensors)
        ]
        runs = [(src, pub, Pipeline(), None) for src, pub in zip(sources, publishers, strict=True)]
        await asyncio.sleep(max(0.0, wall_t0 - time.time()))
        cpu0, wall0 = time.process_time(), time.time()
        results = await run_service(runs)
        return time.process_time() - cpu0, time.time() - wall0, [sources, results]

    cpu, wall, (sources, results) = asyncio.run(main())
    if client is not None:
        client.disconnect()
        client.loop_stop()
    lags = np.concatenate([np.asarray(src.lags_s) for src in sources])
    tail = np.concatenate([np.asarray(src.lags_s[-50:]) for src in sources])  # the last 5 s
    per_sensor = np.array([src.lags_s for src in sources])  # (sensors, packets)
    windows = [  # median lag in each 5 s of the stream: growing means the process falls behind
        float(np.median(per_sensor[:, k : k + 50])) for k in range(0, per_sensor.shape[1], 50)
    ]
    return {
        "sensors": sensors,
        "connections": 1 if shared else sensors,
        "seconds": seconds,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_share_of_one_core": cpu / wall,
        "us_per_packet": cpu / (sensors * len(packets)) * 1e6,
        "lag_median_s": float(np.median(lags)),
        "lag_p99_s": float(np.percentile(lags, 99)),
        "lag_last_5s_max_s": float(tail.max()),
        "lag_median_per_5s_s": windows,
        "reps_published": sum(len(r.reps) for r in results),
        "undelivered": sum(r.undelivered for r in results),
    }


class GroupedSource:
    """A sensor's packets handed over ``group`` at a time, as fast as the service takes them: what
    a loaded service gets when ``group`` packets waited for it each time."""

    def __init__(self, sensor_id: str, packets: list[bytes], group: int) -> None:
        self.sensor_id = self.name = sensor_id
        self.packets = packets
        self.group = group
        self.speed = 0.0  # not real time: the service feeds each chunk as it comes
        self.wall_t0: float | None = None
        self.decoder = StreamDecoder()
        self.stats = self.decoder.stats

    async def chunks(self) -> Any:
        from tracker.service import SourceChunk

        for k in range(0, len(self.packets), self.group):
            await asyncio.sleep(0)
            group = self.packets[k : k + self.group]
            samples, notices = self.decoder.feed(group)
            yield SourceChunk(samples, group, None, notices)


def bench_groups(
    groups: list[int], url: Any, sensors: int = 50, seconds: float = 40.0
) -> list[dict[str, Any]]:
    """CPU per packet through the service path (decode, pipeline, state, telemetry, events over one
    MQTT connection to the broker) when packets reach it ``group`` at a time: the cost a service
    pays at a given lag, without the scheduler's noise. Median of 3 (process CPU time)."""
    from tracker.mqtt import MqttSettings
    from tracker.mqtt.publisher import connect_client
    from tracker.scaleout.channel import SharedChannel
    from tracker.service import run_service

    part = workout_hour(hours=(seconds + 1) / 3600, seed=3)
    clock_us = np.round(part.t_s * 1e6).astype(np.int64)
    packets = Packetizer().encode(clock_us, part.accel_g, part.gyro_dps)[: int(seconds * 10)]
    settings = MqttSettings(url, protocol="5")
    client = connect_client(settings, "bench-groups")
    out = []
    for group in groups:
        runs_us = []
        for _ in range(3):
            runs = [
                (
                    GroupedSource(f"g-{i:03d}", packets, group),
                    SharedChannel(client, settings.prefix, f"g-{i:03d}", "g"),
                    Pipeline(),
                    None,
                )
                for i in range(sensors)
            ]
            cpu0 = time.process_time()
            asyncio.run(run_service(runs))
            runs_us.append((time.process_time() - cpu0) / (sensors * len(packets)) * 1e6)
        out.append(
            {
                "group": group,
                "sensors": sensors,
                "seconds": seconds,
                "us_per_packet": float(np.median(runs_us)),
                "runs_us": runs_us,
            }
        )
    client.disconnect()
    client.loop_stop()
    return out


def bench_memory(hours: float = 8.0) -> dict[str, float]:
    day = workout_hour(hours=0.25, seed=2)  # 15 minutes, fed again and again with shifted time
    p = Pipeline()
    tracemalloc.start()
    sizes = []
    offset = 0.0
    rounds = int(hours * 4)
    for k in range(rounds):
        shifted = Samples(day.t_s + offset, day.accel_g, day.gyro_dps)
        for c in shifted.chunks(1000):
            p.feed(c)
        offset = float(shifted.t_s[-1]) + 0.01
        if k in (1, rounds // 2, rounds - 1):
            sizes.append(tracemalloc.get_traced_memory()[0])
    tracemalloc.stop()
    return {
        "hours": hours,
        "bytes_after_30min": sizes[0],
        "bytes_at_half": sizes[1],
        "bytes_at_end": sizes[2],
    }


REAL_DATA = next(
    (
        p / "shared" / "data" / "cmu-thigh"
        for p in ROOT.parents
        if (p / "shared" / "data" / "cmu-thigh").is_dir()
    ),
    None,
)


def real_data_csv(path: Path, hours: float) -> int:
    """An ``hours``-long generic CSV stitched from the real recordings (read in place; the file
    goes to a temporary folder, never into the repository). Returns its number of samples."""
    assert REAL_DATA is not None
    from tracker.io.load import load_session

    parts = [load_session(f).samples for f in sorted(REAL_DATA.glob("*_LeftThigh.csv"))]
    rows, offset, n = [], 0.0, 0
    while offset < hours * 3600:
        for part in parts:
            t = part.t_s - part.t_s[0] + offset
            assert part.gyro_dps is not None
            rows.append(np.column_stack([t, part.accel_g, part.gyro_dps]))
            offset = float(t[-1]) + 0.01
            n += len(t)
            if offset >= hours * 3600:
                break
    with path.open("w") as f:
        f.write(
            "# real CMU-MBL thigh recordings, stitched end to end (bench/throughput.py)\nt,ax,ay,az,gx,gy,gz\n"
        )
        for block in rows:
            np.savetxt(f, block, fmt=["%.3f"] + ["%.5f"] * 6, delimiter=",")
    return n


_MEASURE = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))
"""


def process_cost(argv: list[str], repeat: int = 3, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Median CPU time (user + system) and peak RSS of a whole command, from its own rusage.

    Measured by a small Python process that starts the command: a child forked from this (large)
    benchmark process would count the pages it shares with it before ``exec`` as its RSS. On one
    core (``taskset -c 0``) where ``taskset`` exists."""
    cpu, rss = [], []
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    for _ in range(repeat):
        out = subprocess.run(
            [*pin, sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, check=True, env=env
        )
        code, cpu_s, maxrss_kb = json.loads(out.stdout)
        if code != 0:
            raise SystemExit(f"{' '.join(argv)} failed with exit code {code}")
        cpu.append(cpu_s)
        rss.append(maxrss_kb / 1024)
    return {
        "cpu_s": float(np.median(cpu)),
        "cpu_runs_s": cpu,
        "peak_rss_mb": float(np.median(rss)),
        "one_core": bool(pin),
    }


def installed_env(pycache: Path) -> dict[str, str]:
    """The environment of an installed RepTrack: Python's bytecode of RepTrack's modules cached (in
    ``pycache``, outside the repository), as ``pip install`` leaves it. Without it (this machine
    sets PYTHONDONTWRITEBYTECODE=1) every run compiles every module it imports first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def bench_replay(hours: tuple[float, ...] = (1.0, 8.0), baseline: Path | None = None) -> dict[str, Any]:
    """``reptrack replay`` as a whole process (imports, reading, pipeline) on real-data CSVs of
    one and eight hours and on the same hours as native recordings (float-sample records);
    ``--help``/``--version``. Each as an installed RepTrack runs (bytecode cached, after one
    warm-up run); the 1 h CSV also with every module compiled first (``cold``). With ``baseline``
    (another checkout, e.g. main's worktree) its replays of the hour (CSV and native) are timed in
    the same run, so the ratio holds on a busy machine."""
    import tempfile

    exe = [sys.executable, "-m", "tracker.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        env = installed_env(Path(tmp) / "pycache")
        process_cost([*exe, "--help"], repeat=1, env=env)  # the warm-up: bytecode written
        out: dict[str, Any] = {
            "help": process_cost([*exe, "--help"], env=env),
            "version": process_cost([*exe, "--version"], env=env),
        }
        if REAL_DATA is None:
            return out
        run_baseline = f"import sys, runpy; sys.path.insert(0, {str(baseline)!r}); runpy.run_module('tracker.cli', run_name='__main__')"
        for h in hours:
            csv = Path(tmp) / f"real-{h:g}h.csv"
            n = real_data_csv(csv, h)
            native = _native_copy(csv, Path(tmp) / f"real-{h:g}h.rtrk")
            for kind, path in (("csv", csv), ("native", native)):
                argv = [*exe, "replay", str(path), "--json"]
                process_cost(argv, repeat=1, env=env)  # the warm-up
                runs: dict[str, dict[str, str] | None] = {f"{kind}_{h:g}h": env}
                if kind == "csv" and h == 1.0:
                    runs[f"{kind}_{h:g}h_cold"] = None
                for key, run_env in runs.items():
                    cost = process_cost(argv, repeat=3 if h <= 1 else 1, env=run_env)
                    cost.update(samples=n, hours=h, realtime_factor=h * 3600 / cost["cpu_s"])
                    cost.update(
                        megabytes=round(path.stat().st_size / 1e6, 1), bytecode_cached=run_env is not None
                    )
                    out[key] = cost
                if baseline is not None and h == 1.0:
                    argv = [sys.executable, "-c", run_baseline, "replay", str(path), "--json"]
                    process_cost(argv, repeat=1, env=env)
                    base = process_cost(argv, env=env)
                    base.update(hours=h, realtime_factor=h * 3600 / base["cpu_s"], checkout=str(baseline))
                    out[f"baseline_{kind}_1h"] = base
    return out


def _native_copy(csv: Path, native: Path) -> Path:
    """``csv`` as a native recording of float samples, written block by block (flat memory)."""
    from tracker.io.native import RecordingWriter
    from tracker.io.stream import open_stream

    stream = open_stream(csv)
    with RecordingWriter.create(native, stream.meta) as writer:
        for block in stream.blocks():
            writer.write_samples(block)
    return native


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sensors", type=int, nargs="+", default=[500], help="live sensors (several: one run each)"
    )
    ap.add_argument("--seconds", type=float, default=30.0, help="real-time seconds of the live run")
    ap.add_argument("--skip-hour", action="store_true", help="only the live service run")
    ap.add_argument(
        "--replay", action="store_true", help="only reptrack replay as a whole process (real data)"
    )
    ap.add_argument(
        "--baseline", type=Path, help="with --replay: also time this checkout's replay (e.g. ../main)"
    )
    ap.add_argument(
        "--per-sensor-connections", action="store_true", help="one MQTT connection per sensor (reptrack run)"
    )
    ap.add_argument(
        "--groups",
        type=int,
        nargs="+",
        help="instead of the live run: CPU per packet when packets come this many at a time",
    )
    args = ap.parse_args()
    figures: dict[str, Any] = {}
    if args.replay:
        res = bench_replay(baseline=args.baseline)
        figures["replay"] = res
        print(
            f"reptrack --help: {res['help']['cpu_s']:.2f} s of CPU, --version {res['version']['cpu_s']:.2f} s"
        )
        for key, r in res.items():
            if key.startswith(("csv", "native", "baseline")):
                print(
                    f"reptrack replay, {key}: {r['cpu_s']:.2f} s of CPU (median of {len(r['cpu_runs_s'])}"
                    f"{', one core' if r['one_core'] else ''}), "
                    f"{r['realtime_factor']:.0f}x real time, peak RSS {r['peak_rss_mb']:.0f} MB"
                )
        write_results("throughput_replay", figures)
        return 0
    if not args.skip_hour:
        hour = workout_hour()
        Pipeline().feed(hour.slice(0, 5000))  # warm up imports and caches
        res_hour = bench_hour(hour)
        res_live = bench_pipeline_only(hour)
        res_mem = bench_memory()
        print(
            f"one hour of 100 Hz data: {res_hour['samples']} samples, decode {res_hour['decode_s']:.3f} s, "
            f"pipeline {res_hour['pipeline_s']:.3f} s -> {res_hour['samples_per_s']:.3g} samples/s, "
            f"{res_hour['realtime_factor']:.0f}x real time ({res_hour['reps']} reps)"
        )
        print(
            f"Pipeline.feed alone, {res_live['sensors']} sensors, {res_live['packet_samples']}-sample packets: "
            f"{res_live['us_per_packet']:.1f} us per packet, {100 * res_live['cpu_share_of_one_core']:.1f} % of one core"
        )
        print(
            f"memory of one pipeline over {res_mem['hours']:.0f} h: {res_mem['bytes_after_30min'] / 1024:.0f} KiB after 30 min, "
            f"{res_mem['bytes_at_half'] / 1024:.0f} KiB at half time, {res_mem['bytes_at_end'] / 1024:.0f} KiB at the end"
        )
        figures.update(hour=res_hour, pipeline_only=res_live, memory=res_mem)
    from bench._common import Broker

    broker = Broker()
    if args.groups:
        with broker as url:
            figures["groups"] = bench_groups(args.groups, url)
        for g in figures["groups"]:
            print(
                f"service path, {g['sensors']} sensors x {g['seconds']:.0f} s of squats, packets {g['group']} at a time "
                f"({broker.kind}): {g['us_per_packet']:.0f} us of CPU per packet (median of 3)"
            )
        write_results("throughput_groups", figures)
        return 0
    figures["service"] = []
    with broker as url:
        for n in args.sensors:
            res = bench_service(n, args.seconds, url, shared=not args.per_sensor_connections)
            res["broker"] = broker.kind
            figures["service"].append(res)
            print(
                f"live service, {n} sensors at 100 Hz for {res['seconds']:.0f} s over {res['connections']} "
                f"MQTT connection(s) ({broker.kind}): "
                f"{100 * res['cpu_share_of_one_core']:.0f} % of one core, {res['us_per_packet']:.0f} us per packet; "
                f"packets handled late by median {1000 * res['lag_median_s']:.0f} ms, p99 {1000 * res['lag_p99_s']:.0f} ms, "
                f"at most {1000 * res['lag_last_5s_max_s']:.0f} ms in the last 5 s; {res['reps_published']} reps published"
            )
            print(
                "  median lag in each 5 s: "
                + ", ".join(f"{1000 * w:.0f}" for w in res["lag_median_per_5s_s"])
                + " ms"
            )
    write_results("throughput", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
