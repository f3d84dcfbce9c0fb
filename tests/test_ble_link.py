"""End to end over the virtual radio: simulated sensor -> Bumble -> bleak -> SensorLink -> recording.

The sensor streams faster than real time (``speed``) so each test stays within a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware_sim.peripheral import Faults, SensorData, SimulatedSensor
from firmware_sim.sensors import simulated_sensor
from tracker.ble import LinkConfig, LinkError, SensorLink
from tracker.cli import build_parser, record
from tracker.errors import InputFileError
from tracker.io.load import load_session
from tracker.io.native import PacketsRecord, RecordingReader
from tracker.protocol import Flags, decode_packet, quantize

pytestmark = pytest.mark.timeout(60)


@functools.cache
def _session(seed: int) -> Any:
    from firmware_sim.session import simulate
    from firmware_sim.workout import load_workout

    return simulate(load_workout("builtin:runner-strength"), seed=seed)


def _sim_data(duration_s: float, seed: int = 0) -> SensorData:
    """``duration_s`` of the simulated workout from 2 s into its first set (single-leg squats), so
    every fault lands mid-set."""
    session = _session(seed)
    first_set = session.truth.sets[0]
    assert first_set["end_s"] - first_set["start_s"] > duration_s + 2.0
    data = SensorData.from_session(session)
    a = int(np.searchsorted(session.t_true_s, first_set["start_s"] + 2.0))
    b = a + round(duration_s * data.rate_hz)
    gyro = None if data.gyro_dps is None else data.gyro_dps[a:b]
    return SensorData(data.clock_us[a:b], data.accel_g[a:b], gyro, data.rate_hz)


def _decoded_times(sensor: SimulatedSensor, packets: list[Any]) -> np.ndarray:
    """Session times a decoder gives these packets' samples: each packet's clock, then the nominal
    period (the sensor clock jitters; the packet carries only its first sample's time)."""
    clock = sensor.data.clock_us
    period_us = round(1e6 / sensor.rate_hz)
    origin = clock[packets[0].first_sample]
    return np.concatenate(
        [(clock[p.first_sample] - origin + np.arange(p.n) * period_us) / 1e6 for p in packets]
    )


def _record_args(sim_transport: str, device: str, out: Path, duration_s: float) -> argparse.Namespace:
    parser = build_parser("reptrack", "tracker.cli", ("record",), "test")
    args = parser.parse_args(
        [
            "record",
            "--device",
            device,
            "--out",
            str(out),
            "--duration",
            str(duration_s),
            "--transport",
            sim_transport,
            "--quiet",
        ]
    )
    return args


def _expected(sensor: SimulatedSensor, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the decoder must give back for these sample indices: the quantized values."""
    d = sensor.data
    acc, _ = quantize(d.accel_g[idx], sensor.accel_range_g)
    assert d.gyro_dps is not None
    gyr, _ = quantize(d.gyro_dps[idx], sensor.gyro_range_dps)
    return acc * (sensor.accel_range_g / 32768.0), gyr * (sensor.gyro_range_dps / 32768.0)


def _visible_losses(sensor: SimulatedSensor) -> dict[int, list[int]]:
    """Per START epoch, the lost or corrupt packets a receiver can notice: those before the epoch's last sent one."""
    out: dict[int, list[int]] = {}
    for epoch in {p.epoch for p in sensor.log.packets}:
        pk = [p for p in sensor.log.packets if p.epoch == epoch]
        last_sent = max((p.seq for p in pk if p.fate == "sent"), default=-1)
        out[epoch] = [p.seq for p in pk if p.fate in ("lost", "corrupt") and p.seq < last_sent]
    return out


async def _record_until(args: argparse.Namespace, done: Callable[[], bool]) -> None:
    """``reptrack record`` until ``done()`` (checked every 0.1 s), then stopped as Ctrl-C stops
    it; its ``--duration`` is only the bound of the wait, so a slow machine records everything."""
    task = asyncio.ensure_future(record.record_async(args))
    while not task.done() and not done():
        await asyncio.sleep(0.1)
    if task.done():
        task.result()
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _last_sample_s(path: Path) -> float:
    """Session time of the last sample in a recording being written (0 before it has one)."""
    try:
        t_s = load_session(path).samples.t_s
    except InputFileError:
        return 0.0
    return float(t_s[-1]) if len(t_s) else 0.0


def _samples_in(path: Path) -> int:
    """Samples in a recording being written (0 before it has its header)."""
    try:
        return len(load_session(path).samples)
    except InputFileError:
        return 0


async def test_record_without_loss_keeps_every_packet_and_replays_the_same_samples(tmp_path: Path) -> None:
    data = _sim_data(6.0)
    out = tmp_path / "session.rtrk"
    async with simulated_sensor(data, speed=10.0) as sim:
        args = _record_args(sim.transport, sim.name, out, 30.0)
        await _record_until(args, lambda: _samples_in(out) >= len(data))
        sensor = sim.sensor
    assert sensor.log.count("sent") == len(sensor.log.packets) > 0
    session = load_session(out)
    assert session.notices == []
    assert session.meta.device_name == sim.name
    assert session.meta.extra["serial"] == "SIM00001"
    assert len(session.samples) == len(data)  # every sample of the workout
    accel, gyro = _expected(sensor, np.arange(len(data)))
    np.testing.assert_array_equal(session.samples.accel_g, accel)
    np.testing.assert_array_equal(session.samples.gyro_dps, gyro)
    np.testing.assert_allclose(session.samples.t_s, _decoded_times(sensor, sensor.log.packets), atol=1e-6)


async def test_record_with_loss_reports_exactly_the_injected_gaps(tmp_path: Path) -> None:
    data = _sim_data(8.0, seed=1)
    out = tmp_path / "lossy.rtrk"
    faults = Faults(loss=0.1, corrupt=0.03, seed=5)
    async with simulated_sensor(data, speed=10.0, faults=faults) as sim:
        await record.record_async(_record_args(sim.transport, sim.address, out, data.duration_s / 10.0 + 2.5))
        sensor = sim.sensor
    expected = _visible_losses(sensor)[0]
    assert expected, "the seed should drop some packets"
    session = load_session(out)
    gaps = [n for n in session.notices if n.kind == "gap"]
    missing = sorted(seq for g in gaps for seq in _seqs_of(g.detail))
    assert missing == expected
    corrupt = [n for n in session.notices if n.kind == "corrupt"]
    assert len(corrupt) == sum(1 for p in sensor.log.packets if p.fate == "corrupt" and p.seq in expected)
    # what did arrive is exactly what the sensor sent
    kept = np.concatenate(
        [np.arange(p.first_sample, p.first_sample + p.n) for p in sensor.log.packets if p.fate == "sent"]
    )
    accel, _ = _expected(sensor, kept)
    np.testing.assert_array_equal(session.samples.accel_g, accel)
    sent = [p for p in sensor.log.packets if p.fate == "sent"]
    np.testing.assert_allclose(session.samples.t_s, _decoded_times(sensor, sent), atol=1e-6)


def _seqs_of(detail: str) -> list[int]:
    """'seq 6..8 lost' -> [6, 7, 8]."""
    span = detail.split()[1]
    a, b = (int(x) for x in span.split(".."))
    return list(range(a, b + 1))


async def test_a_drop_mid_set_reconnects_at_the_first_attempt_and_the_recording_goes_on(
    tmp_path: Path,
) -> None:
    data = _sim_data(16.0, seed=2)
    out = tmp_path / "drop.rtrk"
    speed = 5.0
    async with simulated_sensor(data, speed=speed, faults=Faults(disconnect_at_s=(4.0,))) as sim:
        # recorded until 2 s of the set after the drop are in (bounded), however long the reconnect took
        args = _record_args(sim.transport, sim.name, out, 30.0)
        await _record_until(args, lambda: _last_sample_s(out) > 4.0 + 2.0)
        sensor = sim.sensor
    session = load_session(out)
    kinds = [n["kind"] for n in session.notes]
    assert kinds == ["connected", "disconnected", "reconnected"]
    # back at the first attempt, after the first backoff (0.1 s) and one scan: no retry, no backoff
    assert session.notes[2]["detail"].endswith("attempt 1"), session.notes[2]
    assert [e for _, e in sensor.log.events if e.startswith(("connected", "start"))] == [
        "connected",
        "start epoch 0 spp 10",
        "connected",
        "start epoch 1 spp 10",
    ]
    restarts = [n for n in session.notices if n.kind == "restart"]
    assert len(restarts) == 1
    t = session.samples.t_s
    assert np.all(np.diff(t) > 0)  # one session clock, no overlap
    # samples on both sides of the drop, and those after it are the sensor's, in place in time
    after = [p for p in sensor.log.packets if p.epoch == 1 and p.fate == "sent"]
    assert after and t[-1] > 4.0 + 1.0
    first_after = after[0].first_sample
    i = int(np.searchsorted(t, restarts[0].t_s - 1e-6))
    accel, _ = _expected(sensor, np.arange(first_after, first_after + after[0].n))
    np.testing.assert_array_equal(session.samples.accel_g[i : i + after[0].n], accel)
    # The hole is placed from the arrival times the recording keeps: the first packet after the
    # restart arrived when its last sample was taken, so its first sample is its own span earlier.
    received = [r for r in RecordingReader.open(out).records if isinstance(r, PacketsRecord)]
    packets = [decode_packet(pk) for r in received for pk in r.packets]
    host = np.concatenate([np.asarray(r.host_times_s) for r in received])
    j = next(k for k, pk in enumerate(packets) if k > 0 and pk.flags & Flags.RESTART)
    period_s = packets[j].period_us / 1e6
    away_s = max(0.0, (host[j] - host[j - 1]) - packets[j].n * period_s)
    assert t[i] - t[i - 1] == pytest.approx(period_s + away_s, abs=1e-5)
    assert away_s > 0  # the tracker saw the sensor gone for a while, and left that hole


async def test_brownout_restarts_the_sensor_and_the_link_follows() -> None:
    data = _sim_data(20.0, seed=3)
    faults = Faults(brownout_at_s=(3.0,), brownout_off_s=1.0)
    events: list[str] = []
    notices: list[str] = []
    async with (
        simulated_sensor(data, speed=5.0, faults=faults) as sim,
        SensorLink(sim.link_config()) as link,
        asyncio.timeout(60),  # only a bound on a hang: the test ends on what arrives
    ):
        async for chunk in link.stream():
            events += [e.kind for e in chunk.events]
            notices += [n.kind for n in chunk.notices]
            if "restart" in notices:
                break
        telemetry = link.telemetry
    assert [e for e in events if e.endswith("connected")] == ["connected", "disconnected", "reconnected"]
    assert "restart" in notices
    assert telemetry["reconnects"] == 1 and telemetry["restarts"] == 1
    assert telemetry["battery_pct"] is not None


async def test_device_information_battery_and_rate_command() -> None:
    # a battery that drains 1 % per workout second, so the test sees it move
    async with (
        simulated_sensor(_sim_data(4.0), speed=4.0, serial="ABC0042", battery_drain_pct_per_h=3600.0) as sim,
        SensorLink(sim.link_config(rate_hz=50)) as link,
    ):
        info = link.device_info
        assert info is not None
        assert (info.name, info.serial, info.manufacturer) == ("RepTrack-0042", "ABC0042", "RepTrack")
        assert info.battery_pct is not None and info.battery_pct >= 99
        assert info.config.rate_hz == 50 and info.config.streaming
        assert info.mtu == 247 and info.config.samples_per_packet == 10
        battery_events = []
        async for chunk in link.stream():
            if len(chunk.samples) >= 2:
                assert np.allclose(np.diff(chunk.samples.t_s), 0.02, atol=1e-3)  # 50 Hz; the clock jitters
            battery_events += [e for e in chunk.events if e.kind == "battery"]
            if link.telemetry["battery_pct"] <= 97:
                break
        assert battery_events and battery_events[-1].detail == str(link.telemetry["battery_pct"])


async def test_unsupported_rate_is_refused_with_the_reason() -> None:
    async with simulated_sensor(_sim_data(2.0)) as sim:
        with pytest.raises(LinkError, match="SET_RATE: OPERATION_FAILED"):
            async with SensorLink(sim.link_config(rate_hz=200)):
                pass


async def test_unknown_sensor_name_fails_after_the_scan_timeout() -> None:
    async with simulated_sensor(_sim_data(2.0)) as sim:
        link = SensorLink(LinkConfig("RepTrack-FFFF", transport=sim.transport, scan_timeout_s=0.5))
        attempt = asyncio.ensure_future(link.connect())
        done, _ = await asyncio.wait({attempt}, timeout=20.0)  # ends by its own 0.5 s scan timeout
        assert attempt in done, "the scan never gave up"
        await link.close()
        with pytest.raises(LinkError, match=r"no sensor 'RepTrack-FFFF' heard within 0.5 s"):
            attempt.result()


async def test_record_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "x.rtrk"
    out.write_bytes(b"data")
    with pytest.raises(Exception, match="already exists"):
        await record.record_async(_record_args("virtual:none", "RepTrack-0001", out, 1.0))


async def test_control_point_stop_and_start_again_is_a_restart() -> None:
    from tracker.protocol import Opcode

    # 40 s of set, ended by the restart notice: however slow STOP/START is, samples follow it
    async with simulated_sensor(_sim_data(40.0), speed=5.0) as sim:
        link = SensorLink(sim.link_config())
        await link.connect()
        notices: list[str] = []
        samples_after = 0
        try:
            async with asyncio.timeout(60):
                stream = link.stream()
                await anext(stream)
                await link.command(Opcode.STOP)
                await link.command(Opcode.START)
                async for chunk in stream:
                    notices += [n.kind for n in chunk.notices]
                    if "restart" in notices:
                        samples_after += len(chunk.samples)
                        break
        finally:
            await link.close()
        sensor = sim.sensor
    # one restart, told by the sensor's RESTART flag, and the sensor's log agrees: a second START
    assert notices.count("restart") == 1 and "gap" not in notices
    assert [e for _, e in sensor.log.events if e.startswith("start epoch")] == [
        "start epoch 0 spp 10",
        "start epoch 1 spp 10",
    ]
    assert samples_after > 0 and link.telemetry["restarts"] == 1


async def test_simulated_source_for_the_service_streams_the_whole_workout_over_the_radio() -> None:
    from firmware_sim.source import simulated_source

    source = simulated_source("synthetic:4", seed=2, sensor_id="sim-1", speed=10.0)
    total = 0
    wall_before = time.time()
    async with asyncio.timeout(60):
        async for chunk in source.chunks():
            total += len(chunk.samples)
            assert len(chunk.packets) == len(chunk.host_times_s)
    assert total == 400
    assert source.stats.samples == 400 and source.stats.lost_packets == 0
    assert source.wall_t0 is not None and wall_before <= source.wall_t0 <= time.time()  # wall clock


async def test_latency_and_jitter_delay_packets_but_lose_and_reorder_none() -> None:
    data = _sim_data(3.0)
    faults = Faults(latency_s=0.25, jitter_s=0.1, seed=2)
    arrivals: dict[int, float] = {}
    async with (
        simulated_sensor(data, speed=2.0, faults=faults) as sim,
        SensorLink(sim.link_config()) as link,
        asyncio.timeout(60),  # only a bound on a hang: the test ends on what arrives
    ):
        async for chunk in link.stream():
            assert chunk.notices == []  # no gap, no duplicate: BLE keeps order, so does the sensor
            for packet, host in zip(chunk.packets, chunk.host_times_s, strict=True):
                arrivals[int.from_bytes(packet[2:4], "little")] = host
            if sim.sensor.finished.is_set() and len(arrivals) == len(sim.sensor.log.packets):
                break
    assert [p.fate for p in sim.sensor.log.packets] == ["sent"] * len(arrivals)
    delays = [arrivals[p.seq] - p.created_s for p in sim.sensor.log.packets]
    # Every packet waits at least the injected latency; the jitter spreads them. (No upper bound:
    # a loaded machine adds its own delay, and the order and completeness above are the point.)
    assert min(delays) >= 0.25
    assert max(delays) - min(delays) > 0.03


async def test_disconnect_every_n_seconds_keeps_one_session() -> None:
    data = _sim_data(8.0, seed=4)
    events: list[str] = []
    total = 0
    async with (
        simulated_sensor(data, speed=2.0, faults=Faults(disconnect_every_s=3.0)) as sim,
        SensorLink(sim.link_config()) as link,
        asyncio.timeout(60),  # only a bound on a hang: the test ends on what arrives
    ):
        async for chunk in link.stream():
            events += [e.kind for e in chunk.events if e.kind.endswith("connected")]
            total += len(chunk.samples)
            if sim.sensor.finished.is_set() and link.connected and events.count("reconnected") >= 2:
                break
        assert link.telemetry["reconnects"] == 2
    assert events[:5] == ["connected", "disconnected", "reconnected", "disconnected", "reconnected"]
    sent = sum(p.n for p in sim.sensor.log.packets if p.fate == "sent")
    assert 0 < total <= sent


def test_bad_fault_options_are_refused_with_the_option_named(capsys: pytest.CaptureFixture[str]) -> None:
    from firmware_sim.cli import main

    assert main(["serve", "--workout", "synthetic:1", "--loss", "1.5"]) == 2
    assert "loss must be a probability in 0..1, got 1.5" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--workout", "synthetic:1", "--disconnect-at", "3,x"])
    assert exit_info.value.code == 2
    assert "expected seconds separated by commas, got '3,x'" in capsys.readouterr().err


async def test_record_append_continues_the_same_file(tmp_path: Path) -> None:
    data = SensorData.from_session(_session(6))  # the whole workout: minutes of samples
    out = tmp_path / "two-parts.rtrk"
    # Real time, whole workout: the sensor's samples run from the first START whether anyone
    # records or not, so both recordings have to connect before they run out. With 20 s at 5x
    # speed (4 s of wall time) a loaded machine's second START came after the end, no sample
    # followed, and the test waited for --duration into the 60 s timeout. Should the workout still
    # end first, no sample can come, so the waits end there and the asserts say what is missing.
    async with simulated_sensor(data, speed=1.0) as sim:
        over = sim.sensor.finished.is_set
        await _record_until(
            _record_args(sim.transport, sim.name, out, 30.0), lambda: _samples_in(out) >= 100 or over()
        )
        first = _samples_in(out)
        args = _record_args(sim.transport, sim.name, out, 30.0)
        args.append = True
        await _record_until(args, lambda: _samples_in(out) >= first + 100 or over())
    assert first > 0, "the first recording got no sample before the sensor's workout ended"
    session = load_session(out)
    assert len(session.samples) > first, "the appended recording got no sample before the workout ended"
    assert [n["kind"] for n in session.notes] == ["connected", "connected"]
    assert [n.kind for n in session.notices] == ["restart"]
    assert np.all(np.diff(session.samples.t_s) > 0)
