"""Streamed reading (tracker/io/stream.py) gives what the whole-file reader gives, block by block."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.cli.replay import replay_file
from tracker.errors import InputFileError
from tracker.io.load import load_session
from tracker.io.stream import RestartWithSession, open_stream
from tracker.samples import Samples, rechunk

# ../shared/data from the main checkout, ../../shared/data from a worktree under /work/wt
DATA = next(
    (p / "shared" / "data" for p in Path(__file__).resolve().parents if (p / "shared" / "data").is_dir()),
    Path("../shared/data"),
)


def _csv(path: Path, n: int, seed: int, gyro: bool = True, t0: float = 0.0, fmt: str = "repr") -> Path:
    """``n`` samples; cells as ``repr`` writes them (up to 17 significant digits: numpy's parser
    reads them) or as ``%.5f`` does (plain decimals: read by tracker/io/plain_numbers.py)."""
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(n) / 100.0
    acc = np.column_stack([0.1 * np.sin(t), 0.05 * rng.normal(size=n), 1 + 0.01 * rng.normal(size=n)])
    head = "# device_id: ab-12\n# sensor_leg: left\nt,ax,ay,az" + (",gx,gy,gz\n" if gyro else "\n")
    rows = np.column_stack([t, acc, rng.normal(0, 3, (n, 3))] if gyro else [t, acc])
    cell = repr if fmt == "repr" else (lambda v: fmt % v)
    path.write_text(head + "\n".join(",".join(cell(v) for v in row) for row in rows.tolist()) + "\n")
    return path


def _streamed(path: Path, block: int) -> Samples:
    return Samples.concat(list(open_stream(path, block_samples=block).blocks()))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(2, 400),
    block=st.integers(1, 500),
    seed=st.integers(0, 99),
    gyro=st.booleans(),
    t0=st.sampled_from([0.0, 12.5]),
    fmt=st.sampled_from(["repr", "%.5f"]),
)
def test_blocks_join_to_the_whole_file_samples(
    tmp_path: Path, n: int, block: int, seed: int, gyro: bool, t0: float, fmt: str
) -> None:
    path = _csv(tmp_path / f"s{seed}.csv", n, seed, gyro, t0, fmt)
    whole = load_session(path, check_units=False)
    stream = open_stream(path, block_samples=block)
    got = Samples.concat(list(stream.blocks()))
    assert np.array_equal(got.t_s, whole.samples.t_s)
    assert np.array_equal(got.accel_g, whole.samples.accel_g)
    assert (got.gyro_dps is None) == (whole.samples.gyro_dps is None)
    if got.gyro_dps is not None:
        assert np.array_equal(got.gyro_dps, whole.samples.gyro_dps)
    assert stream.meta.device_id == "ab-12" and stream.meta.sensor_leg == "left"
    assert stream.duration_s == pytest.approx(whole.samples.duration_s)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=8), packet=st.integers(1, 17))
def test_rechunk_cuts_the_same_packets_as_one_array(sizes: list[int], packet: int) -> None:
    total = sum(sizes)
    t = np.arange(total, dtype=np.float64)
    whole = Samples.from_arrays(t, np.zeros((total, 3)))
    bounds = np.cumsum([0, *sizes])
    blocks = [whole.slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    want = [c.t_s.tolist() for c in whole.chunks(packet)]
    assert [c.t_s.tolist() for c in rechunk(iter(blocks), packet)] == want


def test_a_bad_cell_deep_in_the_file_gets_the_whole_file_readers_message(tmp_path: Path) -> None:
    path = _csv(tmp_path / "bad.csv", 500, 1)
    lines = path.read_text().splitlines()
    lines[420] = lines[420].replace(",", ",x1.5", 1).replace(",x1.5", ",1.5x", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as whole:
        load_session(path)
    with pytest.raises(InputFileError) as streamed:
        list(open_stream(path, block_samples=100).blocks())
    assert str(streamed.value) == str(whole.value) and "line 421" in str(streamed.value)


def test_time_going_back_in_a_later_block_gets_the_whole_file_readers_message(tmp_path: Path) -> None:
    path = _csv(tmp_path / "back.csv", 300, 2)
    lines = path.read_text().splitlines()
    lines[250], lines[251] = lines[251], lines[250]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError) as whole:
        load_session(path)
    with pytest.raises(InputFileError) as streamed:
        list(open_stream(path, block_samples=64).blocks())
    assert str(streamed.value) == str(whole.value)


def test_a_note_in_the_body_restarts_from_the_whole_file_session(tmp_path: Path) -> None:
    path = _csv(tmp_path / "note.csv", 300, 3)
    lines = path.read_text().splitlines()
    lines.insert(200, '# note: {"kind": "gap", "t_s": 1.9}')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(RestartWithSession) as restart:
        list(open_stream(path, block_samples=64).blocks())
    assert restart.value.session.notes == [{"kind": "gap", "t_s": 1.9}]
    assert len(restart.value.session.samples) == 300


@pytest.mark.skipif(not DATA.exists(), reason="the real recordings (../shared/data) are not here")
@pytest.mark.parametrize("name", ["cmu-thigh/SqDL_LeftThigh.csv", "daily/hugadb_walk_p07-left.csv"])
def test_a_streamed_replay_of_a_real_recording_equals_the_in_memory_one(name: str) -> None:
    """One block holds these recordings whole, so the pipeline sees exactly the same arrays."""
    from tracker.pipeline import Pipeline
    from tracker.summary import summarize

    path = DATA / name
    session = load_session(path)
    pipeline = Pipeline(sensor_leg=session.meta.sensor_leg)
    events = pipeline.feed(session.samples) + pipeline.finish()
    want = summarize(str(path), session.samples.duration_s, events)
    got = replay_file(path)
    got.pop("calibration_id")
    got.pop("warnings", None)
    assert got == want and got["duration_s"] == want["duration_s"]


# -- native .rtrk recordings stream record by record -------------------------------------------------


def _native_with_gaps(path: Path, cut_bytes: int = 0) -> Path:
    """Simulated squats as live packets: two stretches lost (gaps), a note without a time in the
    middle, a codec-less header; ``cut_bytes`` > 0 cuts that much off the end (a crash)."""
    from tests import workouts
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    packets = workouts.simulated(workouts.squat_set(5), 3, "left").packets()
    third = len(packets) // 3
    kept = packets[:third] + packets[third + 30 : 2 * third] + packets[2 * third + 3 :]
    meta = RecordingMeta(device_id="sim-1", rate_hz=100.0)
    with RecordingWriter.create(path, meta, overwrite=True) as writer:
        writer.write_packets(kept[:third], [0.1 * i for i in range(third)])
        writer.write_note("reconnect")
        writer.write_packets(kept[third:])
    if cut_bytes:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - cut_bytes])
    return path


def _polar_recording(path: Path) -> Path:
    """A Polar PMD recording whose codec comes in a note after the header, as a live run writes it."""
    from tests import workouts
    from tracker.codecs import polar_pmd as pmd
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    sim = workouts.simulated(workouts.squat_set(5), 3, "left")
    acc_factor, gyro_factor, n = 0.244140625, 0.06103515625, 13  # mg and deg/s per count
    acc = np.round(sim.accel_g * 1000 / acc_factor).astype(np.int64)
    gyr = np.round(sim.gyro_dps / gyro_factor).astype(np.int64)
    period_ns = round(1e9 / 100.0)
    frames = []
    for k in range(len(acc) // n):
        stamp = 1_000_000_000 + (k * n + n - 1) * period_ns
        rows = slice(k * n, (k + 1) * n)
        frames.append(pmd.encode_frame(pmd.PmdType.ACC, stamp, 0x81, pmd.delta_encode(acc[rows], 16)))
        frames.append(pmd.encode_frame(pmd.PmdType.GYRO, stamp, 0x80, pmd.delta_encode(gyr[rows], 16)))
    codec = f"polar-pmd rate_hz=100.0 acc_factor={acc_factor!r} gyro_factor={gyro_factor!r} gyro=1.0"
    with RecordingWriter.create(path, RecordingMeta(device_id="polar-1")) as writer:
        writer.write_note("codec", detail=codec)
        writer.write_packets(frames)
    return path


def _assert_stream_equals_whole(path: Path, block: int) -> None:
    from tracker.io.native import read_recording

    whole = read_recording(path)
    stream = open_stream(path, block_samples=block)
    assert stream._native is not None, "a native recording should stream"
    blocks = list(stream.blocks())
    assert all(len(b) <= block + 4096 * 64 for b in blocks)
    got = Samples.concat(blocks)
    assert np.array_equal(got.t_s, whole.samples.t_s)
    assert np.array_equal(got.accel_g, whole.samples.accel_g)
    assert (got.gyro_dps is None) == (whole.samples.gyro_dps is None)
    assert stream.warnings == whole.warnings
    assert stream.notes == whole.notes
    assert stream.notices == whole.notices
    assert stream.meta == whole.meta
    assert stream.duration_s == whole.samples.duration_s


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.integers(1, 3000), cut=st.integers(0, 3000))
def test_a_streamed_native_recording_gives_the_whole_file_readers_samples_notes_and_warnings(
    tmp_path: Path, block: int, cut: int
) -> None:
    path = _native_with_gaps(tmp_path / "gaps.rtrk", cut_bytes=cut)
    _assert_stream_equals_whole(path, block)


def test_a_vendor_codec_named_in_a_note_streams_like_the_whole_file(tmp_path: Path) -> None:
    path = _polar_recording(tmp_path / "polar.rtrk")
    _assert_stream_equals_whole(path, 500)
    assert len(load_session(path).samples) > 1000  # the Polar decoder was used, not RepTrack's


def _whole_file_replay(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """`replay_file` as before streaming: the native body declines, so the session is read whole."""
    from tracker.io import stream as stream_module

    with monkeypatch.context() as m:
        m.setattr(stream_module._NativeBody, "open", classmethod(lambda cls, p, b: None))
        return replay_file(path)


@pytest.mark.parametrize("case", ["gaps", "truncated", "polar"])
def test_replay_summary_of_a_streamed_native_recording_equals_the_whole_file_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    if case == "polar":
        path = _polar_recording(tmp_path / "p.rtrk")
    else:
        path = _native_with_gaps(tmp_path / "g.rtrk", cut_bytes=777 if case == "truncated" else 0)
    streamed = replay_file(path)
    whole = _whole_file_replay(path, monkeypatch)
    assert streamed == whole
    assert streamed["total_reps"] == (5 if case == "polar" else 4)  # the gaps cost a rep
    if case == "truncated":
        assert any("truncated" in w for w in streamed["warnings"])  # type: ignore[union-attr]


def test_mixed_gyroscope_records_restart_from_the_whole_file_session(tmp_path: Path) -> None:
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    t = np.arange(400) / 100.0
    acc = np.tile([0.0, 0.0, 1.0], (400, 1))
    path = tmp_path / "mixed.rtrk"
    with RecordingWriter.create(path, RecordingMeta(rate_hz=100.0)) as writer:
        writer.write_samples(Samples(t[:200], acc[:200], np.zeros((200, 3))))
        writer.write_samples(Samples(t[200:], acc[200:], None))
    stream = open_stream(path, block_samples=50)
    with pytest.raises(RestartWithSession) as restart:
        list(stream.blocks())
    assert restart.value.session.samples.gyro_dps is None
    assert any("gyroscope dropped" in w for w in restart.value.session.warnings)
