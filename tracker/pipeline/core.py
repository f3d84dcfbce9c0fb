"""The streaming functional core: a chunk of samples in, events out, with explicit state.

Stages, each carrying its own state from chunk to chunk so that a session fed in one array or in
packets of any size gives the same events:

1. calibration (optional callable): sensor errors and, when known, the mounting;
2. sample-rate probe: the first ``rate_probe_samples`` samples;
3. mounting: given by the calibration, or found from quiet standing and the first movements
   (:mod:`tracker.pipeline.mounting`); samples wait in a bounded buffer until it is known;
4. orientation: thigh pitch, roll, rates, impacts, sensor height (:mod:`.orientation`);
5. sway (:mod:`.wobble`), reps (:mod:`.reps`), sets, exercise and wobble events (:mod:`.sets`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from types import MethodType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from tracker.events import Event, PhaseEvent
from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.mounting import MountingFinder
from tracker.pipeline.orientation import OrientationFilter
from tracker.pipeline.reps import RepDetector
from tracker.pipeline.sanitize import SampleSanitizer
from tracker.pipeline.sets import SetTracker
from tracker.pipeline.wobble import SwayFilter
from tracker.samples import FloatArray, Samples

Calibration = Callable[[Samples], Samples]
"""Maps sensor-frame samples to corrected ones (e.g. ``calibration.store.DeviceCalibration``)."""


class ThighMounting(Protocol):
    """How the sensor sits on the thigh (``calibration.mounting.Mounting`` is one)."""

    @property
    def R_thigh_from_sensor(self) -> npt.ArrayLike: ...  # v_thigh = R @ v_sensor

    @property
    def leg(self) -> str: ...  # left, right or unknown


@runtime_checkable
class CarriesMounting(Protocol):
    """A calibration that may know the mounting: then its output is in the thigh frame."""

    @property
    def mounting(self) -> ThighMounting | None: ...


def calibration_mounting(calibration: Calibration | None) -> tuple[FloatArray | None, str]:
    """The rotation and thigh of a calibration's mounting, if it carries one (itself, or the object
    whose bound method it is, such as ``DeviceCalibration.apply``)."""
    owner = calibration.__self__ if isinstance(calibration, MethodType) else calibration
    mounting = owner.mounting if isinstance(owner, CarriesMounting) else None
    if mounting is None:
        return None, "unknown"
    return np.asarray(mounting.R_thigh_from_sensor, dtype=np.float64), str(mounting.leg or "unknown")


ROTATE_ROWS = 4096


def _rotate(v: FloatArray, rot: FloatArray) -> FloatArray:
    """``v @ rot.T`` in blocks of rows. One product over a whole recording makes OpenBLAS start
    worker threads, which then spin for ~0.1 s of CPU; a block stays under its threading threshold
    (m * n * k < 262144) and gives bitwise the same rows."""
    if len(v) <= ROTATE_ROWS:
        return v @ rot.T
    out = np.empty_like(v)
    for s in range(0, len(v), ROTATE_ROWS):
        np.matmul(v[s : s + ROTATE_ROWS], rot.T, out=out[s : s + ROTATE_ROWS])
    return out


def thigh_frame(samples: Samples, rot: FloatArray) -> Samples:
    """``samples`` (sensor axes) turned into the thigh frame by the mounting rotation ``rot``."""
    gyro = None if samples.gyro_dps is None else _rotate(samples.gyro_dps, rot)
    return Samples(samples.t_s, _rotate(samples.accel_g, rot), gyro)


class Pipeline:
    """Feed :class:`Samples` chunks (any size, gaps allowed); get events back.

    ``calibration``, when given, maps sensor-frame samples to corrected samples; if it carries a
    ``mounting`` (:class:`CarriesMounting`) its output is taken to be in the thigh frame already
    (and ``mounting.leg`` names the thigh). Without a mounting the pipeline finds one itself. ``sensor_leg`` (``left`` or
    ``right``, e.g. from a recording's meta) names the sensor's thigh when the calibration does not:
    the working leg of single-leg sets follows from it.
    """

    def __init__(
        self,
        config: PipelineConfig | None = None,
        calibration: Calibration | None = None,
        sensor_leg: str | None = None,
    ) -> None:
        self.config = config or PipelineConfig()
        self.calibration = calibration
        rot, self.sensor_leg = calibration_mounting(calibration)
        if self.sensor_leg not in ("left", "right") and sensor_leg in ("left", "right"):
            self.sensor_leg = sensor_leg  # e.g. the recording's meta: which thigh wears the sensor
        self._mounted_by_calibration = rot is not None
        self.R_thigh_from_sensor: FloatArray | None = np.eye(3) if rot is not None else None
        self.rate_hz: float | None = None
        self._probe: list[Samples] = []
        self._probe_n = 0
        self._pending: list[Samples] = []  # raw samples waiting for the mounting
        self._pending_s = 0.0
        self._finder: MountingFinder | None = None
        self._orient: OrientationFilter | None = None
        self._sway: SwayFilter | None = None
        self._reps = RepDetector(self.config)
        self._sets = SetTracker(self.config, self.sensor_leg)
        self._last_t: float | None = None
        # this chunk's jolts (times, impacts, as lists: read one by one) and the next one to report
        self._jolts: tuple[list[float], list[float]] = ([], [])
        self._jolts_done = 0
        self._phase = "idle"
        self.samples_seen = 0
        self.sanitizer = SampleSanitizer()  # corrupt samples are replaced before any stage sees them

    # --- public API ---------------------------------------------------------------------------
    def feed(self, chunk: Samples) -> list[Event]:
        n = len(chunk)
        if n == 0:
            return []
        self.samples_seen += n
        chunk = self.sanitizer.clean(chunk)
        if self.calibration is not None:
            chunk = self.calibration(chunk)
        if self.rate_hz is None:
            self._probe.append(chunk)
            self._probe_n += n
            if self._probe_n < self.config.rate_probe_samples:
                return []
            chunk = self._probe[0] if len(self._probe) == 1 else Samples.concat(self._probe)  # no copy
            self._probe = []
            self.rate_hz = self._measure_rate(chunk)
            self._finder = None if self._mounted_by_calibration else MountingFinder(self.config, self.rate_hz)
        return self._mount(chunk)

    def replaced_samples(self) -> str | None:
        """A note on the corrupt samples replaced so far (for the user), or None when there were none."""
        return self.sanitizer.summary()

    def finish(self) -> list[Event]:
        """End of session: flush what is waiting and close the open set."""
        events: list[Event] = []
        if self.rate_hz is None and self._probe:
            chunk = Samples.concat(self._probe)
            self._probe = []
            self.rate_hz = self._measure_rate(chunk)
            self._finder = None if self._mounted_by_calibration else MountingFinder(self.config, self.rate_hz)
            events += self._mount(chunk)
        if self._last_t is not None:
            events += self._sets.finish(self._last_t)
            if self._phase != "rest":
                events.append(self._phase_event(self._last_t, "rest"))
        return events

    @property
    def state(self) -> dict[str, Any]:
        return {
            "phase": self._phase,
            "exercise": self._sets.exercise,
            "set_index": self._sets.set_index if self._sets.open else None,
            "reps_in_set": self._sets.reps_in_set,
            "total_reps": self._sets.total_reps,
            "sensor_leg": self.sensor_leg,
            "mounting_known": self.R_thigh_from_sensor is not None,
            "rate_hz": self.rate_hz,
        }

    # --- stages -------------------------------------------------------------------------------
    def _measure_rate(self, chunk: Samples) -> float:
        # the first rate_probe_samples only, however the stream was cut (an irregular clock gave
        # another rate, so another mounting sample, for each size of the first chunk)
        dt = np.diff(chunk.t_s[: self.config.rate_probe_samples])
        dt = dt[dt > 0]
        rate = float(1.0 / np.median(dt)) if dt.size else 100.0
        return float(np.clip(rate, 5.0, 2000.0))

    def _mount(self, chunk: Samples) -> list[Event]:
        if self.R_thigh_from_sensor is not None and self._orient is not None:
            return self._process(chunk)
        if self.R_thigh_from_sensor is not None:  # given by the calibration
            return self._process(chunk)
        finder = self._finder
        assert finder is not None
        idx = finder.feed(chunk)
        self._pending.append(chunk)
        self._pending_s += chunk.duration_s
        if idx is None or finder.result is None:
            while self._pending_s > self.config.max_buffer_s and len(self._pending) > 1:
                dropped = self._pending.pop(0)
                self._pending_s -= dropped.duration_s
            return []
        self.R_thigh_from_sensor = finder.result.R_thigh_from_sensor
        # one waiting chunk (a whole recording fed at once) is used as is: no copy of the session
        waiting = self._pending[0] if len(self._pending) == 1 else Samples.concat(self._pending)
        self._pending = []
        return self._process(waiting)

    def _process(self, chunk: Samples) -> list[Event]:
        rot = self.R_thigh_from_sensor
        assert rot is not None and self.rate_hz is not None
        if self._orient is None:
            roll_sign = -1.0 if self.sensor_leg == "right" else 1.0
            self._orient = OrientationFilter(self.config, self.rate_hz, roll_sign)
            self._sway = SwayFilter(self.config, self.rate_hz)
            self._reps.set_sample_rate(self.rate_hz)
        assert self._sway is not None
        thigh = chunk if self._mounted_by_calibration else thigh_frame(chunk, rot)
        self._sets.accel_only = chunk.gyro_dps is None
        self._reps.gyro = chunk.gyro_dps is not None
        ang = self._orient.feed(thigh)
        # balance losses: a jolt with the thigh near the standing pose (a foot put down)
        cfg = self.config
        jolt = np.flatnonzero(ang.impact_g >= cfg.balance_loss_g)  # usually none
        if jolt.size:
            jolt = jolt[np.abs(ang.pitch_deg[jolt]) <= cfg.balance_loss_pitch_deg]
        self._jolts, self._jolts_done = (ang.t_s[jolt].tolist(), ang.impact_g[jolt].tolist()), 0
        ap, ml = self._sway.feed(ang.pitch_deg, ang.roll_deg)
        excursions = self._reps.feed(ang, ap, ml)
        t = chunk.t_s
        events: list[Event] = []
        phases = self._reps.phase_changes
        k = 0  # phase changes before k are out (an index: pop(0) is quadratic on a long chunk)
        for ex in excursions:
            while k < len(phases) and phases[k][0] < ex.t_event_s:
                events += self._touchdowns(phases[k][0])
                events += self._sets.close_due(t, until_s=phases[k][0])
                events.append(self._phase_event(*phases[k]))
                k += 1
            events += self._touchdowns(ex.t_event_s)
            events += self._sets.close_due(t, until_s=ex.t_event_s)
            if ex.valid:
                events += self._sets.add(ex)
        for ph in phases[k:]:
            events += self._touchdowns(ph[0])
            events += self._sets.close_due(t, until_s=ph[0])
            events.append(self._phase_event(*ph))
        events += self._touchdowns(None)
        events += self._sets.close_due(t)
        self._sets.drop_stale(float(t[-1]))
        self._last_t = float(t[-1])
        return events

    def _touchdowns(self, until_s: float | None) -> list[Event]:
        """Balance-loss events for the jolts of this chunk up to ``until_s`` (in time order)."""
        t_j, g_j = self._jolts
        done = self._jolts_done
        if done == len(t_j):  # (called a few times per rep and phase: no numpy call when none)
            return []
        k = len(t_j) if until_s is None else bisect.bisect_right(t_j, until_s, lo=done)
        out: list[Event] = []
        for i in range(done, k):
            out += self._sets.touchdown(t_j[i], g_j[i])
        self._jolts_done = k
        return out

    def _phase_event(self, t_s: float, phase: str) -> PhaseEvent:
        self._phase = phase
        sets = self._sets
        return PhaseEvent(
            t_s=t_s,
            phase=phase,  # type: ignore[arg-type]
            set_index=sets.set_index if sets.open else None,
            exercise=sets.exercise,
            reps_in_set=sets.reps_in_set,
        )
