"""Equivalence harness: the full event list of many sessions, to prove a refactor changes nothing.

Sessions: the built-in workouts of firmware_sim (``everything``, ``runner-strength``,
``daily-life``) at several seeds and both thighs, random workouts of every exercise (the accuracy
bench's generator), and every real recording under /work/shared/data (read in place). Each is
replayed in 10-sample packets, in 3,000, 30,000 and 60,000-sample chunks and whole, and every event (all fields,
floats exactly) is written as JSON.

    .venv/bin/python bench/equivalence.py record /tmp/events-before.json
    .venv/bin/python bench/equivalence.py compare /tmp/events-before.json

``compare`` replays again and lists every session and chunking whose events differ (first
difference shown); it also reports where a session's chunkings disagree with one another (results
must not depend on chunk size). Exit status 1 on any difference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.accuracy import DATA, random_workout  # noqa: E402
from firmware_sim.session import simulate  # noqa: E402
from firmware_sim.workout import load_workout  # noqa: E402
from tracker.io.load import load_session  # noqa: E402
from tracker.pipeline import Pipeline  # noqa: E402
from tracker.samples import Samples  # noqa: E402

BUILTINS = ("everything", "runner-strength", "daily-life")
CHUNKINGS: dict[str, int | None] = {
    "packets10": 10,
    "chunks3000": 3_000,
    "chunks30000": 30_000,
    "chunks60000": 60_000,
    "whole": None,
}


def sessions(seeds: int) -> Iterator[tuple[str, Samples, str | None]]:
    """(name, samples, sensor leg) of every session the harness replays."""
    for name in BUILTINS:
        for seed in range(seeds):
            leg = ("left", "right")[seed % 2]
            sim = simulate(load_workout(f"builtin:{name}"), seed=seed, leg=leg, mounting="random")
            yield f"{name}/seed{seed}/{leg}", sim.samples(), None
    for seed in range(max(1, seeds - 1)):
        for leg in ("left", "right"):
            rng = np.random.default_rng(1000 * seed + (leg == "right"))
            sim = simulate(random_workout(rng, leg), seed=seed, leg=leg, mounting="random")
            yield f"random/seed{seed}/{leg}", sim.samples(), None
    for csv in sorted(DATA.glob("*/*.csv")):
        session = load_session(csv)
        yield f"real/{csv.parent.name}/{csv.name}", session.samples, session.meta.sensor_leg


def replay(samples: Samples, chunk: int | None, sensor_leg: str | None) -> list[dict[str, Any]]:
    """Every event of one replay, as plain JSON values."""
    pipeline = Pipeline(sensor_leg=sensor_leg)
    events = []
    for part in [samples] if chunk is None else samples.chunks(chunk):
        events += pipeline.feed(part)
    events += pipeline.finish()
    return [dataclasses.asdict(e) for e in events]


def record_all(seeds: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, samples, leg in sessions(seeds):
        out[name] = {label: replay(samples, size, leg) for label, size in CHUNKINGS.items()}
    return out


def first_difference(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> str:
    """A one-line description of where two event lists part."""
    for k, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"event {k} ({x['kind']} at {x['t_s']:.2f} s): {_diff_fields(x, y)}"
    return f"{len(a)} events vs {len(b)}"


def _diff_fields(x: Any, y: Any, path: str = "") -> str:
    if isinstance(x, dict) and isinstance(y, dict):
        for key in x.keys() | y.keys():
            if x.get(key) != y.get(key):
                return _diff_fields(x.get(key), y.get(key), f"{path}.{key}")
    if isinstance(x, list | tuple) and isinstance(y, list | tuple) and len(x) == len(y):
        for k, (u, v) in enumerate(zip(x, y, strict=True)):
            if u != v:
                return _diff_fields(u, v, f"{path}[{k}]")
    return f"{path.lstrip('.')}: {x!r} -> {y!r}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("record", "compare"))
    ap.add_argument("file", type=Path, help="JSON file of recorded events (keep it outside the repository)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per built-in workout")
    args = ap.parse_args()
    t0 = time.process_time()
    now = record_all(args.seeds)
    differ = 0
    for name, runs in now.items():
        labels = list(runs)
        for label in labels[1:]:
            if runs[label] != runs[labels[0]]:
                print(
                    f"chunk-dependent: {name}: {labels[0]} vs {label}: {first_difference(runs[labels[0]], runs[label])}"
                )
    if args.mode == "record":
        args.file.write_text(json.dumps(now))
        print(f"recorded {len(now)} sessions x {len(CHUNKINGS)} chunkings to {args.file}")
    else:
        before = json.loads(args.file.read_text())
        for name in sorted(before.keys() | now.keys()):
            for label in CHUNKINGS:
                a = before.get(name, {}).get(label)
                b = json.loads(json.dumps(now.get(name, {}).get(label)))  # tuples as lists, like the file
                if a != b:
                    differ += 1
                    detail = "missing" if a is None or b is None else first_difference(a, b)
                    print(f"CHANGED {name} [{label}]: {detail}")
        print(f"{len(now)} sessions x {len(CHUNKINGS)} chunkings: {differ} differ from {args.file}")
    print(f"({time.process_time() - t0:.0f} s CPU)")
    return int(differ > 0)


if __name__ == "__main__":
    raise SystemExit(main())
