"""A recording cut anywhere keeps all but its last few seconds (a crash, a full disk, a copy cut
short). `firmware-sim generate` once wrote ~400 s per record: a file cut at half kept 0 reps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tracker.cli.replay import replay_file
from tracker.io.load import load_session
from tracker.io.native import RECORD_SPAN_S

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cut") / "session.rtrk"
    cmd = [sys.executable, "-m", "firmware_sim.cli", "generate", "--workout", "builtin:runner-strength"]
    cmd += ["--seed", "3", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("fraction", [0.1, 0.37, 0.5, 0.83, 0.999])
def test_a_generated_recording_cut_anywhere_keeps_all_but_its_last_seconds(
    generated: Path, tmp_path: Path, fraction: float
) -> None:
    raw = generated.read_bytes()
    full = load_session(generated)
    cut = tmp_path / "cut.rtrk"
    cut.write_bytes(raw[: round(len(raw) * fraction)])
    kept = load_session(cut)
    assert any("truncated" in w for w in kept.warnings)
    assert kept.samples.duration_s >= fraction * full.samples.duration_s - RECORD_SPAN_S - 0.5


def test_a_generated_recording_cut_at_half_keeps_the_reps_before_the_cut(
    generated: Path, tmp_path: Path
) -> None:
    full = replay_file(generated)
    cut = tmp_path / "half.rtrk"
    raw = generated.read_bytes()
    cut.write_bytes(raw[: len(raw) // 2])
    half = replay_file(cut)
    done_before = [
        r for s in full["sets"] for r in s["reps_detail"] if r["t_end_s"] < half["duration_s"] - 5.0
    ]
    assert len(done_before) > 20
    assert half["total_reps"] >= len(done_before)
