"""Results do not depend on chunk size: any chunking, up to whole files, gives the events of one feed.

(The detector keeps a few seconds of pitch history to measure a rep's depth from the still moment
before it; a long chunk used to drop the history the reps at its start needed, and their depths
moved by up to 11 deg.)
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware_sim.session import simulate
from firmware_sim.workout import Workout, load_workout
from tests.paths import SHARED_DATA_DIR
from tracker.events import Event, RepEvent
from tracker.io.load import load_session
from tracker.pipeline import Pipeline
from tracker.samples import Samples

DATA = SHARED_DATA_DIR

WORKOUT = """
[[step]]
activity = "stand"
duration_s = 5
[[step]]
activity = "squat"
reps = 5
rest_s = 15
[[step]]
activity = "deadlift"
reps = 4
rest_s = 15
[[step]]
activity = "single_leg_squat"
leg = "right"
free_leg = "hover"
reps = 4
rest_s = 15
[[step]]
activity = "single_leg_deadlift"
leg = "left"
reps = 4
rest_s = 10
"""


def replay(samples: Samples, sizes: list[int] | None = None, sensor_leg: str | None = None) -> list[Event]:
    """All events of one session fed whole (``sizes`` None) or in chunks of ``sizes``, cycled."""
    pipeline = Pipeline(sensor_leg=sensor_leg)
    events: list[Event] = []
    if sizes is None:
        events += pipeline.feed(samples)
    else:
        i = k = 0
        while i < len(samples):
            events += pipeline.feed(samples.slice(i, i + sizes[k % len(sizes)]))
            i += sizes[k % len(sizes)]
            k += 1
    return events + pipeline.finish()


@cache
def simulated() -> tuple[Samples, tuple[Event, ...]]:
    samples = simulate(Workout.from_toml_str(WORKOUT), seed=5, leg="left", mounting="random").samples()
    return samples, tuple(replay(samples))


REAL = sorted(str(p.relative_to(DATA)) for p in DATA.glob("*/*.csv")) if DATA.is_dir() else []


@cache
def real(name: str) -> tuple[Samples, str | None, tuple[Event, ...]]:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"real recording not found at {path}")
    session = load_session(path)
    leg = session.meta.sensor_leg
    return session.samples, leg, tuple(replay(session.samples, sensor_leg=leg))


def chunk_sizes(n: int, smallest: int = 8) -> st.SearchStrategy[list[int]]:
    """A few chunk sizes, from live packets of ``smallest`` samples or more (a MetaWear notification
    carries three) to the whole session (cycled by :func:`replay`)."""
    size = st.one_of(st.integers(smallest, 400), st.integers(400, n))
    return st.lists(size, min_size=1, max_size=5)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_simulated_session_gives_the_same_events_in_any_chunking(data: st.DataObject) -> None:
    samples, whole = simulated()
    assert sum(isinstance(e, RepEvent) for e in whole) == 17  # every rep of the script, once
    sizes = data.draw(chunk_sizes(len(samples)), label="chunk sizes")
    assert replay(samples, sizes) == list(whole)


@pytest.mark.skipif(not REAL, reason="the real recordings (../shared/data) are not here")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_real_recordings_give_the_same_events_in_any_chunking(data: st.DataObject) -> None:
    """Every real recording under ../shared/data (CMU-MBL thigh exercises, HuGaDB daily life)."""
    name = data.draw(st.sampled_from(REAL), label="recording")
    samples, leg, whole = real(name)
    sizes = data.draw(chunk_sizes(len(samples), smallest=1), label="chunk sizes")
    assert replay(samples, sizes, sensor_leg=leg) == list(whole)


def test_long_chunks_keep_the_depth_of_the_reps_at_their_start() -> None:
    """3,000-sample chunks of builtin:everything: the squat whose history lay in the chunk before
    read 72.85 deg instead of 77.6 deg (the depth of one whole feed and of live packets)."""
    samples = simulate(load_workout("builtin:everything"), seed=0, leg="left", mounting="random").samples()
    depths = [e.rep.depth_deg for e in replay(samples) if isinstance(e, RepEvent)]
    chunked = [e.rep.depth_deg for e in replay(samples, [3000]) if isinstance(e, RepEvent)]
    assert chunked == depths
