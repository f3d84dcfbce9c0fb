"""Sensors people can buy: Polar PMD and MetaWear profiles, next to RepTrack's own (docs/sensors.md).

Protocol vectors are the public SDKs' own test bytes (polarofficial/polar-ble-sdk:
.../pmd/model/GyrDataTest.kt, AccDataTest.kt; mbientlab/MetaWear-SDK-Cpp: test/
test_accelerometer_bmi160.py, test_gyro_bmi160.py, test_settings.py). Sessions run over Bumble's
virtual radio against the simulated sensors and are compared with the simulator's own samples.
"""

from __future__ import annotations

import ast
import asyncio
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim.peripheral import Faults, SensorData
from firmware_sim.radio import VirtualRadio
from firmware_sim.sensors import simulated_sensor
from firmware_sim.workout import Workout
from tests import workouts
from tests.processes import CTRL_C_EXIT, record_until, reptrack, samples_in
from tracker.ble import LinkConfig, SensorLink, scan
from tracker.codecs import decoder_for_codec
from tracker.codecs import metawear as mw
from tracker.codecs import polar_pmd as pmd
from tracker.codecs.metawear import MetaWearDecoder
from tracker.codecs.polar_pmd import PmdDecoder
from tracker.protocol import ProtocolError
from tracker.samples import Samples

REPO = Path(__file__).resolve().parent.parent
PROFILES = ("reptrack", "polar", "metawear")
RATE = {"reptrack": 100.0, "polar": 104.0, "metawear": 100.0}
# Quantisation of each simulated sensor at the ranges the client asks for (8 g; gyro 1000 or 2000 deg/s)
ACC_STEP_G = {"reptrack": 8 / 32768, "polar": 8 / 32768, "metawear": 1 / 4096}
GYRO_STEP_DPS = {"reptrack": 1000 / 32768, "polar": 2000 / 32768, "metawear": 1 / 32.8}


# -- protocol vectors: MetaWear ------------------------------------------------------------------------


def test_metawear_commands_match_the_sdk_bytes() -> None:
    assert mw.acc_config_command(100, 16.0) == bytes.fromhex("0303280c")  # test_set_range
    assert mw.acc_config_command(200, 8.0) == bytes.fromhex("03032908")  # test_set_odr_and_range
    assert mw.acc_config_command(25, 2.0) == bytes.fromhex("03032603")
    assert mw.gyro_config_command(200, 2000.0) == bytes.fromhex("13032900")  # test_mbl_mw_gyro_bmi160_set_odr
    assert mw.gyro_config_command(100, 250.0) == bytes.fromhex("13032803")  # ..._set_fsr
    assert mw.gyro_config_command(50, 125.0) == bytes.fromhex("13032704")  # ..._set_all_config
    start = mw.start_commands()
    for expected in ("03020100", "13020100", "130101", "030101", "031c01", "130701"):
        assert bytes.fromhex(expected) in start
    stop = mw.stop_commands()
    for expected in ("03020001", "13020001", "130100", "030100", "031c00", "130700"):
        assert bytes.fromhex(expected) in stop
    assert mw.battery_read() == bytes.fromhex("118c")


def test_metawear_data_decode_to_the_sdk_values() -> None:
    acc4 = MetaWearDecoder(100.0, accel_range_g=4.0).parse(bytes.fromhex("030416c494a22ad0"))
    np.testing.assert_allclose(acc4[0].values[0], [-1.872, -2.919, -1.495], atol=1e-3)
    packed = bytes.fromhex("031c62b7530de9fd16d04d0e57028affa1050a01")
    acc8 = MetaWearDecoder(100.0, accel_range_g=8.0).parse(packed)[0].values
    np.testing.assert_allclose(
        acc8, [[-4.539, 0.833, -0.131], [-2.995, 0.894, 0.146], [-0.029, 0.352, 0.065]], atol=1e-3
    )
    gyro500 = MetaWearDecoder(100.0, gyro_range_dps=500.0).parse(bytes.fromhex("13053e43ff7f0080"))
    np.testing.assert_allclose(gyro500[0].values[0], [262.409, 499.497, -499.512], atol=1e-3)
    packed_gyro = bytes.fromhex("13070915ad2608de8a1a0d2665e48d20ac2773ec")
    gyro1000 = MetaWearDecoder(100.0, gyro_range_dps=1000.0).parse(packed_gyro)[0].values
    np.testing.assert_allclose(
        gyro1000,
        [[164.177, 301.860, -265.122], [207.134, 296.982, -215.457], [254.055, 309.634, -152.591]],
        atol=1e-3,
    )
    assert mw.decode_battery(bytes.fromhex("118c633410")) == mw.BatteryState(99, 4148)
    assert MetaWearDecoder(100.0).parse(bytes.fromhex("03800101")) == []  # an answer, not data


