"""What the athlete sees: how soon a rep reaches the live page, and what the report costs.

1. Page delay: a publisher sends reps (with the retained state) to a real broker (Mosquitto when
   installed, else amqtt); `reptrack web`'s server (in this process) turns them into page updates;
   a client reads the update stream as the page does. Per rep: arrival of the update carrying it
   minus the rep's ``sent_at`` (wall clock: the machine is shared, so read the median).
2. Server CPU per update: the CPU time (process_time) of building the cards of N sensors.
3. Report: CPU time (process_time) of ``reptrack report`` on a simulated seed session, split
   into analysis (pipeline, thigh angle) and drawing/writing.

Prints medians and writes bench/results/athlete_views.json.

    python bench/athlete_views.py [--reps 40]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from bench.latency import Broker
from tracker.events import Rep, RepEvent
from tracker.mqtt import MqttSettings, SensorPublisher
from tracker.mqtt import payloads as pl
from tracker.mqtt.subscriber import LiveFacts
from tracker.ui.web import WebDashboard, sensor_card


def _rep(n: int) -> RepEvent:
    rep = Rep(n, 3.0 * n - 2.5, 3.0 * n - 1.2, 3.0 * n, 80.0, 1.0, 0.2, 1.0, 100.0, {"rms_deg": 2.0})
    return RepEvent(3.0 * n + 0.1, 1, "squat", "both", rep)


def page_delay(reps: int) -> dict[str, Any]:
    with Broker() as url:
        settings = MqttSettings(url)
        pub = SensorPublisher(settings, "bench-1", "bench")
        pub.connect()
        with WebDashboard(settings, port=0) as web:
            conn = http.client.HTTPConnection(f"127.0.0.1:{web.port}", timeout=30)
            conn.request("GET", "/events")
            stream = conn.getresponse()
            delays = []
            for n in range(1, reps + 1):
                sent = time.time()
                pub.publish(_rep(n))
                pub.publish_state()
                while True:
                    line = stream.fp.readline().decode()
                    if not line.startswith("data: "):
                        continue
                    cards = json.loads(line[6:])["sensors"]
                    if any(c["reps"] == n for c in cards):
                        delays.append(time.time() - sent)
                        break
                time.sleep(0.05)
            conn.close()
        pub.close()
    d = np.array(delays) * 1000
    return {
        "reps": reps,
        "median_ms": round(float(np.median(d)), 1),
        "p95_ms": round(float(np.percentile(d, 95)), 1),
    }


def card_cost(sensors: int = 200) -> dict[str, Any]:
    facts = LiveFacts("reptrack")
    for i in range(sensors):
        for n in range(1, 11):
            ev = _rep(n)
            facts.handle(f"reptrack/s{i}/event/rep", pl.encode(pl.rep_payload(f"s{i}", "b", ev)))
        st = pl.StateTracker()
        facts.handle(f"reptrack/s{i}/state", pl.encode(st.payload(f"s{i}", "b")))
    runs = []
    for _ in range(5):
        t0 = time.process_time()
        for view in facts.snapshot():
            sensor_card(view)
        runs.append(time.process_time() - t0)
    return {"sensors": sensors, "median_cpu_us_per_card": round(float(np.median(runs)) / sensors * 1e6, 1)}


def report_cost() -> dict[str, Any]:
    from firmware_sim.cli import main as firmware_sim
    from tracker.ui.report import analyse, write_report

    tmp = Path(tempfile.mkdtemp())
    rec = tmp / "seed.rtrk"
    firmware_sim(["generate", "--workout", "builtin:runner-strength", "--out", str(rec), "--seed", "3"])
    t0 = time.process_time()
    an = analyse(rec, plan="builtin:runner-strength")
    t1 = time.process_time()
    write_report(an, tmp / "seed.html")
    t2 = time.process_time()
    return {
        "analysis_cpu_s": round(t1 - t0, 2),
        "figures_and_html_cpu_s": round(t2 - t1, 2),
        "html_kb": round((tmp / "seed.html").stat().st_size / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args()
    figures = {"page_delay": page_delay(args.reps), "cards": card_cost(), "report": report_cost()}
    for name, values in figures.items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
    print(f"written to {write_results('athlete_views', figures)}")


if __name__ == "__main__":
    main()
