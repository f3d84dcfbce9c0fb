"""Speed and size of recordings: write and read one hour of 100 Hz data, native and CSV.

Native: 36 000 packets of 10 samples, written one call per packet (as the live recorder does,
each call flushed), then read back with load_session (parse, CRC-check, decode through
StreamDecoder). Also a native recording of float samples (imported data), and the generic CSV
export and import of the same hour. Prints the median of several runs and writes
bench/results/recording_io.json.

    python bench/recording_io.py [--hours H] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from tracker.io import export_csv, load_session
from tracker.io.native import RecordingWriter
from tracker.io.session import RecordingMeta
from tracker.protocol import Packetizer


def _median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    n = int(args.hours * 3600 * 100)
    rng = np.random.default_rng(0)
    t = np.arange(n) / 100.0
    accel = np.column_stack([0.3 * np.sin(t), 0.1 * np.cos(t), 0.95 + 0.05 * np.sin(2 * t)]) + rng.normal(
        0, 0.01, (n, 3)
    )
    gyro = rng.normal(0, 30, (n, 3))
    packets = Packetizer(rate_hz=100, samples_per_packet=10).encode(np.arange(n) * 10_000, accel, gyro)
    host = (1.7e9 + np.arange(len(packets)) * 0.1).tolist()

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        native = d / "live.rtrk"

        def write_native() -> None:
            with RecordingWriter.create(native, RecordingMeta(rate_hz=100.0), overwrite=True) as w:
                for p, h in zip(packets, host, strict=True):
                    w.write_packets([p], [h])

        write_s = _median_s(write_native, args.repeat)
        read_s = _median_s(lambda: load_session(native), args.repeat)
        session = load_session(native)
        assert len(session.samples) == n and not session.warnings

        floats = d / "imported.rtrk"

        def write_floats() -> None:
            with RecordingWriter.create(floats, session.meta, overwrite=True) as w:
                w.write_samples(session.samples)

        write_f_s = _median_s(write_floats, args.repeat)
        read_f_s = _median_s(lambda: load_session(floats), args.repeat)

        csv = d / "export.csv"
        export_s = _median_s(lambda: export_csv(session, csv), args.repeat)
        import_s = _median_s(lambda: load_session(csv), args.repeat)

        figures = {
            "hours": args.hours,
            "samples": n,
            "packets": len(packets),
            "native_packets_write_s": round(write_s, 3),
            "native_packets_read_s": round(read_s, 3),
            "native_packets_bytes": native.stat().st_size,
            "native_packets_read_msamples_per_s": round(n / read_s / 1e6, 2),
            "native_floats_write_s": round(write_f_s, 3),
            "native_floats_read_s": round(read_f_s, 3),
            "native_floats_bytes": floats.stat().st_size,
            "csv_export_s": round(export_s, 3),
            "csv_import_s": round(import_s, 3),
            "csv_bytes": csv.stat().st_size,
        }
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print(f"wrote {write_results('recording_io', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
