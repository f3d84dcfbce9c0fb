"""Across processes: `firmware-sim serve` runs its own virtual radio and exposes a controller as
HCI over TCP on 127.0.0.1; `reptrack scan` and `reptrack record` (separate processes) reach it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tracker.importers import load_session

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def served_sensor() -> Iterator[tuple[str, subprocess.Popen[str]]]:
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
    try:
        transport = None
        deadline = time.monotonic() + 20
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("transport: "):
                transport = line.split(maxsplit=1)[1].strip()
                break
        assert transport is not None and transport.startswith("tcp-client:127.0.0.1:"), "serve did not start"
        yield transport, proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _reptrack(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_record_from_a_sensor_served_by_another_process(
    served_sensor: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    transport, _ = served_sensor
    scan = _reptrack("scan", "--transport", transport, "--timeout", "1", "--json")
    assert scan.returncode == 0, scan.stderr
    found = [json.loads(line) for line in scan.stdout.splitlines()]
    assert [d["name"] for d in found] == ["RepTrack-0777"]

    # A second host on the same TCP controller after the first one left (HCI Reset, fresh state).
    out = tmp_path / "xproc.rtrk"
    rec = _reptrack(
        "record",
        "--device",
        "RepTrack-0777",
        "--transport",
        transport,
        "--out",
        str(out),
        "--duration",
        "4.5",
    )
    assert rec.returncode == 0, rec.stderr
    session = load_session(out)
    assert session.meta.device_name == "RepTrack-0777"
    assert session.notices == []
    assert len(session.samples) == 800  # 8 s at 100 Hz, every sample


def test_bad_transport_is_a_clear_error() -> None:
    result = _reptrack("scan", "--transport", "tcp-client:127.0.0.1:1", "--timeout", "0.5")
    assert result.returncode == 2
    assert "cannot open HCI transport 'tcp-client:127.0.0.1:1'" in result.stderr
    assert "Traceback" not in result.stderr
