"""The wire protocol: docs/protocol.md's vectors, round-trips, fuzzing and stream bookkeeping."""

from __future__ import annotations

import contextlib
import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tracker import protocol as p
from tracker.samples import Samples

from .conftest import REPO_ROOT

VECTORS = json.loads((REPO_ROOT / "docs" / "protocol-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["packets"], ids=lambda v: v["name"])
def test_documented_packet_vectors_decode_to_their_values(vector: dict) -> None:
    packet = p.decode_packet(bytes.fromhex(vector["hex"]))
    assert packet.seq == vector["seq"]
    assert packet.t0_us == vector["t0_us"]
    assert packet.period_us == vector["period_us"]
    assert int(packet.flags) == vector["flags"]
    np.testing.assert_allclose(packet.accel_g(), vector["accel_g"], atol=1e-9)
    if vector["gyro_dps"] is None:
        assert packet.gyro_dps() is None
    else:
        np.testing.assert_allclose(packet.gyro_dps(), vector["gyro_dps"], atol=1e-9)


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_documented_invalid_vectors_name_the_byte(vector: dict) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_packet(bytes.fromhex(vector["hex"]))
    assert info.value.offset == vector["offset"]
    assert vector["message_contains"] in str(info.value)


def test_documented_vectors_are_what_the_encoder_produces() -> None:
    for vector in VECTORS["packets"]:
        packet = p.decode_packet(bytes.fromhex(vector["hex"]))
        again = p.encode_packet(
            packet.seq,
            packet.t0_us,
            packet.period_us,
            packet.accel_counts,
            packet.gyro_counts,
            packet.accel_range_g,
            packet.gyro_range_dps,
            packet.flags,
        )
        assert again.hex() == vector["hex"]


counts = hnp.arrays(np.int16, st.tuples(st.integers(1, p.MAX_SAMPLES_PER_PACKET), st.just(3)))


@st.composite
def packets(draw: st.DrawFn) -> dict:
    acc = draw(counts)
    with_gyro = draw(st.booleans())
    gyr = draw(hnp.arrays(np.int16, acc.shape)) if with_gyro else None
    return {
        "seq": draw(st.integers(0, 0xFFFF)),
        "t0_us": draw(st.integers(0, 0xFFFFFFFF)),
        "period_us": draw(st.integers(1, 0xFFFF)),
        "accel_counts": acc,
        "gyro_counts": gyr,
        "accel_range_g": draw(st.sampled_from(p.ACCEL_RANGES_G)),
        "gyro_range_dps": draw(st.sampled_from(p.GYRO_RANGES_DPS)),
        "flags": draw(st.sampled_from([p.Flags(0), p.Flags.CLIPPED, p.Flags.RESTART])),
    }


@settings(max_examples=200, deadline=None)
@given(packets())
def test_encode_decode_round_trip(fields: dict) -> None:
    data = p.encode_packet(**fields)
    packet = p.decode_packet(data)
    assert packet.seq == fields["seq"] and packet.t0_us == fields["t0_us"]
    assert packet.period_us == fields["period_us"]
    np.testing.assert_array_equal(packet.accel_counts, fields["accel_counts"])
    if fields["gyro_counts"] is None:
        assert packet.gyro_counts is None
    else:
        np.testing.assert_array_equal(packet.gyro_counts, fields["gyro_counts"])
    # The batch decoder agrees with the single-packet decoder.
    batch = p.decode_batch([data])
    np.testing.assert_array_equal(batch.accel_g, packet.accel_g())


@settings(max_examples=50, deadline=None)
@given(st.lists(packets(), min_size=1, max_size=12))
def test_batch_of_mixed_layouts_matches_one_by_one(many: list[dict]) -> None:
    datas = [p.encode_packet(**f) for f in many]
    batch = p.decode_batch(datas)
    expect_acc = np.concatenate([p.decode_packet(d).accel_g() for d in datas])
    np.testing.assert_array_equal(batch.accel_g, expect_acc)
    if any(f["gyro_counts"] is not None for f in many):
        assert batch.gyro_dps is not None
        for d, start, n in zip(datas, batch.first_sample, batch.n, strict=True):
            g = p.decode_packet(d).gyro_dps()
            rows = batch.gyro_dps[start : start + n]
            if g is None:
                assert np.isnan(rows).all()
            else:
                np.testing.assert_array_equal(rows, g)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_protocol_error(data: bytes) -> None:
    try:
        p.decode_packet(data)
    except p.ProtocolError as exc:
        assert 0 <= exc.offset <= len(data)
    batch = p.decode_batch([data], strict=False)
    assert len(batch) + len(batch.errors) == 1


@settings(max_examples=300, deadline=None)
@given(packets(), st.data())
def test_flipped_byte_is_caught(fields: dict, data: st.DataObject) -> None:
    packet = bytearray(p.encode_packet(**fields))
    i = data.draw(st.integers(0, len(packet) - 1))
    packet[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(p.ProtocolError):
        p.decode_packet(bytes(packet))


def _session(
    n: int, rate_hz: float = 100.0, start_us: int = 0, spp: int = 10
) -> tuple[list[bytes], np.ndarray]:
    rng = np.random.default_rng(1)
    acc = rng.normal(0, 0.5, (n, 3))
    gyr = rng.normal(0, 50, (n, 3))
    clock = start_us + np.arange(n, dtype=np.int64) * round(1e6 / rate_hz)
    packer = p.Packetizer(rate_hz=rate_hz, samples_per_packet=spp)
    return packer.encode(clock, acc, gyr), acc


def test_stream_decoder_reconstructs_time_across_clock_wrap() -> None:
    start = p.CLOCK_MODULO_US - 2_000_000  # the sensor clock wraps 2 s into the session
    pkts, acc = _session(1000, start_us=start)
    samples, notices = p.StreamDecoder().feed(pkts)
    assert notices == []
    np.testing.assert_allclose(samples.t_s, np.arange(1000) * 0.01, atol=1e-9)
    np.testing.assert_allclose(samples.accel_g, acc, atol=8 / 32768)


def test_stream_decoder_reports_gaps_duplicates_and_sequence_wrap() -> None:
    pkts, _ = _session(70_000 * 2, spp=2)  # 70k packets: the 16-bit sequence wraps
    kept = pkts[:65_530] + pkts[65_535:65_540] + [pkts[65_536]] + pkts[65_540:]
    decoder = p.StreamDecoder()
    samples, notices = decoder.feed(kept)
    kinds = [n.kind for n in notices]
    assert kinds == ["gap", "duplicate"]
    gap = notices[0]
    assert gap.packets == 5 and gap.samples == 10
    assert gap.t_s == pytest.approx(65_530 * 2 * 0.01)
    assert decoder.stats.lost_packets == 5 and decoder.stats.duplicates == 1
    assert len(samples) == (len(pkts) - 5) * 2
    # Time stays on the sensor's clock across the gap: no sample is shifted to close it.
    assert samples.t_s[-1] == pytest.approx((len(pkts) * 2 - 1) * 0.01)


def test_stream_decoder_same_result_for_any_chunking() -> None:
    pkts, _ = _session(3000)
    pkts = pkts[:50] + pkts[53:]  # with a gap
    whole, notices_whole = p.StreamDecoder().feed(pkts)
    decoder = p.StreamDecoder()
    parts = []
    notices = []
    for i in range(0, len(pkts), 7):
        s, n = decoder.feed(pkts[i : i + 7])
        parts.append(s)
        notices += n
    joined = Samples.concat(parts)
    np.testing.assert_array_equal(joined.t_s, whole.t_s)
    np.testing.assert_array_equal(joined.accel_g, whole.accel_g)
    assert [n.kind for n in notices] == [n.kind for n in notices_whole] == ["gap"]


def test_stream_decoder_keeps_time_running_across_a_sensor_restart() -> None:
    first, _ = _session(500, start_us=123_456_789)
    packer = p.Packetizer()
    packer.restart()
    rng = np.random.default_rng(2)
    second = packer.encode(
        np.arange(300) * 10_000 + 5_000, rng.normal(0, 1, (300, 3)), rng.normal(0, 1, (300, 3))
    )
    host = [i * 0.1 for i in range(len(first))] + [
        len(first) * 0.1 + 2.0 + i * 0.1 for i in range(len(second))
    ]
    decoder = p.StreamDecoder()
    samples, notices = decoder.feed(first + second, host)
    assert [n.kind for n in notices] == ["restart"]
    assert decoder.stats.restarts == 1
    assert np.all(np.diff(samples.t_s) > 0), "session time must keep increasing"
    # The host saw ~2 s more between the two packets than the usual 0.1 s: the new clock lands after.
    assert samples.t_s[500] == pytest.approx(5.0 + 2.0, abs=0.05)


def test_corrupt_packets_are_dropped_and_reported_not_raised() -> None:
    pkts, _ = _session(200)
    bad = bytearray(pkts[5])
    bad[20] ^= 0xFF
    stream = [*pkts[:5], bytes(bad), *pkts[6:]]
    decoder = p.StreamDecoder()
    samples, notices = decoder.feed(stream)
    assert [n.kind for n in notices] == ["corrupt", "gap"]
    assert "CRC" in notices[0].detail
    assert len(samples) == 190


def test_mtu_decides_samples_per_packet() -> None:
    assert p.samples_per_packet_for_mtu(23) == 0
    assert p.samples_per_packet_for_mtu(137) == 10
    assert p.samples_per_packet_for_mtu(136) == 9
    assert p.samples_per_packet_for_mtu(247) == 19
    assert p.samples_per_packet_for_mtu(247, with_gyro=False) == 38


def test_quantize_clips_at_full_scale_and_flags_it() -> None:
    packer = p.Packetizer(accel_range_g=2.0)
    (pkt,) = packer.encode([0, 10_000], [[0, 0, 1], [0, 0, 3.5]], [[0, 0, 0], [0, 0, 0]])
    decoded = p.decode_packet(pkt)
    assert decoded.flags & p.Flags.CLIPPED
    assert decoded.accel_g()[1, 2] == pytest.approx(2.0 * 32767 / 32768)


def test_control_point_and_configuration_codecs() -> None:
    assert p.encode_command(p.Opcode.SET_RATE, 100) == bytes([0x03, 100, 0])
    assert p.encode_command(p.Opcode.START) == b"\x01"
    assert p.decode_response(p.encode_response(0x03, p.Result.INVALID_PARAMETER)) == (
        3,
        p.Result.INVALID_PARAMETER,
    )
    with pytest.raises(p.ProtocolError, match="byte 2"):
        p.decode_response(bytes([0x80, 1, 9]))
    cfg = p.SensorConfig(rate_hz=200, accel_range_g=16.0, gyro_range_dps=2000.0, samples_per_packet=19)
    assert p.SensorConfig.decode(cfg.encode()) == cfg
    with pytest.raises(p.ProtocolError, match="byte 3"):
        p.SensorConfig.decode(struct.pack("<BHBBBBB", 1, 100, 7, 0, 10, 0, 1))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=12))
def test_control_and_config_fuzz_raise_only_protocol_error(data: bytes) -> None:
    for decode in (p.decode_response, p.SensorConfig.decode):
        with contextlib.suppress(p.ProtocolError):
            decode(data)