# -- protocol vectors: Polar PMD -------------------------------------------------------------------------

GYRO_TYPE0 = bytes.fromhex("05ffffffffffffff7f80") + bytes.fromhex("eaff08000d000301df00")
ACC_RAW1_HEAD = bytes.fromhex("020094357700000000" + "01")
ACC_RAW1 = ACC_RAW1_HEAD + bytes.fromhex("f7ffffffe703f8fffeffe503")
ACC_DELTA0 = bytes.fromhex("02009435770000000080") + bytes.fromhex(
    "7107f06a9e8d0a38be5cbeba2f96b3ee4be5adfb42b9ebbe4cfeba2f92bfee4be4b1fb12b9ecbd3c3ebb2f8fd3de4be3"
    "b5f7d2b8edbd307e7b2f8be3ce8be2baf7a2b8eebc20be7b2f88f3cecbe1bdef52f8efbc18fe3b2f8403bfcbe0c2ef32"
    "b8f0bb044ebc2e8113af0be0c6eff2f7f1b9fc7dbc2e7d279f4bdfcaebc2f7f2b8eccd7c2e7b378f4bdecee392f7f3b8"
    "e00dfd2d774b7fcbddd2df6237f5b7d44dbd2d745b6fcbdcd7d73237f6b5c88d7d2d716b4f4bdcdcd3f236f7b4bcddfd"
    "2c6f7b3f4bdbe0cfd236f8b2b02dbe2c6c8f1fcbdae3c7a276f9"
)


def test_pmd_gyro_delta_frame_decodes_to_the_sdk_samples() -> None:
    frame = pmd.decode_frame(GYRO_TYPE0)
    assert (frame.measurement, frame.frame_type, frame.compressed) == (pmd.PmdType.GYRO, 0, True)
    assert frame.timestamp_ns == 9223372036854775807
    np.testing.assert_array_equal(pmd.frame_values(frame, 1.0, 1.0), [[-22, 8, 13], [-23, 11, 16]])


def test_pmd_acc_frames_decode_to_the_sdk_samples() -> None:
    raw = pmd.decode_frame(ACC_RAW1)
    assert raw.timestamp_ns == 2_000_000_000
    np.testing.assert_allclose(
        pmd.frame_values(raw, 1.0, 1.0), [[-0.009, -0.001, 0.999], [-0.008, -0.002, 0.997]]
    )
    delta = pmd.decode_frame(ACC_DELTA0)
    values = pmd.frame_values(delta, 2.44e-4, 1.0)
    assert values.shape == (57, 3)  # the reference sample and 56 deltas of 10 bits
    np.testing.assert_allclose(values[0], np.array([1905, 27376, -29282]) * 2.44e-4)
    np.testing.assert_allclose(values[1], np.array([1905 + 190, 27376 - 105, -29282 - 85]) * 2.44e-4)
    assert np.abs(values).max() <= 8.0  # the test's range check


