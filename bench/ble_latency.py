"""Delay from a sample's creation in the sensor to its arrival in the tracker, over the timed radio.

A simulated sensor streams in real time (speed 1) on the in-process virtual radio, whose timing
model delivers notifications only at connection events; the tracker's SensorLink (bleak API,
Bumble backend) receives them. For every sample: arrival time of its packet minus the time the
sample became due in the sensor. That includes the wait for the packet to fill (samples per
packet / rate), the wait for the next connection event, and both host stacks. Runs each
connection interval with the sensor's default packing (as many samples as the MTU allows) and
with 5 samples per packet. Prints median and p95; then how long the link takes to stream again
after a disconnect and after a brown-out (0.5 s off). Writes bench/results/ble_latency.json.

    python bench/ble_latency.py [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from firmware_sim.peripheral import Faults, SensorData
from firmware_sim.sensors import simulated_sensor
from tracker.ble import SensorLink


async def measure(interval_ms: float, max_spp: int, seconds: float) -> dict[str, float]:
    data = SensorData.synthetic(seconds + 1.0, seed=1)
    async with simulated_sensor(data, speed=1.0, max_samples_per_packet=max_spp) as sim:
        config = sim.link_config(connection_interval_ms=(interval_ms, interval_ms), chunk_s=0.0)
        arrivals: dict[int, float] = {}
        async with SensorLink(config) as link:
            t_end = time.monotonic() + seconds
            async for chunk in link.stream():
                for packet, host in zip(chunk.packets, chunk.host_times_s, strict=True):
                    arrivals[struct.unpack_from("<H", packet, 2)[0]] = host
                if time.monotonic() > t_end:
                    break
        sensor = sim.sensor
        spp = sensor.log.packets[0].n
    sample_delays: list[float] = []
    packet_delays: list[float] = []
    period = 1.0 / data.rate_hz
    for p in sensor.log.packets:
        if p.epoch != 0 or p.seq not in arrivals:
            continue
        host = arrivals[p.seq]
        packet_delays.append(host - p.created_s)
        sample_delays.extend(host - (p.first_due_s + i * period) for i in range(p.n))
    s = np.asarray(sample_delays) * 1e3
    k = np.asarray(packet_delays) * 1e3
    return {
        "connection_interval_ms": interval_ms,
        "samples_per_packet": spp,
        "packets": len(packet_delays),
        "sample_delay_median_ms": float(np.median(s)),
        "sample_delay_p95_ms": float(np.percentile(s, 95)),
        "packet_delay_median_ms": float(np.median(k)),
        "packet_delay_p95_ms": float(np.percentile(k, 95)),
    }


async def reconnect_times(kind: str, count: int = 3) -> list[float]:
    """Seconds from the link's loss to streaming again (START answered), ``count`` times."""
    data = SensorData.synthetic(4.0 * count + 4.0, seed=2)
    at = tuple(3.0 + 4.0 * i for i in range(count))
    faults = (
        Faults(disconnect_at_s=at) if kind == "disconnect" else Faults(brownout_at_s=at, brownout_off_s=0.5)
    )
    out: list[float] = []
    async with simulated_sensor(data, speed=1.0, faults=faults) as sim, SensorLink(sim.link_config()) as link:
        fault_at = 0.0
        async for chunk in link.stream():
            for event in chunk.events:
                if event.kind == "disconnected":
                    # the fault's own time, from the sensor's log (a brown-out is noticed later)
                    start = sim.sensor.start_wall_s or 0.0
                    fault_at = start + [t for t, what in sim.sensor.log.events if "fault" in what][-1]
                elif event.kind == "reconnected":
                    out.append(event.host_time_s - fault_at)
            if len(out) == count:
                break
    return out


async def run(seconds: float) -> tuple[list[dict[str, float]], dict[str, list[float]]]:
    rows = []
    for max_spp in (10, 40, 5):  # the default, a full MTU-247 packet (19), and a low-latency setting
        for interval_ms in (7.5, 15.0, 30.0):
            rows.append(await measure(interval_ms, max_spp, seconds))
    recon = {kind: await reconnect_times(kind) for kind in ("disconnect", "brownout")}
    return rows, recon


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=6.0, help="streaming time per configuration")
    args = ap.parse_args()
    rows, recon = asyncio.run(run(args.seconds))
    print("sample creation -> arrival in the tracker, timed virtual radio, 100 Hz with gyro")
    print(
        f"{'interval':>9} {'spp':>4} {'packets':>8} {'sample med':>11} {'sample p95':>11} {'packet med':>11} {'packet p95':>11}"
    )
    for r in rows:
        print(
            f"{r['connection_interval_ms']:>7.1f}ms {r['samples_per_packet']:>4} {r['packets']:>8} "
            f"{r['sample_delay_median_ms']:>9.1f}ms {r['sample_delay_p95_ms']:>9.1f}ms "
            f"{r['packet_delay_median_ms']:>9.1f}ms {r['packet_delay_p95_ms']:>9.1f}ms"
        )
    print("link lost -> streaming again (15 ms interval, real time):")
    for kind, times in recon.items():
        print(f"  {kind:<10} " + ", ".join(f"{t:.2f} s" for t in times))
    figures = {"seconds_per_config": args.seconds, "runs": rows, "reconnect_s": recon}
    path = write_results("ble_latency", figures)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
