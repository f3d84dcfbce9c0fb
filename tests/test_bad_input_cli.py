"""What a new user meets on the command line: one-line errors, warnings on stderr, no tracebacks."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.brokers import RealBroker
from tracker.cli import main
from tracker.mqtt.broker import BrokerURL, load_security

REPO = Path(__file__).resolve().parent.parent
NO_DBUS = {"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/reptrack-test-bus"}
SQUATS = (
    '[[step]]\nactivity = "stand"\nduration_s = 4\n\n[[step]]\nactivity = "squat"\nreps = 8\nrest_s = 3\n'
)


def _reptrack(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``reptrack ARGV`` in this process (a new interpreter costs seconds on a busy machine)."""
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as exc:  # --help
                code = int(exc.code or 0)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["reptrack", *argv], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def squat_csv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A simulated set of squats as generic CSV, and its true rep count."""
    from firmware_sim.session import simulate
    from firmware_sim.workout import Workout
    from tracker.io import Session, export_csv
    from tracker.io.session import RecordingMeta

    sim = simulate(Workout.from_toml_str(SQUATS), seed=5, leg="left", mounting="random")
    path = tmp_path_factory.mktemp("cli") / "squats.csv"
    export_csv(Session(str(path), RecordingMeta(device_id="s1", rate_hz=100.0), sim.samples()), path)
    return path, sim.truth.total_reps


def _rewrite(src: Path, dst: Path, change: object) -> Path:
    lines = src.read_text().splitlines()
    body_at = next(i for i, ln in enumerate(lines) if ln.startswith("t,"))
    table = np.array([[float(x) for x in ln.split(",")] for ln in lines[body_at + 1 :]])
    table = change(table)  # type: ignore[operator]
    rows = [",".join(repr(float(x)) for x in row) for row in table]
    dst.write_text("\n".join([lines[body_at], *rows]) + "\n")
    return dst


# --- silent wrong answers -------------------------------------------------------------------------


def test_one_corrupt_sample_does_not_cost_reps_and_is_reported(
    squat_csv: tuple[Path, int], tmp_path: Path
) -> None:
    src, truth = squat_csv

    def spike(table: np.ndarray) -> np.ndarray:
        table[800, 3] = 1000.0  # one accelerometer value of 1000 g, in the standing before the set
        table[1900, 1] = 1000.0  # and one in the middle of a rep
        return table

    path = _rewrite(src, tmp_path / "spike.csv", spike)
    proc = _reptrack("replay", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["total_reps"] == truth
    assert "replaced 2 accelerometer" in proc.stderr


def test_the_live_service_reports_corrupt_samples_too(squat_csv: tuple[Path, int], tmp_path: Path) -> None:
    src, truth = squat_csv

    def spike(table: np.ndarray) -> np.ndarray:
        table[1900, 2] = -1000.0
        return table

    path = _rewrite(src, tmp_path / "spike-live.csv", spike)
    with RealBroker() as broker:
        proc = _reptrack(
            "run", "--replay", str(path), "--speed", "0", "--broker", broker.url, "--json", "--quiet"
        )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout[proc.stdout.index("{") :])["total_reps"] == truth
    assert "warning: replaced 1 accelerometer and 0 gyroscope samples" in proc.stderr


@pytest.mark.parametrize(
    "unit, scale, offset",
    [("milliseconds", 1e3, 0.0), ("milliseconds", 1e3, 1.7e12), ("microseconds", 1e6, 0.0)],
)
def test_timestamps_in_milliseconds_or_epoch_ms_are_not_read_as_seconds(
    squat_csv: tuple[Path, int], tmp_path: Path, unit: str, scale: float, offset: float
) -> None:
    src, truth = squat_csv

    def rescale(table: np.ndarray) -> np.ndarray:
        table[:, 0] = np.round(table[:, 0] * scale) + offset
        return table

    path = _rewrite(src, tmp_path / "ms.csv", rescale)
    proc = _reptrack("replay", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    in_seconds = json.loads(_reptrack("replay", str(src), "--json").stdout)
    assert summary["duration_s"] == pytest.approx(in_seconds["duration_s"], abs=0.01)
    assert summary["total_reps"] == in_seconds["total_reps"] == truth
    assert f"read as {unit} (100 Hz)" in proc.stderr


def test_warnings_go_to_stderr_even_when_no_set_was_found(tmp_path: Path) -> None:
    path = tmp_path / "still.csv"
    rows = "\n".join(f"{i / 100},0,0,1,{i}" for i in range(3000))
    path.write_text(f"t,ax,ay,az,label\n{rows}\n")
    proc = _reptrack("replay", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "no sets found" in proc.stdout and "warning:" not in proc.stdout
    assert "warning: line 1: ignored unknown columns 'label'" in proc.stderr


def test_messages_show_plain_numbers_not_numpy_reprs(tmp_path: Path) -> None:
    path = tmp_path / "back.csv"
    path.write_text("t,ax,ay,az\n0,0,0,1\n5,0,0,1\n4.5,0,0,1\n")
    proc = _reptrack("replay", str(path))
    assert proc.returncode == 2
    assert "time 4.5 is not after the previous row's 5.0" in proc.stderr
    assert "np.float64" not in proc.stderr


# --- rough edges --------------------------------------------------------------------------------


def test_a_closed_pipe_ends_quietly(squat_csv: tuple[Path, int]) -> None:
    """`reptrack replay x | head -1`: the reader is gone before RepTrack writes."""
    cmd = [sys.executable, "-m", "tracker.cli", "replay", str(squat_csv[0])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_replay_help_names_the_native_extension() -> None:
    proc = _reptrack("replay", "--help")
    assert ".rtrk" in proc.stdout and ".rtrec" not in proc.stdout


def test_a_missing_bluetooth_stack_is_named() -> None:
    from tracker.ble.link import bluetooth_stack_hint

    assert "BlueZ" in bluetooth_stack_hint(FileNotFoundError(2, "No such file or directory"))
    assert bluetooth_stack_hint(ValueError("bad address")) == ""
    proc = _reptrack("scan", "--timeout", "0.5", "--backend", "bleak", env=NO_DBUS)
    assert proc.returncode == 2, proc.stderr
    assert "BlueZ" in proc.stderr and "D-Bus" in proc.stderr and "--backend bumble" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_password_in_the_broker_url_is_not_echoed(squat_csv: tuple[Path, int]) -> None:
    proc = _reptrack("run", "--replay", str(squat_csv[0]), "--broker", "mqtt://bob:hunter2@127.0.0.1:1")
    assert proc.returncode == 2
    assert "contains a password" in proc.stderr and "hunter2" not in proc.stderr


def test_a_password_file_every_user_can_read_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "mqtt.toml"
    cfg.write_text('username = "bob"\npassword = "hunter2"\n')
    cfg.chmod(0o644)
    from tracker.errors import InputFileError

    with pytest.raises(InputFileError, match=r"every user can read it \(mode 0644\); run: chmod 600"):
        load_security(BrokerURL.parse("mqtt://h"), cfg, env={})
    cfg.chmod(0o600)
    assert load_security(BrokerURL.parse("mqtt://h"), cfg, env={}).password == "hunter2"


def test_the_dashboard_keeps_the_exercise_on_80_columns() -> None:
    from rich.console import Console

    from tracker.mqtt.subscriber import LiveFacts
    from tracker.ui.terminal import render

    facts = LiveFacts("reptrack")
    facts.handle("reptrack/AA-BB-CC-DD-EE-FF/status", b'{"status": "online"}')
    state = {"exercise": "single_leg_deadlift", "set_index": 3, "reps_in_set": 7, "total_reps": 27}
    facts.handle("reptrack/AA-BB-CC-DD-EE-FF/state", json.dumps(state).encode())
    console = Console(width=80, record=True, color_system=None)
    console.print(render(facts, width=80))
    text = console.export_text()
    assert "single_leg_deadlift" in text and "AA-BB-CC-DD-EE-FF" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def _retained(url: str, topic_filter: str) -> dict[str, bytes]:
    """Retained messages a new subscriber receives."""
    got: dict[str, bytes] = {}
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{os.getpid()}")
    client.on_message = lambda c, u, m: (
        got.__setitem__(m.topic, m.payload) if m.retain and m.payload else None
    )
    client.on_subscribe = lambda *a: done.set()
    b = BrokerURL.parse(url)
    client.connect(b.host, b.port)
    client.loop_start()
    client.subscribe(topic_filter, 1)
    done.wait(5)
    threading.Event().wait(0.5)
    client.loop_stop()
    client.disconnect()
    return got


def test_forget_clears_the_ghost_a_failed_run_device_leaves(tmp_path: Path) -> None:
    with RealBroker() as broker:
        proc = _reptrack(
            "run", "--device", "Ghost-1", "--broker", broker.url, "--scan-timeout", "1", env=NO_DBUS
        )
        assert proc.returncode != 0 and "Traceback" not in proc.stderr
        assert _retained(broker.url, "reptrack/#"), "the failed run left nothing to forget"
        proc = _reptrack("forget", "Ghost-1", "--broker", broker.url)
        assert proc.returncode == 0, proc.stderr
        assert "reptrack/Ghost-1/status" in proc.stdout
        assert _retained(broker.url, "reptrack/#") == {}


def test_forget_refuses_an_online_sensor_unless_forced(tmp_path: Path) -> None:
    with RealBroker() as broker:
        b = BrokerURL.parse(broker.url)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="live")
        client.connect(b.host, b.port)
        client.loop_start()
        client.publish("reptrack/s1/status", b'{"status": "online"}', qos=1, retain=True).wait_for_publish(5)
        client.loop_stop()
        client.disconnect()
        proc = _reptrack("forget", "s1", "--broker", broker.url)
        assert proc.returncode == 2 and "is online" in proc.stderr
        assert _reptrack("forget", "s1", "--broker", broker.url, "--force").returncode == 0
        assert _retained(broker.url, "reptrack/#") == {}


def test_demo_uses_the_broker_it_is_given(tmp_path: Path) -> None:
    workout = tmp_path / "short.toml"
    workout.write_text(SQUATS)
    with RealBroker() as broker:
        proc = _reptrack(
            "demo", "--broker", broker.url, "--workout", str(workout), "--plain", "--speed", "20"
        )
        assert proc.returncode == 0, proc.stderr
        assert f"publishing to the MQTT broker at {broker.url.removeprefix('mqtt://')}" in proc.stdout or (
            f"publishing to the MQTT broker at {broker.url}" in proc.stdout
        ), proc.stdout
        assert "embedded" not in proc.stdout
        assert "reptrack/sim-1/status" in _retained(broker.url, "reptrack/#")