def test_pmd_settings_answers_and_features_round_trip() -> None:
    offered = {pmd.PmdSetting.SAMPLE_RATE: [52.0, 104.0], pmd.PmdSetting.RESOLUTION: [16.0]}
    raw = pmd.encode_settings(offered)
    assert raw == bytes.fromhex("0002340068000101" + "1000")
    assert pmd.decode_settings(raw) == offered
    factor = pmd.encode_settings({pmd.PmdSetting.FACTOR: [0.244140625]})
    assert pmd.decode_settings(factor) == {pmd.PmdSetting.FACTOR: [0.244140625]}
    answer = pmd.decode_response(pmd.encode_response(pmd.PmdOp.REQUEST_MEASUREMENT_START, 2, 0, factor))
    assert (answer.op, answer.measurement, answer.status, answer.parameters) == (2, 2, 0, factor)
    assert pmd.encode_command(pmd.PmdOp.GET_MEASUREMENT_SETTINGS, pmd.PmdType.ACC) == bytes([0x01, 0x02])
    assert pmd.decode_features(pmd.encode_features({pmd.PmdType.ACC, pmd.PmdType.GYRO})) == {
        pmd.PmdType.ACC,
        pmd.PmdType.GYRO,
    }
    assert pmd.encode_features({pmd.PmdType.ACC}) == bytes([0x0F, 0x04, 0x00])  # PmdFeature.kt: ACC is 0x04
    with pytest.raises(ProtocolError, match="unknown setting type 0x09 at byte 0"):
        pmd.decode_settings(bytes([9, 1, 0]))


# -- properties of the codecs ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), min_size=1, max_size=40))
def test_pmd_delta_frames_round_trip_any_int16_samples(rows: list[tuple[int, int, int]]) -> None:
    samples = np.asarray(rows, dtype=np.int64)
    np.testing.assert_array_equal(pmd.delta_decode(pmd.delta_encode(samples, 16), 3, 16), samples)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=8), st.sampled_from(("polar", "metawear")))
def test_any_bytes_are_samples_or_a_corrupt_notice_never_a_crash(notes: list[bytes], kind: str) -> None:
    decoder = PmdDecoder(104.0, 0.244, 0.061) if kind == "polar" else MetaWearDecoder(100.0)
    samples, notices = decoder.feed(notes, [float(i) for i in range(len(notes))])
    assert isinstance(samples, Samples)
    assert all(n.kind in ("corrupt", "gap", "duplicate", "restart") for n in notices)
    assert np.all(np.diff(samples.t_s) > 0)


def test_a_lost_pmd_gyro_frame_costs_its_samples_with_a_notice_and_nothing_else() -> None:
    rate, n = 104.0, 10
    period_ns = round(1e9 / rate)
    frames = []
    for k in range(4):
        stamp = 5_000_000_000 + (k * n + n - 1) * period_ns
        counts = np.full((n, 3), k, dtype=np.int64) + np.arange(n)[:, None]
        frames.append(pmd.encode_frame(pmd.PmdType.ACC, stamp, 0x81, pmd.delta_encode(counts)))
        if k != 2:  # the third GYRO frame is lost
            frames.append(pmd.encode_frame(pmd.PmdType.GYRO, stamp, 0x80, pmd.delta_encode(counts)))
    samples, notices = PmdDecoder(rate, 1000.0, 1.0).feed(frames)
    assert len(samples) == 3 * n
    assert [(x.kind, x.samples) for x in notices] == [("gap", n)]
    np.testing.assert_allclose(samples.accel_g, samples.gyro_dps)  # each sample with its own partner


