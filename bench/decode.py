"""Decoded samples per second of the wire codec on one core.

Encodes one hour of 100 Hz accelerometer + gyroscope data in 10-sample packets (as a sensor sends
them), then decodes it three ways: the vectorised batch decoder (replay of a recording), the
stream decoder in one call (sequence/clock bookkeeping included), and the stream decoder fed as
live, 10 packets (1 s) at a time. Prints the median of several runs and writes
bench/results/decode.json.

    python bench/decode.py [--hours H] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from tracker.protocol import Packetizer, StreamDecoder, decode_batch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    n = int(args.hours * 3600 * 100)
    rng = np.random.default_rng(0)
    clock = np.arange(n, dtype=np.int64) * 10_000
    packets = Packetizer(rate_hz=100, samples_per_packet=10).encode(
        clock, rng.normal(0, 1, (n, 3)), rng.normal(0, 200, (n, 3))
    )

    def timed(fn: object) -> float:
        runs = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs)

    def live() -> None:
        decoder = StreamDecoder()
        for i in range(0, len(packets), 10):
            decoder.feed(packets[i : i + 10])

    batch_s = timed(lambda: decode_batch(packets))
    stream_s = timed(lambda: StreamDecoder().feed(packets))
    live_s = timed(live)
    figures = {
        "samples": n,
        "packets": len(packets),
        "batch_samples_per_s": n / batch_s,
        "stream_samples_per_s": n / stream_s,
        "live_1s_chunks_samples_per_s": n / live_s,
        "live_cost_per_sensor_second_us": live_s / (n / 100) * 1e6,
    }
    print(f"decode: {n} samples in {len(packets)} packets of 10 (median of {args.repeat} runs, one core)")
    print(f"  batch decoder            {figures['batch_samples_per_s'] / 1e6:6.2f} M samples/s")
    print(f"  stream decoder, one call {figures['stream_samples_per_s'] / 1e6:6.2f} M samples/s")
    print(
        f"  stream decoder, live 1 s {figures['live_1s_chunks_samples_per_s'] / 1e6:6.2f} M samples/s"
        f"  ({figures['live_cost_per_sensor_second_us']:.0f} us per sensor-second)"
    )
    print(f"  -> {write_results('decode', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
