"""Native .rtrk recordings: lossless packets, replay equals live decoding, crash safety."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.errors import InputFileError
from tracker.io.load import load_session
from tracker.io.native import (
    FILE_HEADER_SIZE,
    MAGIC,
    REC_END,
    RECORD_SPAN_S,
    PacketsRecord,
    RecordingMeta,
    RecordingReader,
    RecordingWriter,
    _frame,
    read_recording,
)
from tracker.protocol import Packetizer, StreamDecoder
from tracker.samples import Samples


def _motion(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 100.0
    accel = np.column_stack([0.3 * np.sin(t), 0.1 * np.cos(2 * t), 0.95 + 0.05 * np.sin(3 * t)])
    accel += rng.normal(0, 0.01, accel.shape)
    gyro = np.column_stack([40 * np.cos(t), 5 * np.sin(t), -10 * np.cos(3 * t)]) + rng.normal(
        0, 0.5, accel.shape
    )
    return (np.arange(n) * 10_000).astype(np.int64), accel, gyro


def _stream_with_faults() -> tuple[list[bytes], list[float]]:
    """Packets as a sensor sends them, with lost packets, a duplicate, a corrupt one and a reboot."""
    clock, accel, gyro = _motion(1200)
    pk = Packetizer(rate_hz=100, samples_per_packet=10)
    packets = pk.encode(clock[:800], accel[:800], gyro[:800])
    host = [5.0 + 0.1 * i for i in range(len(packets))]
    del packets[30:33], host[30:33]  # three packets lost over the air
    packets.insert(50, packets[49])  # a duplicate
    host.insert(50, host[49])
    bad = bytearray(packets[60])
    bad[20] ^= 0xFF  # a corrupt one
    packets[60] = bytes(bad)
    pk.restart()  # the sensor rebooted: new clock, sequence from 0
    tail = pk.encode(clock[:400] + 77_000_000, accel[800:], gyro[800:])
    packets += tail
    host += [host[-1] + 2.0 + 0.1 * i for i in range(len(tail))]
    return packets, host


def _write(path: Path, packets: list[bytes], host: list[float] | None, per_call: int = 3) -> None:
    meta = RecordingMeta(device_id="AA:BB", rate_hz=100.0, samples_per_packet=10, source="test")
    with RecordingWriter.create(path, meta) as w:
        for i in range(0, len(packets), per_call):
            w.write_packets(packets[i : i + per_call], None if host is None else host[i : i + per_call])
            if i == 30:
                w.write_note("disconnect", reason="test")


def test_replay_equals_live_decoding_including_gaps_and_restarts(tmp_path: Path) -> None:
    packets, host = _stream_with_faults()
    live = StreamDecoder()
    live_blocks, live_notices = [], []
    for p, h in zip(packets, host, strict=True):  # live: one notification at a time
        s, n = live.feed([p], [h])
        live_blocks.append(s)
        live_notices += n
    expected = Samples.concat(live_blocks)
    path = tmp_path / "s.rtrk"
    _write(path, packets, host)

    session = load_session(path)
    assert session.warnings == []
    np.testing.assert_array_equal(session.samples.t_s, expected.t_s)
    np.testing.assert_array_equal(session.samples.accel_g, expected.accel_g)
    np.testing.assert_array_equal(session.samples.gyro_dps, expected.gyro_dps)
    # the same faults (a batch reports its corrupt packets first, so compare without order)
    assert sorted((n.kind, n.packets, n.samples) for n in session.notices) == sorted(
        (n.kind, n.packets, n.samples) for n in live_notices
    )
    assert {n.kind for n in session.notices} == {"gap", "duplicate", "corrupt", "restart"}
    assert session.meta.device_id == "AA:BB" and session.meta.samples_per_packet == 10
    assert session.meta.start_time.endswith("+00:00")
    assert [n["kind"] for n in session.notes] == ["disconnect"]
    assert session.notes[0]["t_s"] > 0  # placed at the session time where it was written


def test_packets_are_kept_byte_for_byte(tmp_path: Path) -> None:
    packets, host = _stream_with_faults()
    path = tmp_path / "s.rtrk"
    _write(path, packets, host, per_call=7)
    reader = RecordingReader.open(path)
    records = [r for r in reader.records if isinstance(r, PacketsRecord)]
    stored = [p for r in records for p in r.packets]
    times = [h for r in records for h in r.host_times_s]
    assert stored == packets
    assert times == host


def test_recording_without_host_times(tmp_path: Path) -> None:
    clock, accel, gyro = _motion(300)
    packets = Packetizer().encode(clock, accel, gyro)
    path = tmp_path / "s.rtrk"
    _write(path, packets, None)
    direct, _ = StreamDecoder().feed(packets)
    np.testing.assert_array_equal(load_session(path).samples.t_s, direct.t_s)


def _small_recording(path: Path) -> Samples:
    clock, accel, gyro = _motion(120, seed=3)
    packets = Packetizer(samples_per_packet=8).encode(clock, accel, gyro)
    _write(path, packets, [0.08 * i for i in range(len(packets))], per_call=2)
    return load_session(path).samples


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_at_any_byte_reads_a_prefix_with_a_warning(tmp_path: Path, data: st.DataObject) -> None:
    full_path = tmp_path / "full.rtrk"
    if not full_path.exists():
        _small_recording(full_path)
    full = load_session(full_path).samples
    raw = full_path.read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 1), label="cut")
    path = tmp_path / "cut.rtrk"
    path.write_bytes(raw[:cut])
    session = load_session(path)
    n = len(session.samples)
    end_record = len(_frame(REC_END, b""))  # cutting only the end record loses no sample
    assert n < len(full) or cut >= len(raw) - end_record
    np.testing.assert_array_equal(session.samples.t_s, full.t_s[:n])
    np.testing.assert_array_equal(session.samples.accel_g, full.accel_g[:n])
    assert any("truncated" in w for w in session.warnings), session.warnings


def test_every_cut_point_of_a_samples_recording(tmp_path: Path) -> None:
    t = np.arange(2500) / 50.0
    samples = Samples.from_arrays(t, np.tile([0.0, 0.0, 1.0], (2500, 1)) + t[:, None] * 1e-3)
    path = tmp_path / "f.rtrk"
    with RecordingWriter.create(path, RecordingMeta()) as w:
        w.write_samples(samples)
    raw = path.read_bytes()
    record_ends = set()
    for cut in range(0, len(raw), 97):
        (tmp_path / "c.rtrk").write_bytes(raw[:cut])
        s = load_session(tmp_path / "c.rtrk")
        per_record = round(RECORD_SPAN_S * 50)  # a record holds at most RECORD_SPAN_S of samples
        assert len(s.samples) % per_record == 0  # whole records only
        np.testing.assert_array_equal(s.samples.t_s, t[: len(s.samples)])
        record_ends.add(len(s.samples))
        assert s.warnings and "truncated" in s.warnings[0]
    assert record_ends == set(range(0, 2500, per_record))


def test_corrupt_record_in_the_middle_is_skipped_with_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "s.rtrk"
    full = _small_recording(path)
    reader = RecordingReader.open(path)
    victim = reader.records[3].offset
    raw = bytearray(path.read_bytes())
    raw[victim + 20] ^= 0x55
    path.write_bytes(bytes(raw))
    session = load_session(path)
    assert any(f"corrupt record at byte {victim}" in w for w in session.warnings), session.warnings
    assert 0 < len(session.samples) < len(full)
    # the records after the damaged one are still there, and the decoder reports the hole as a gap
    assert session.samples.t_s[-1] == full.t_s[-1]
    assert any(n.kind == "gap" for n in session.notices)


def test_append_continues_after_a_crash(tmp_path: Path) -> None:
    clock, accel, gyro = _motion(400)
    packets = Packetizer().encode(clock, accel, gyro)
    path = tmp_path / "s.rtrk"
    _write(path, packets[:20], None)
    last = RecordingReader.open(path).records[-1].offset
    path.write_bytes(path.read_bytes()[: last + 30])  # crashed in the middle of the last write
    with RecordingWriter.append(path) as w:
        w.write_note("reconnect")
        w.write_packets(packets[20:])
    session = load_session(path)
    assert session.warnings == []
    direct, _ = StreamDecoder().feed(packets[:18] + packets[20:])
    np.testing.assert_array_equal(session.samples.t_s, direct.t_s)
    assert [n["kind"] for n in session.notes] == ["reconnect"]  # the note written at i == 30 never happened


def test_append_with_meta_creates_a_missing_recording(tmp_path: Path) -> None:
    path = tmp_path / "new.rtrk"
    for round_ in range(2):  # a recorder that restarts calls append every time
        with RecordingWriter.append(path, RecordingMeta(device_id="r"), fsync=True) as w:
            w.write_note("start", round=round_)
    session = load_session(path)
    assert [n["round"] for n in session.notes] == [0, 1]
    assert session.meta.device_id == "r" and session.warnings == []


def test_writer_refuses_to_lose_or_mix_data(tmp_path: Path) -> None:
    path = tmp_path / "s.rtrk"
    _small_recording(path)
    with pytest.raises(InputFileError, match="already exists"):
        RecordingWriter.create(path, RecordingMeta())
    with RecordingWriter.append(path) as w, pytest.raises(ValueError, match="holds packets"):
        w.write_samples(Samples.from_arrays([0.0], [[0, 0, 1]]))
    with pytest.raises(InputFileError, match="no such file"):
        RecordingWriter.append(tmp_path / "missing.rtrk")
    (tmp_path / "cut.rtrk").write_bytes(path.read_bytes()[: FILE_HEADER_SIZE + 5])
    with pytest.raises(InputFileError, match="no complete header"):
        RecordingWriter.append(tmp_path / "cut.rtrk")


def test_every_write_call_is_flushed(tmp_path: Path) -> None:
    path = tmp_path / "s.rtrk"
    w = RecordingWriter.create(path, RecordingMeta(device_id="live"))
    w.write_note("calibration", 0.0, id="cal-1")
    # not closed: another process reading now sees the complete note
    session = read_recording(path)
    assert session.notes == [{"kind": "calibration", "t_s": 0.0, "id": "cal-1"}]
    assert session.meta.device_id == "live"
    w.close()


def test_newer_format_version_and_foreign_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.rtrk"
    path.write_bytes(MAGIC + struct.pack("<HH", 9, 0))
    with pytest.raises(InputFileError, match="format version 9"):
        load_session(path)
    path.write_bytes(b"PK\x03\x04 zip file")
    with pytest.raises(InputFileError, match=str(path)):
        load_session(path, fmt="native")


@settings(max_examples=150, deadline=None)
@given(junk=st.binary(max_size=300), keep_magic=st.booleans())
def test_random_bytes_only_ever_raise_input_file_error(
    tmp_path_factory: pytest.TempPathFactory, junk: bytes, keep_magic: bool
) -> None:
    path = tmp_path_factory.mktemp("junk") / "x.rtrk"
    path.write_bytes((MAGIC + struct.pack("<HH", 1, 0) + junk) if keep_magic else junk)
    try:
        session = load_session(path)
    except InputFileError as exc:
        assert str(path) in str(exc)
    else:
        assert isinstance(session.samples, Samples)


def test_notes_between_sample_records_get_their_session_time(tmp_path: Path) -> None:
    t = np.arange(500) / 50.0
    samples = Samples.from_arrays(t, np.tile([0.0, 0.0, 1.0], (500, 1)))
    path = tmp_path / "s.rtrk"
    with RecordingWriter.create(path, RecordingMeta()) as w:
        w.write_samples(samples.slice(0, 200))
        w.write_note("calibration")
        w.write_samples(samples.slice(200, 500))
        w.write_note("end-of-set", t_s=1.5)
    session = load_session(path)
    assert session.notes == [{"kind": "calibration", "t_s": t[199]}, {"kind": "end-of-set", "t_s": 1.5}]
    assert session.samples.gyro_dps is None
    np.testing.assert_array_equal(session.samples.t_s, t)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_byte_is_reported_and_the_rest_still_reads(tmp_path: Path, data: st.DataObject) -> None:
    full_path = tmp_path / "full.rtrk"
    if not full_path.exists():
        _small_recording(full_path)
    full = load_session(full_path).samples
    raw = bytearray(full_path.read_bytes())
    at = data.draw(st.integers(min_value=FILE_HEADER_SIZE, max_value=len(raw) - 1), label="at")
    raw[at] ^= data.draw(st.integers(min_value=1, max_value=255), label="xor")
    path = tmp_path / "bad.rtrk"
    path.write_bytes(bytes(raw))
    session = load_session(path)
    intact = RecordingReader.open(full_path)
    starts = [FILE_HEADER_SIZE, *(r.offset for r in intact.records), intact.end_offset - 12]  # header .. end
    damaged = max(o for o in starts if o <= at)
    assert session.warnings, "damage must never go unnoticed"
    assert f"byte {damaged}" in " | ".join(session.warnings), (at, damaged, session.warnings)
    # whatever survived is the original data: each sample read is one of the recording's samples
    assert np.isin(session.samples.t_s, full.t_s).all()
    assert len(session.samples) >= len(full) - 2 * 8  # at most one 2-packet record (or a header) lost