def _vendor_stream(kind: str, frames: int) -> list[bytes]:
    """A sensor's notifications as its simulator encodes them: ACC and GYRO, then an answer."""
    rng = np.random.default_rng(frames)
    out: list[bytes] = [bytes.fromhex("03800101")] if kind == "metawear" else []
    for k in range(frames):
        counts = rng.integers(-3000, 3000, size=(3 if kind == "metawear" else 10, 3))
        if kind == "metawear":
            out += [mw.encode_samples(0x03, 0x1C, counts), mw.encode_samples(0x13, 0x07, counts)]
        else:
            stamp = 5_000_000_000 + (k * 10 + 9) * round(1e9 / 104)
            out += [
                pmd.encode_frame(pmd.PmdType.ACC, stamp, 0x81, pmd.delta_encode(counts)),
                pmd.encode_frame(pmd.PmdType.GYRO, stamp, 0x80, pmd.delta_encode(counts)),
            ]
    return out


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(("polar", "metawear")), st.lists(st.integers(0, 40), max_size=6))
def test_feeding_in_any_pieces_gives_what_feeding_at_once_gives(kind: str, cuts: list[int]) -> None:
    stream = _vendor_stream(kind, 20)

    def decoder() -> PmdDecoder | MetaWearDecoder:
        return PmdDecoder(104.0, 0.244, 0.061) if kind == "polar" else MetaWearDecoder(100.0)

    whole, _ = decoder().feed(stream)
    d = decoder()
    bounds = [0, *sorted(cuts), len(stream)]
    parts = [d.feed(stream[a:b])[0] for a, b in itertools.pairwise(bounds) if b > a]
    pieces = Samples.concat([p for p in parts if len(p)])
    np.testing.assert_array_equal(pieces.t_s, whole.t_s)
    np.testing.assert_array_equal(pieces.accel_g, whole.accel_g)
    np.testing.assert_array_equal(pieces.gyro_dps, whole.gyro_dps)


def test_codec_specs_name_their_decoder_and_bad_ones_say_why() -> None:
    d = decoder_for_codec("polar-pmd rate_hz=104.0 acc_factor=0.244140625 gyro_factor=0.06103515625 gyro=1.0")
    assert isinstance(d, PmdDecoder) and d.acc_factor == 0.244140625
    assert isinstance(decoder_for_codec("metawear rate_hz=100.0 accel_range_g=8.0"), MetaWearDecoder)
    with pytest.raises(Exception, match="unknown codec 'fitbit'"):
        decoder_for_codec("fitbit rate_hz=1")
    with pytest.raises(Exception, match="not key=number"):
        decoder_for_codec("polar-pmd rate_hz")


# -- live sessions over the virtual radio --------------------------------------------------------------


async def _stream(
    profile: str,
    data: SensorData,
    *,
    faults: Faults | None = None,
    speed: float = 8.0,
    after_reconnect: int | None = None,
) -> tuple[Samples, list, SensorLink, object]:
    """Stream ``data`` from a simulated sensor over the virtual radio until the sensor has sent it
    all, or (``after_reconnect``) until the link has delivered that many samples after its first
    reconnect: an end set by what arrived, not by how long the reconnect took."""
    parts, notices = [], []
    async with simulated_sensor(data, speed=speed, profile=profile, faults=faults) as sim:
        async with SensorLink(sim.link_config(backoff_first_s=0.05)) as link:

            async def end() -> None:
                await sim.sensor.finished.wait()
                await sim.sensor.all_sent()  # every notification has left the radio, however slow
                await asyncio.sleep(0.4)  # the host's turn to hand the last ones to the link
                await link.close()

            ender = asyncio.create_task(end())
            since_reconnect = 0
            async for chunk in link.stream():
                parts.append(chunk.samples)
                notices += chunk.notices
                if after_reconnect is not None and link.reconnects:
                    since_reconnect += len(chunk.samples)
                    if since_reconnect >= after_reconnect:
                        break
            if ender.done() or after_reconnect is None:
                await ender
            else:
                ender.cancel()
                await link.close()
        log = sim.sensor.log
    return Samples.concat([p for p in parts if len(p)]), notices, link, log


def _part(s: Samples, a: int, b: int) -> Samples:
    return Samples(s.t_s[a:b], s.accel_g[a:b], None if s.gyro_dps is None else s.gyro_dps[a:b])


