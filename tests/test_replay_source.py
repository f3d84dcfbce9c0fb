"""`reptrack run --replay FILE` (tracker.service.ReplaySource) streams the file in bounded blocks:
the same 10-sample chunks and notices as the whole file gave, with memory flat in its length."""

from __future__ import annotations

import asyncio
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from tracker.errors import InputFileError
from tracker.io.load import load_session
from tracker.protocol import StreamNotice
from tracker.samples import Samples
from tracker.service import ReplaySource
from tracker.service.seams import SourceChunk


def _csv(path: Path, n: int, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 100.0
    acc = np.column_stack([0.1 * np.sin(t), 0.05 * rng.normal(size=n), 1 + 0.01 * rng.normal(size=n)])
    rows = np.column_stack([t, acc, rng.normal(0, 3, (n, 3))])
    with path.open("w") as f:
        f.write("# device_id: ab-12\n# sensor_leg: right\nt,ax,ay,az,gx,gy,gz\n")
        np.savetxt(f, rows, fmt="%.5f", delimiter=",")
    return path


def _native_with_gaps(path: Path) -> Path:
    """Simulated squats as live packets with two stretches lost: the decoder reports the gaps."""
    from tests import workouts
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    packets = workouts.simulated(workouts.squat_set(3), 3, "left").packets()
    third = len(packets) // 3
    kept = packets[:third] + packets[third + 30 : 2 * third] + packets[2 * third + 3 :]
    with RecordingWriter.create(path, RecordingMeta(device_id="sim-1", rate_hz=100.0)) as writer:
        writer.write_packets(kept)
    return path


def _play(source: ReplaySource) -> list[SourceChunk]:
    async def run() -> list[SourceChunk]:
        return [chunk async for chunk in source.chunks()]

    return asyncio.run(run())


def _count(source: ReplaySource) -> int:
    """The samples played, keeping none of them."""

    async def run() -> int:
        return sum([len(chunk.samples) async for chunk in source.chunks()])

    return asyncio.run(run())


def _as_before(samples: Samples, notices: list[StreamNotice]) -> list[tuple[int, list[StreamNotice]]]:
    """What the source played before streaming: the whole session in 10-sample chunks, each notice
    with the first chunk that reaches its time. (chunk length, its notices) per chunk."""
    pending = sorted(notices, key=lambda n: n.t_s)
    out = []
    for chunk in samples.chunks(10):
        t_end = float(chunk.t_s[-1])
        due = [n for n in pending if n.t_s <= t_end]
        pending = pending[len(due) :]
        out.append((len(chunk), due))
    return out


@pytest.mark.parametrize("block", [97, 1000, 0])
def test_a_native_replay_plays_the_whole_files_chunks_and_notices_whatever_the_blocks(
    tmp_path: Path, block: int
) -> None:
    path = _native_with_gaps(tmp_path / "gaps.rtrk")
    whole = load_session(path)
    assert len(whole.notices) >= 2  # the two gaps
    source = ReplaySource(path, speed=0, block_samples=block)
    chunks = _play(source)
    got = Samples.concat(c.samples for c in chunks)
    assert np.array_equal(got.t_s, whole.samples.t_s)
    assert np.array_equal(got.accel_g, whole.samples.accel_g)
    assert [(len(c.samples), list(c.notices)) for c in chunks] == _as_before(whole.samples, whole.notices)
    assert source.stats.samples == len(whole.samples) and source.stats.packets == len(chunks)
    assert source.duration_s == whole.samples.duration_s
    assert source.sensor_id == "sim-1"


def test_a_note_deep_in_a_csv_hands_over_to_the_whole_file_without_replaying_a_sample(
    tmp_path: Path,
) -> None:
    path = _csv(tmp_path / "note.csv", 2000)
    lines = path.read_text().splitlines()
    lines.insert(
        1500, '# note: {"kind": "marker", "t_s": 14.9}'
    )  # legal, but only the whole-file reader keeps it
    path.write_text("\n".join(lines) + "\n")
    whole = load_session(path).samples
    source = ReplaySource(path, speed=0, block_samples=256)
    got = Samples.concat(c.samples for c in _play(source))
    assert np.array_equal(got.t_s, whole.t_s)  # each sample once, in order
    assert np.array_equal(got.accel_g, whole.accel_g)
    assert source.sensor_leg == "right" and source.duration_s == whole.duration_s


def test_a_bad_cell_deep_in_a_csv_is_reported_with_its_line_when_the_replay_reaches_it(
    tmp_path: Path,
) -> None:
    path = _csv(tmp_path / "bad.csv", 2000)
    lines = path.read_text().splitlines()
    lines[1800] = lines[1800].replace(",", ",1.5x,", 1)
    path.write_text("\n".join(lines) + "\n")
    source = ReplaySource(path, speed=0, block_samples=256)  # the header is fine: no error yet
    with pytest.raises(InputFileError) as err:
        _play(source)
    assert "line 1801" in str(err.value)


def test_a_long_replay_holds_a_block_not_the_whole_recording(tmp_path: Path) -> None:
    """40,000 samples (2.2 MB as arrays) played in 250-sample blocks: from opening the file to the
    last chunk the source allocates less than half of that at its peak (0.55 MB). Before, the
    whole file was loaded when the source was made."""
    n = 40_000
    path = _csv(tmp_path / "long.csv", n)
    _count(ReplaySource(_csv(tmp_path / "short.csv", 50), speed=0))  # imports and caches out of the way
    tracemalloc.start()
    try:
        source = ReplaySource(path, speed=0, block_samples=250)
        played = _count(source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert played == n
    assert peak < n * 7 * 8 / 2, f"peak {peak / 1e6:.2f} MB"  # measured: 0.55 MB
