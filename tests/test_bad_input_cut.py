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


def test_packets_of_another_codec_are_split_by_arrival_time_or_count(tmp_path: Path) -> None:
    """Polar or MetaWear packets have no RepTrack header to read their span from."""
    from tracker.io.native import OTHER_PACKETS_PER_RECORD, PacketsRecord, RecordingReader, RecordingWriter
    from tracker.io.session import RecordingMeta

    packets = [bytes([0x02, i % 256]) + bytes(100) for i in range(100)]  # not RepTrack's layout
    arrivals = [0.25 * i for i in range(100)]  # 25 s of them
    with RecordingWriter.create(tmp_path / "timed.rtrk", RecordingMeta(codec="polar-pmd")) as w:
        w.write_packets(packets, arrivals)
    records = [
        r for r in RecordingReader.open(tmp_path / "timed.rtrk").records if isinstance(r, PacketsRecord)
    ]
    assert max(r.host_times_s[-1] - r.host_times_s[0] for r in records) <= RECORD_SPAN_S
    assert sum(len(r.packets) for r in records) == 100
    with RecordingWriter.create(tmp_path / "untimed.rtrk", RecordingMeta(codec="polar-pmd")) as w:
        w.write_packets(packets)
    records = [
        r for r in RecordingReader.open(tmp_path / "untimed.rtrk").records if isinstance(r, PacketsRecord)
    ]
    assert [len(r.packets) for r in records][:-1] == [OTHER_PACKETS_PER_RECORD] * (len(records) - 1)