def _assert_truth(profile: str, got: Samples, data: SensorData, index: np.ndarray) -> None:
    """Decoded samples are the simulator's samples ``index``, to the sensor's quantisation."""
    np.testing.assert_allclose(got.accel_g, data.accel_g[index], atol=ACC_STEP_G[profile] * 0.51)
    assert got.gyro_dps is not None and data.gyro_dps is not None
    np.testing.assert_allclose(got.gyro_dps, data.gyro_dps[index], atol=GYRO_STEP_DPS[profile] * 0.51)


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_session_over_the_radio_equals_the_simulators_samples(profile: str) -> None:
    data = SensorData.synthetic(6.0, rate_hz=RATE[profile], seed=4)
    got, notices, link, _log = await _stream(profile, data)
    assert link.device_info is not None and link.device_info.profile == profile
    assert not [n for n in notices if n.kind != "codec"]
    # Polar starts ACC, then GYRO one round trip later: the first ACC frames have no gyroscope
    # partner and are not paired. Everything from the first paired sample on is there.
    skipped = len(data) - len(got)
    assert skipped == 0 if profile != "polar" else 0 <= skipped <= 3 * 20
    np.testing.assert_allclose(got.t_s - got.t_s[0], data.t_s[skipped:] - data.t_s[skipped], atol=1e-6)
    _assert_truth(profile, got, data, np.arange(skipped, len(data)))


@pytest.mark.parametrize("profile", ("polar", "metawear"))
async def test_reconnect_mid_set_loses_only_the_hole_and_repeats_nothing(profile: str) -> None:
    # The session runs on long after the disconnect and the stream ends once 2 s of samples have
    # arrived after the reconnect: however slow the reconnect (a busy machine), there is a hole
    # with samples after it. (An 8-s session once ended before a slow reconnect: no hole to see.)
    data = SensorData.synthetic(40.0, rate_hz=RATE[profile], seed=5)
    got, notices, link, log = await _stream(
        profile,
        data,
        faults=Faults(disconnect_at_s=(3.0,)),
        speed=4.0,
        after_reconnect=2 * int(RATE[profile]),
    )
    assert link.reconnects == 1 and [e for _, e in log.events if e == "fault: disconnect"]
    assert np.all(np.diff(got.t_s) > 0)  # no sample twice, time runs on
    assert [n.kind for n in notices if n.kind in ("gap", "restart")]  # the hole is reported
    # Each decoded sample is one the sensor took: match each unbroken run of samples by value to the
    # truth, in order and without overlap. How many samples the hole swallows depends on how long
    # the reconnect took (longer on a busy machine); the runs on either side must be whole.
    holes = np.flatnonzero(np.diff(got.t_s) > 1.5 / RATE[profile]) + 1
    bounds = [0, *holes.tolist(), len(got)]
    next_unseen = 0
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        run = _part(got, a, b)
        start = int(np.argmin(np.abs(data.accel_g - run.accel_g[0]).sum(axis=1)))
        if k == 0:  # Polar's first ACC frames may have no GYRO partner yet (one round trip)
            assert start == 0 if profile != "polar" else 0 <= start <= 3 * 20
        assert start >= next_unseen  # no sample twice
        taken = np.arange(start, start + len(run))
        assert taken[-1] < len(data)
        _assert_truth(profile, run, data, taken)
        if profile == "polar" and k > 0:  # the sensor's timestamps place the hole exactly
            np.testing.assert_allclose(run.t_s, data.t_s[taken], atol=1e-6)
        next_unseen = int(taken[-1]) + 1


@pytest.mark.parametrize("profile", ("polar", "metawear"))
async def test_malformed_notifications_are_reported_and_only_their_samples_lost(profile: str) -> None:
    data = SensorData.synthetic(6.0, rate_hz=RATE[profile], seed=6)
    got, notices, _link, log = await _stream(profile, data, faults=Faults(corrupt=0.08, seed=2))
    bad = [p for p in log.packets if p.fate == "corrupt"]
    corrupt = [n for n in notices if n.kind == "corrupt"]
    assert bad and len(corrupt) == len(bad)
    assert all(profile in n.detail or "notification" in n.detail for n in corrupt)
    lost = {p.first_sample + k for p in bad for k in range(p.n)}
    head = round(got.t_s[0] * RATE[profile])  # Polar: ACC frames before GYRO started are unpaired
    assert head <= (3 * 20 if profile == "polar" else 0)
    kept = np.asarray([i for i in range(head, len(data)) if i not in lost])
    assert len(got) == len(kept)
    np.testing.assert_allclose(got.t_s, data.t_s[kept], atol=1e-6)
    _assert_truth(profile, got, data, kept)


