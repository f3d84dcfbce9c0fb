"""Live packets, one at a time or a few together (what waited while the service was busy), decode
to exactly what the same packets give as one batch."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.protocol import CLOCK_MODULO_US, Packetizer, StreamDecoder
from tracker.samples import Samples


@settings(max_examples=60, deadline=None)
@given(
    packets=st.integers(2, 60),
    seed=st.integers(0, 2**31),
    clock_start_us=st.sampled_from([0, CLOCK_MODULO_US - 150_000, 12_345]),
    drop=st.lists(st.integers(1, 59), max_size=4),
    repeat=st.lists(st.integers(1, 59), max_size=2),
    gyro=st.booleans(),
    groups=st.lists(st.integers(1, 20), min_size=1, max_size=8),
)
def test_packets_a_few_at_a_time_equal_one_batch(
    packets: int,
    seed: int,
    clock_start_us: int,
    drop: list[int],
    repeat: list[int],
    gyro: bool,
    groups: list[int],
) -> None:
    rng = np.random.default_rng(seed)
    n = packets * 10
    clock = (np.arange(n) * 10_000 + clock_start_us).astype(np.int64)
    encoded = Packetizer().encode(
        clock, rng.normal(0, 1, (n, 3)), rng.normal(0, 300, (n, 3)) if gyro else None
    )
    stream = [p for i, p in enumerate(encoded) if i not in drop]  # gaps
    for i in sorted(repeat, reverse=True):  # duplicates
        if i < len(stream):
            stream.insert(i, stream[i - 1])
    stream.insert(len(stream) // 2, b"\x01garbage packet")  # a corrupt one
    batch = StreamDecoder()
    whole, whole_notices = batch.feed(stream)
    live = StreamDecoder()
    parts, notices = [], []
    i = 0
    while i < len(stream):
        size = groups[len(parts) % len(groups)]  # sizes taken in turn, [1] is one at a time
        s, note = live.feed(stream[i : i + size])
        i += size
        parts.append(s)
        notices += note
    joined = Samples.concat(parts)
    assert np.array_equal(joined.t_s, whole.t_s)
    assert np.array_equal(joined.accel_g, whole.accel_g)
    assert (joined.gyro_dps is None) == (whole.gyro_dps is None) or not len(joined)
    if joined.gyro_dps is not None and whole.gyro_dps is not None:
        assert np.array_equal(joined.gyro_dps, whole.gyro_dps)
    assert live.stats == batch.stats
    # the same notices (a batch lists its corrupt packets first)
    assert sorted((n.kind, n.packets, n.samples) for n in notices) == sorted(
        (n.kind, n.packets, n.samples) for n in whole_notices
    )
