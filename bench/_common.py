"""Shared helpers for benchmarks: where results go, and how they are printed."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tracker.mqtt import BrokerURL, EmbeddedBroker
from tracker.mqtt.broker import broker_answers, free_port
from tracker.pipeline import Pipeline
from tracker.samples import Samples

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` with the figures and the machine they came from."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "bench": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "figures": figures,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def run_pipeline(samples: Samples, packet: int = 10) -> list[Any]:
    """Every event of a fresh pipeline fed ``samples`` in ``packet``-sample chunks, then finished."""
    p = Pipeline()
    events: list[Any] = []
    for c in samples.chunks(packet):
        events += p.feed(c)
    return events + p.finish()


def _any_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))


class Broker:
    """Mosquitto on a free port if installed, else the embedded amqtt broker."""

    def __init__(self, conf_lines: tuple[str, ...] = ()) -> None:
        self.conf_lines = conf_lines  # extra mosquitto.conf lines (Mosquitto only)
        self.proc: subprocess.Popen[bytes] | None = None
        self.embedded: EmbeddedBroker | None = None
        self.kind = (
            "mosquitto" if (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()) else "amqtt"
        )

    def __enter__(self) -> BrokerURL:
        if self.kind == "amqtt":
            self.embedded = EmbeddedBroker(port=0).start()
            return self.embedded.url
        port = free_port()
        conf = Path(tempfile.mkdtemp()) / "m.conf"
        conf.write_text(
            "\n".join([f"listener {port} 127.0.0.1", "allow_anonymous true", *self.conf_lines]) + "\n"
        )
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        # The broker is another program (in production often another machine): it runs on any core
        # even when the bench is pinned to one with `taskset`, so the pinned core is the service's.
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL, preexec_fn=_any_core)
        deadline = time.monotonic() + 10
        while not broker_answers("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.05)
        return BrokerURL("127.0.0.1", port)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
        if self.embedded is not None:
            self.embedded.stop()
