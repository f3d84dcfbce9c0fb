"""RepTrack's commands as child processes, for the `process` tier (docs/architecture.md, "Test tiers").

``record_until`` runs ``reptrack record`` until the recording holds what a test needs, then stops
it as Ctrl-C does: the test waits as long as a slow machine needs and no longer, where a fixed
``--duration`` had to cover the slowest machine every time.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tracker.io.load import load_session
from tracker.io.session import Session

CTRL_C_EXIT = 130  # what `reptrack` returns when Ctrl-C stopped it


def reptrack(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``reptrack ARGS`` in a child process; its exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def samples_in(path: Path) -> int:
    """Samples in a recording that may still be written (0 while it is unreadable)."""
    if not path.exists():
        return 0
    try:
        return len(load_session(path).samples)
    except Exception:  # a header half-written a moment ago
        return 0


def record_until(
    out: Path, done: Callable[[Path], bool], *record_args: str, bound_s: float = 60.0
) -> tuple[subprocess.CompletedProcess[str], Session]:
    """``reptrack record --out OUT RECORD_ARGS`` until ``done(out)`` (checked every 0.1 s), then
    Ctrl-C; ``bound_s`` bounds the wait (the recording then ends by its own ``--duration``).
    Returns the finished process and the recording read back after it closed the file."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker.cli",
            "record",
            "--out",
            str(out),
            "--duration",
            str(bound_s),
            *record_args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + bound_s
        while proc.poll() is None and time.monotonic() < deadline and not done(out):
            time.sleep(0.1)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), load_session(out)
