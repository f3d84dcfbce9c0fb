"""Across processes: `firmware-sim serve` runs its own virtual radio and exposes a controller as
HCI over TCP on 127.0.0.1; `reptrack scan` and `reptrack record` (separate processes) reach it."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware_sim.peripheral import SensorData
from tests.processes import CTRL_C_EXIT, record_until, reptrack, samples_in
from tracker.protocol import quantize

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def served_sensor() -> Iterator[tuple[str, queue.Queue[str]]]:
    """`firmware-sim serve` in its own process; yields its transport and its output lines."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firmware_sim.cli",
            "serve",
            "--workout",
            "synthetic:8",
            "--speed",
            "4",
            "--serial",
            "XPROC0777",
            "--transport",
            "virtual:127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        transport = None
        deadline = time.monotonic() + 20
        while transport is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line.startswith("transport: "):
                transport = line.split(maxsplit=1)[1].strip()
        assert transport is not None and transport.startswith("tcp-client:127.0.0.1:"), "serve did not start"
        yield transport, lines
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_record_from_a_sensor_served_by_another_process(
    served_sensor: tuple[str, queue.Queue[str]], tmp_path: Path
) -> None:
    transport, _ = served_sensor
    scan = reptrack("scan", "--transport", transport, "--timeout", "1", "--json")
    assert scan.returncode == 0, scan.stderr
    found = [json.loads(line) for line in scan.stdout.splitlines()]
    assert [d["name"] for d in found] == ["RepTrack-0777"]

    # A second host on the same TCP controller after the first one left (HCI Reset, fresh state).
    # The served workout lasts 2 s at x4; the recording is stopped as Ctrl-C stops it once it holds
    # the workout's 800 samples, however long a slow machine took to scan and connect.
    out = tmp_path / "xproc.rtrk"
    rec, session = record_until(
        out,
        lambda path: samples_in(path) >= 800,
        *("--device", "RepTrack-0777", "--transport", transport),
    )
    assert rec.returncode == CTRL_C_EXIT, rec.stderr
    assert "Traceback" not in rec.stderr
    assert session.meta.device_name == "RepTrack-0777"
    assert session.notices == [] and session.warnings == []
    assert len(session.samples) == 800  # 8 s at 100 Hz, every sample, and the file closed whole


def test_a_tracker_process_that_dies_frees_the_sensor(
    served_sensor: tuple[str, queue.Queue[str]], tmp_path: Path
) -> None:
    transport, output = served_sensor
    out = tmp_path / "killed.rtrk"
    rec = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker.cli",
            "record",
            "--device",
            "RepTrack-0777",
            "--transport",
            transport,
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 2000):
            time.sleep(0.1)
        assert out.exists() and out.stat().st_size >= 2000, "the recorder never got data"
    finally:
        rec.kill()  # no goodbye: the host behind the TCP controller just dies
        rec.wait(5)
    # The sensor hears nothing more; its link ends by supervision timeout (0x08, not a goodbye)
    # and it advertises again, before any other host touches the controller.
    seen: list[str] = []
    deadline = time.monotonic() + 20  # a bound on the wait only; the sensor's log says why it ended
    while not any("disconnected" in line for line in seen):
        try:
            seen.append(output.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            raise AssertionError(f"the sensor never noticed the tracker was gone: {seen}") from None
    assert "disconnected 0x08" in "".join(seen), seen
    scan = reptrack("scan", "--transport", transport, "--timeout", "1", "--json")
    assert scan.returncode == 0, scan.stderr
    assert [json.loads(line)["name"] for line in scan.stdout.splitlines()] == ["RepTrack-0777"]


def test_bad_transport_is_a_clear_error() -> None:
    result = reptrack("scan", "--transport", "tcp-client:127.0.0.1:1", "--timeout", "0.5")
    assert result.returncode == 2
    assert "cannot open HCI transport 'tcp-client:127.0.0.1:1'" in result.stderr
    assert "Traceback" not in result.stderr


def test_standalone_radio_carries_a_sensor_and_a_tracker_in_two_other_processes(tmp_path: Path) -> None:
    """`python -m firmware_sim.radio 0 0`: two virtual controllers as HCI over TCP; the sensor
    runs on one as it would on a USB dongle, the tracker on the other."""
    procs: list[subprocess.Popen[str]] = []
    try:
        radio = subprocess.Popen(
            [sys.executable, "-m", "firmware_sim.radio", "127.0.0.1:0", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(radio)
        assert radio.stdout is not None
        specs = [radio.stdout.readline().split()[-1] for _ in range(2)]
        assert all(s.startswith("tcp-client:127.0.0.1:") for s in specs), specs
        sensor = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "firmware_sim.cli",
                "serve",
                "--workout",
                "synthetic:30",
                "--serial",
                "RADIO0555",
                "--transport",
                specs[0],
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(sensor)
        found: list[str] = []
        deadline = time.monotonic() + 15
        while not found and time.monotonic() < deadline:
            scan = reptrack("scan", "--transport", specs[1], "--timeout", "1", "--json")
            assert scan.returncode == 0, scan.stderr
            found = [json.loads(line)["name"] for line in scan.stdout.splitlines()]
        assert found == ["RepTrack-0555"]
        out = tmp_path / "radio.rtrk"
        rec, session = record_until(
            out,
            lambda path: samples_in(path) >= 100,
            *("--device", "RepTrack-0555", "--transport", specs[1]),
        )
        assert rec.returncode == CTRL_C_EXIT, rec.stderr
        # The first 100 or more samples (1 s of the workout, stopped by Ctrl-C once there) are the
        # served workout's own, one unbroken run from its start (synthetic:30 with the default seed 0)
        assert session.notices == [] and session.warnings == [] and len(session.samples) >= 100
        served = SensorData.synthetic(30.0, seed=0)
        n = len(session.samples)
        accel, _ = quantize(served.accel_g[:n], session.meta.accel_range_g)
        np.testing.assert_array_equal(session.samples.accel_g, accel * (session.meta.accel_range_g / 32768.0))
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