async def test_scan_lists_each_kind_of_sensor() -> None:
    radio = VirtualRadio(timed=False)
    data = SensorData.synthetic(2.0, seed=1)
    try:
        async with (
            simulated_sensor(data, radio=radio, serial="SIM00011", profile="reptrack"),
            simulated_sensor(data, radio=radio, serial="SIM00012", profile="metawear"),
            simulated_sensor(
                SensorData.synthetic(2.0, rate_hz=104.0), radio=radio, serial="SIM00013", profile="polar"
            ) as polar,
        ):
            found = await scan(
                LinkConfig(device="", backend="bumble", transport=polar.transport), timeout_s=1.5
            )
    finally:
        radio.close()
    kinds = {d.name: d.kind for d in found}
    assert kinds["RepTrack-0011"] == "reptrack" and kinds["MetaWear-0012"] == "metawear"
    assert [k for n, k in kinds.items() if n and n.startswith("Polar Sense")] == ["polar"]


# -- the simulator is a client of the product ---------------------------------------------------------------


def test_nothing_in_the_product_imports_the_simulator() -> None:
    offenders = []
    for folder in ("tracker", "calibration"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                offenders += [
                    f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] == "firmware_sim"
                ]
    assert offenders == []


def test_the_simulator_registers_its_sources() -> None:
    from tracker.plugins import CALIBRATION_SOURCES_GROUP, SOURCES_GROUP, load_plugin

    assert load_plugin(SOURCES_GROUP, "sim").__module__ == "firmware_sim.source"
    assert load_plugin(CALIBRATION_SOURCES_GROUP, "sim").__module__ == "firmware_sim.calibration_source"
    with pytest.raises(Exception, match="no 'nope' source is installed"):
        load_plugin(SOURCES_GROUP, "nope")


# -- recordings keep their codec ----------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ("polar", "metawear"))
async def test_a_recording_names_its_codec_and_replays_to_the_live_samples(
    profile: str, tmp_path: Path
) -> None:
    from tracker.io.load import load_session
    from tracker.io.native import RecordingWriter
    from tracker.io.session import RecordingMeta

    data = SensorData.synthetic(4.0, rate_hz=RATE[profile], seed=7)
    live, packets, host = [], [], []
    async with (
        simulated_sensor(data, speed=8.0, profile=profile) as sim,
        SensorLink(sim.link_config()) as link,
    ):
        codec = link.device_info.codec if link.device_info else ""

        async def end() -> None:
            await sim.sensor.finished.wait()
            await sim.sensor.all_sent()
            await link.close()

        ender = asyncio.create_task(end())
        async for chunk in link.stream():
            live.append(chunk.samples)
            packets += chunk.packets
            host += chunk.host_times_s
        await ender
    assert codec.startswith("polar-pmd " if profile == "polar" else "metawear ")
    header = tmp_path / "header.rtrk"  # reptrack record: the codec in the header
    with RecordingWriter.create(header, RecordingMeta(device_id="x", codec=codec)) as w:
        w.write_packets(packets, host)
    noted = tmp_path / "noted.rtrk"  # reptrack run --record: the codec in a note after the header
    with RecordingWriter.create(noted, RecordingMeta(device_id="x")) as w:
        w.write_packets(packets[:5], host[:5])
        w.write_note("codec", 0.0, detail=codec)
        w.write_packets(packets[5:], host[5:])
    expected = Samples.concat([p for p in live if len(p)])
    for path in (header, noted):
        session = load_session(path)
        np.testing.assert_array_equal(session.samples.t_s, expected.t_s)
        np.testing.assert_array_equal(session.samples.accel_g, expected.accel_g)
        np.testing.assert_array_equal(session.samples.gyro_dps, expected.gyro_dps)


# -- calibration on the vendor sensors ----------------------------------------------------------------------


