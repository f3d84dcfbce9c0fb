"""A pipeline picked up at a checkpoint: session time and set numbers continue where they were."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from tracker.events import Event, PhaseEvent, RepEvent, SetEvent, WobbleEvent
from tracker.pipeline import Pipeline
from tracker.samples import Samples
from tracker.scaleout.wire import Checkpoint


class ResumedPipeline:
    """A fresh :class:`Pipeline` whose events and state read as if it had run from the start.

    The decoder of a stream picked up mid-way starts its clock at 0, so samples are shifted by
    the checkpoint's ``t_s``; set numbers and the total rep count are offset by the checkpoint's.
    """

    def __init__(self, checkpoint: Checkpoint, pipeline: Pipeline | None = None) -> None:
        self.checkpoint = checkpoint
        self.pipeline = pipeline or Pipeline()

    def feed(self, chunk: Samples) -> list[Event]:
        shifted = Samples(chunk.t_s + self.checkpoint.t_s, chunk.accel_g, chunk.gyro_dps)
        return [self._shift(ev) for ev in self.pipeline.feed(shifted)]

    def finish(self) -> list[Event]:
        return [self._shift(ev) for ev in self.pipeline.finish()]

    def replaced_samples(self) -> str | None:
        return self.pipeline.replaced_samples()

    @property
    def state(self) -> Mapping[str, Any]:
        state = dict(self.pipeline.state)
        if state.get("set_index") is not None:
            state["set_index"] += self.checkpoint.sets_done
        state["total_reps"] = int(state.get("total_reps") or 0) + self.checkpoint.total_reps
        return state

    def _shift(self, ev: Event) -> Event:
        k = self.checkpoint.sets_done
        if not k:
            return ev
        if isinstance(ev, SetEvent):
            return dataclasses.replace(ev, index=ev.index + k)
        if isinstance(ev, RepEvent | WobbleEvent):
            return dataclasses.replace(ev, set_index=ev.set_index + k)
        if isinstance(ev, PhaseEvent) and ev.set_index is not None:
            return dataclasses.replace(ev, set_index=ev.set_index + k)
        return ev
