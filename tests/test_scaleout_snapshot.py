"""A worker's checkpoint carries the stream decoder's and the pipeline's whole state: a new owner
that restores it in the middle of a set continues with exactly the events of an uninterrupted
run, and a snapshot that is damaged or names anything but the decoder's and the pipeline's own
classes is refused with a clear error, never run."""

from __future__ import annotations

import base64
import contextlib
import json
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import workouts
from tracker.events import Event, RepEvent
from tracker.pipeline import Pipeline
from tracker.protocol import StreamDecoder
from tracker.scaleout import snapshot, wire

SESSION = workouts.TWO_SQUAT_SETS


def run(packets: list[bytes], cut: int | None) -> list[Event]:
    """Decode and feed the packets one by one; at ``cut``, hand the sensor over through a
    checkpoint message (JSON, as the broker carries it) to a fresh decoder and pipeline."""
    decoder, pipeline = StreamDecoder(), Pipeline()
    events: list[Event] = []
    for i, packet in enumerate(packets):
        if i == cut:
            cp = wire.Checkpoint(index=i, pipeline=snapshot.dumps((decoder, pipeline)))
            message = json.loads(wire.dumps(cp.to_json()))
            decoder, pipeline = snapshot.loads(str(wire.Checkpoint.from_json(message).pipeline))
        samples, _ = decoder.feed([packet])
        events += pipeline.feed(samples)
    return events + pipeline.finish()


def test_a_sensor_restored_mid_set_continues_with_the_same_events() -> None:
    packets = workouts.simulated(SESSION, seed=4).packets()
    whole = run(packets, None)
    reps = [e for e in whole if isinstance(e, RepEvent)]
    assert len({e.set_index for e in reps}) == 2
    first, second = reps[1], reps[-3]  # cut inside each set, between reps
    for t_s in (first.t_s + 0.5, second.t_s + 0.5):
        assert run(packets, int(t_s * 10)) == whole  # 10 packets a second


def forged(body: object, code: str | None = None) -> str:
    wrapped = {"code": code or snapshot.code_id(), "state": body}
    return base64.b64encode(zlib.compress(json.dumps(wrapped).encode())).decode()


def test_a_snapshot_written_by_other_code_is_refused_before_any_object_is_rebuilt() -> None:
    # (a worker of another release would otherwise rebuild objects whose attributes no longer match)
    with pytest.raises(snapshot.SnapshotError, match=r"written by other code \('0123456789abcdef'"):
        snapshot.loads(forged({"obj": "tracker.protocol:StreamDecoder", "a": {}}, code="0123456789abcdef"))


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("os:system", "'os:system'"),
        ("subprocess:Popen", "'subprocess:Popen'"),
        ("tracker.pipeline:x.y", "x.y"),
    ],
)
def test_a_snapshot_naming_another_class_is_refused(name: str, what: str) -> None:
    with pytest.raises(snapshot.SnapshotError, match=f"may not hold a .*{what.strip(chr(39))}"):
        snapshot.loads(forged({"obj": name, "a": {}}))


def test_a_snapshot_that_would_unpack_beyond_its_bound_is_refused() -> None:
    with pytest.raises(snapshot.SnapshotError, match="unpacks to more than"):
        snapshot.loads(base64.b64encode(zlib.compress(b" " * (snapshot.MAX_BYTES + 1))).decode())


def test_an_array_of_objects_is_refused() -> None:
    with pytest.raises(snapshot.SnapshotError, match="array of '\\|O'"):
        snapshot.loads(forged({"nd": "|O", "shape": [1], "b": ""}))


@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode()))
def test_damaged_snapshots_raise_a_snapshot_error_only(text: str) -> None:
    with contextlib.suppress(snapshot.SnapshotError):
        snapshot.loads(text)


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(plain)
def test_plain_values_round_trip(value: object) -> None:
    back = snapshot.loads(snapshot.dumps(value))
    assert repr(back) == repr(value)  # (repr: NaN equals NaN)