@pytest.mark.parametrize("profile", ("polar", "metawear"))
async def test_gyro_calibration_runs_on_a_polar_and_a_metawear(
    profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from calibration import calibration_for_device
    from calibration.synthetic import apply_errors, still_session
    from tracker.cli import build_parser, calibrate

    monkeypatch.setenv("REPTRACK_CONFIG_DIR", str(tmp_path / "config"))
    bias = np.array([2.0, -3.5, 4.5])
    still = apply_errors(
        still_session(30.0, np.array([0.2, 0.1, 1.0]), rate_hz=RATE[profile]),
        np.eye(3),
        np.zeros(3),
        bias,
        np.random.default_rng(4),
    )
    data = SensorData(
        np.round(still.t_s * 1e6).astype(np.int64), still.accel_g, still.gyro_dps, RATE[profile]
    )
    parser = build_parser("reptrack", "tracker.cli", ("calibrate",), "test")
    async with simulated_sensor(data, speed=10.0, profile=profile) as sim:
        args = parser.parse_args(
            ["calibrate", "gyro", "--device", sim.name, "--transport", sim.transport, "--seconds", "6"]
        )
        assert await calibrate._run_live(args, sys.stdout) == 0
        address = sim.address
    assert "Verdict: GOOD" in capsys.readouterr().out
    cal = calibration_for_device(address)
    assert cal is not None and cal.imu.gyro is not None
    assert np.max(np.abs(cal.imu.gyro.bias_dps - bias)) < 0.2


# -- the done criterion: a session gives the same sets through every profile ------------------------------
#
# The whole seed session (builtin:runner-strength, 642 s) streams over the radio as a RepTrack sensor;
# the vendor sensors stream a shorter workout with the same exercises and both legs. A MetaWear sends
# 3 samples a notification, and the virtual radio carries at most 6 notifications per 7.5 ms
# connection event, so the seed session alone holds it for about 54 s of wall time: the full
# comparison over every profile is a bench (bench/profiles.py, docs/sensors.md).

#: Squats, then single-leg squats on the left leg and single-leg deadlifts on the right (110 s).
VENDOR_WORKOUT = workouts.SINGLE_LEG_BOTH_SIDES


def _sets_without_radio(workout: Workout, rate_hz: float = 100.0) -> list[tuple[str, str, list[float]]]:
    """(exercise, leg, rep depths) of each set from the simulator's own samples, with no radio,
    fed in 10 s chunks (any chunking gives the same events: tests/test_pipeline_chunking.py; the
    seed session costs 1.5 s of CPU in 10-sample packets, 0.1 s in 10 s chunks)."""
    from firmware_sim.session import simulate
    from tracker.events import SetEvent
    from tracker.pipeline import Pipeline

    session = simulate(workout, seed=1, rate_hz=rate_hz)
    pipeline = Pipeline(sensor_leg=session.leg)
    events = [e for chunk in session.samples().chunks(1000) for e in pipeline.feed(chunk)] + pipeline.finish()
    return [(e.exercise, e.leg, [r.depth_deg for r in e.reps]) for e in events if isinstance(e, SetEvent)]


async def _sets_over_the_radio(spec: str, profile: str) -> list[tuple[str, str, list[float]]]:
    """The same, from the simulated ``profile`` sensor running workout ``spec`` over the radio
    into the service, with nothing lost or corrupt on the way."""
    from firmware_sim.source import simulated_source
    from tracker.pipeline import Pipeline
    from tracker.service import run_sensor

    source = simulated_source(spec, seed=1, sensor_id="s", speed=0, profile=profile)
    result = await run_sensor(source, None, Pipeline(sensor_leg=source.sensor_leg))
    assert source.stats.corrupt == 0 and source.stats.lost_samples == 0
    return [(s.exercise, s.leg, [r.depth_deg for r in s.reps]) for s in result.sets]


def _counts(sets: list[tuple[str, str, list[float]]]) -> list[tuple[str, str, int]]:
    return [(exercise, leg, len(depths)) for exercise, leg, depths in sets]


def _assert_same_depths(
    got: list[tuple[str, str, list[float]]], want: list[tuple[str, str, list[float]]]
) -> None:
    """Rep by rep, the depth the service reported is the one the sensor's own samples give (to
    the sensor's quantisation: a few hundredths of a degree)."""
    assert _counts(got) == _counts(want)
    for (_, _, got_depths), (_, _, want_depths) in zip(got, want, strict=True):
        np.testing.assert_allclose(got_depths, want_depths, atol=0.3)


@pytest.mark.timeout(120)
async def test_the_seed_session_over_the_radio_gives_the_sets_and_depths_of_the_simulators_samples() -> None:
    """The simulated RepTrack sensor on the left thigh running the whole seed session
    (builtin:runner-strength): the same sets, exercises, legs, counts and rep depths as the
    simulator's own samples give without any radio."""
    from firmware_sim.workout import load_workout

    reference = _sets_without_radio(load_workout("builtin:runner-strength"))
    assert len(reference) >= 6
    _assert_same_depths(await _sets_over_the_radio("builtin:runner-strength", "reptrack"), reference)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("profile", ("polar", "metawear"))
async def test_a_vendor_sensor_gives_the_sets_a_reptrack_sensor_gives(profile: str, tmp_path: Path) -> None:
    """A Polar (104 Hz) or a MetaWear (3 samples a notification) running the same workout as a
    RepTrack sensor: the same sets, exercises, legs and counts as a RepTrack sensor gives (the
    seed session test above: the simulator's samples at 100 Hz), and each rep as deep as the
    sensor's own samples say."""
    spec = tmp_path / "workout.toml"
    spec.write_text(VENDOR_WORKOUT)
    reptrack_sets = _sets_without_radio(workouts.workout(VENDOR_WORKOUT))
    assert {(exercise, leg) for exercise, leg, _ in reptrack_sets} >= {
        ("squat", "both"),
        ("single_leg_squat", "left"),
        ("single_leg_deadlift", "right"),
    }
    got = await _sets_over_the_radio(str(spec), profile)
    assert _counts(got) == _counts(reptrack_sets)
    _assert_same_depths(got, _sets_without_radio(workouts.workout(VENDOR_WORKOUT), RATE[profile]))


# -- the commands, across processes --------------------------------------------------------------------------


@pytest.mark.process
@pytest.mark.timeout(90)
@pytest.mark.parametrize("profile", ("polar", "metawear"))
def test_serve_scan_record_and_replay_a_vendor_sensor(profile: str, tmp_path: Path) -> None:
    """`firmware-sim serve --profile` in one process; `reptrack scan` and `record` in others;
    `reptrack replay --json` reads the recording back."""
    import json
    import queue
    import subprocess
    import sys
    import threading
    import time

    serve = subprocess.Popen(
        [
            *(sys.executable, "-m", "firmware_sim.cli", "serve", "--profile", profile),
            *("--workout", "synthetic:6", "--speed", "3", "--serial", "XPROC0888"),
            *("--transport", "virtual:127.0.0.1:0"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in serve.stdout or []], daemon=True).start()

    try:
        transport, deadline = None, time.monotonic() + 30
        while transport is None and time.monotonic() < deadline:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line.startswith("transport: "):
                transport = line.split(maxsplit=1)[1].strip()
        assert transport is not None, "serve did not start"
        scan = reptrack("scan", "--transport", transport, "--timeout", "1", "--json")
        assert scan.returncode == 0, scan.stderr
        (found,) = [json.loads(x) for x in scan.stdout.splitlines()]
        assert found["kind"] == profile and found["reptrack"] is False
        # The workout is 6 s (2 s at x3); the recording stops as Ctrl-C stops it once it holds 3 s.
        rec, session = record_until(
            tmp_path / f"{profile}.rtrk",
            lambda path: samples_in(path) >= 300,
            *("--device", found["name"], "--transport", transport),
        )
        assert rec.returncode == CTRL_C_EXIT, rec.stderr
    finally:
        serve.terminate()
        serve.wait(10)
    assert session.meta.codec.startswith("polar-pmd" if profile == "polar" else "metawear")
    assert len(session.samples) >= 300 and session.samples.gyro_dps is not None
    assert session.warnings == []
    replay = reptrack("replay", str(tmp_path / f"{profile}.rtrk"), "--json")
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["duration_s"] > 2.5
