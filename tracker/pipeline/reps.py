"""Rep detection: standing -> descent -> bottom -> ascent -> standing, with hysteresis and gates.

The detector follows the thigh pitch relative to the athlete's own standing pitch. Leaving the
standing band by ``rep_start_deg`` starts an excursion; coming back below ``max(rep_end_deg,
rep_end_fraction * depth)`` ends it, and the rep is emitted on that very sample (the athlete is
all but upright; docs/pipeline.md gives the measured delay). An excursion becomes a rep only if no
named rejection rule (:mod:`tracker.pipeline.rejection`) turns it down: too shallow or short, a
hold, not from standing, heel strikes, a knee lift (walking, running, stairs and step-ups raise the
sensor while the thigh flexes; squats, lunges and deadlifts lower it).

Everything the detector carries from chunk to chunk is one :class:`RepDetectorState` (like the
``zi`` of ``scipy.signal.lfilter``): save it mid-session, restore it into a fresh detector, feed the
rest, get the same events. Each phase has its own small step function. Work is vectorised within a
chunk: Python only loops over the few transitions a chunk contains.
"""

from __future__ import annotations

import copy
import logging
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

import tracker.pipeline.kernels as kernels
import tracker.pipeline.naming as naming
from tracker.events import Rep
from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.naming import NO_PHYSICS, RepPhysics, rep_physics
from tracker.pipeline.orientation import ThighAngles
from tracker.pipeline.quiet import carried, quiet_run_starts, quiet_since_s, still_going
from tracker.pipeline.rejection import Candidate, first_rejection, repeatable_shallow, too_short
from tracker.pipeline.wobble import SwayStats, sway_stats
from tracker.samples import FloatArray

log = logging.getLogger("tracker.pipeline.reps")

BLOCK = 512
_NO_SWAY = SwayStats()  # immutable: shared by every excursion that gets no sway stats
TRACE_FIELDS = ("t", "pitch", "roll", "rate", "impact", "height", "sway_ap", "sway_ml")
PHASES = ("standing", "descent", "ascent", "hold")


@dataclass(slots=True)
class Excursion:
    """A rep candidate as the detector saw it, with the features the gates and classifier use."""

    rep: Rep
    signed_depth_deg: float  # negative: extension (free leg swinging back)
    rise_height_m: float  # sensor height change from start to bottom (negative: goes down)
    drop_m: float  # how far the sensor came down from its highest point before the bottom
    max_impact_g: float
    sway: SwayStats
    t_event_s: float
    valid: bool = True
    reject_reason: str = ""
    parked: bool = False  # measured from a free leg held in the air (single-leg squat, free leg)
    physics: RepPhysics = NO_PHYSICS  # what the thigh's physics says, for naming (naming.py)
    # under min_depth_deg, or quicker than min_rep_s (a quick deep squat): a rep only in a set of
    # such reps (three in a row; a sit and a quick stand-up are two)
    shallow: bool = False
    stood_before: bool = True  # the thigh stood still since the excursion before this one
    # measured from a split stance: the thigh held behind the body (the back leg of a split squat)
    stance: bool = False


class _Trace:
    __slots__ = ("n", "parts")

    def __init__(self) -> None:
        self.parts: list[FloatArray] = []
        self.n = 0

    def add(self, block: FloatArray) -> None:
        if block.shape[1]:
            self.parts.append(block)
            self.n += block.shape[1]

    def tail(self, k: int) -> FloatArray:
        """The last ``k`` samples."""
        out: list[FloatArray] = []
        got = 0
        for part in reversed(self.parts):
            if got >= k:
                break
            out.append(part[:, max(0, part.shape[1] - (k - got)) :])
            got += out[-1].shape[1]
        return np.concatenate(out[::-1], axis=1) if out else np.zeros((len(TRACE_FIELDS), 0))

    def array(self) -> FloatArray:
        """All samples (the one part itself when there is one: parts are never written to)."""
        if len(self.parts) == 1:
            return self.parts[0]
        return np.concatenate(self.parts, axis=1) if self.parts else np.zeros((len(TRACE_FIELDS), 0))


class _Block:
    """A block's arrays that do not depend on the detector's state, or only on its standing angle
    (recomputed when that changes): a transition slices them instead of recomputing its part of the
    block, so the cost per transition is a few numpy calls."""

    __slots__ = ("_away", "_near", "_rest", "_slow", "_t_max", "ad", "base", "cfg", "d", "data", "pitch")

    def __init__(self, data: FloatArray, cfg: PipelineConfig) -> None:
        self.cfg = cfg
        self.data = data
        self.pitch = data[1]
        self.base: float | None = None
        self.d = self.ad = self.pitch
        self._slow: npt.NDArray[np.bool_] | None = None
        self._t_max: float | None = None
        self._near: npt.NDArray[np.bool_] | None = None
        self._away: npt.NDArray[np.bool_] | None = None
        self._rest: npt.NDArray[np.bool_] | None = None
        # (computed when first needed: a live packet of a few samples needs only some of them)

    def t_max(self) -> float:
        if self._t_max is None:
            self._t_max = float(self.data[0].max())
        return self._t_max

    def slow(self) -> npt.NDArray[np.bool_]:
        """Turning slower than ``settle_dps``."""
        if self._slow is None:
            self._slow = np.abs(self.data[3]) < self.cfg.settle_dps
        return self._slow

    def rebase(self, base: float) -> None:
        if base != self.base:
            self.base = base
            self.d = self.pitch - base
            self.ad = np.abs(self.d)
            self._near = self._away = self._rest = None

    def near(self) -> npt.NDArray[np.bool_]:
        """Inside the standing band (``|d| < rep_start_deg``)."""
        if self._near is None:
            self._near = self.ad < self.cfg.rep_start_deg
        return self._near

    def away(self) -> npt.NDArray[np.bool_]:
        """Out of the standing band (``|d| > rep_start_deg``)."""
        if self._away is None:
            self._away = self.ad > self.cfg.rep_start_deg
        return self._away

    def rest(self) -> npt.NDArray[np.bool_]:
        """Quiet and close to the standing angle."""
        if self._rest is None:
            self._rest = (self.ad < self.cfg.rep_rest_deg) & (np.abs(self.data[3]) < self.cfg.quiet_dps)
        return self._rest


@dataclass(slots=True)
class PitchHistory:
    """(t, pitch, roll) of the last seconds, as fed: the still moment a rep started from may precede
    its trace, and the sway while the thigh stood still before it names the exercise. A list of the parts as fed (a live packet costs a copy and an append; stale parts are
    dropped in bulk)."""

    parts: list[FloatArray] = field(default_factory=list)
    starts_s: list[float] = field(default_factory=list)  # the first time of each part
    first: int = 0  # the first part still needed

    def remember(self, tp: FloatArray, keep_s: float) -> None:
        """Append a chunk's (t, pitch, roll); parts wholly before ``keep_s`` may go."""
        if not tp.shape[1]:
            return
        self.parts.append(tp.copy())  # not a view: it would keep the whole chunk alive
        self.starts_s.append(float(tp[0, 0]))
        i, starts = self.first, self.starts_s
        while i + 1 < len(starts) and starts[i + 1] <= keep_s:
            i += 1
        if i > len(starts) // 2:
            del self.parts[:i], starts[:i]
            i = 0
        self.first = i

    def between(self, t_from: float, t_to: float) -> list[FloatArray]:
        """The (t, pitch, roll) samples with ``t_from <= t < t_to``, in parts."""
        first = max(self.first, bisect_right(self.starts_s, t_from) - 1)
        parts = self.parts[first : bisect_left(self.starts_s, t_to)]
        if parts:  # only the first and the last part reach outside [t_from, t_to)
            parts[0] = parts[0][:, int(np.searchsorted(parts[0][0], t_from)) :]
            parts[-1] = parts[-1][:, : int(np.searchsorted(parts[-1][0], t_to))]
        return parts

    def pitch_between(self, t_from: float, t_to: float) -> list[FloatArray]:
        """The pitch samples with ``t_from <= t < t_to``, in parts."""
        return [part[1] for part in self.between(t_from, t_to)]


@dataclass(slots=True)
class ParkSearch:
    """Plateaus already found in the trace of one excursion (final: they only depend on samples
    already seen), so each chunk only looks at its new samples."""

    excursion_start_s: float | None = None  # the excursion they belong to
    scanned: int = 0  # trace samples whose plateau windows are done
    last_end: int = -1  # trace index of the latest plateau end (-1: none)
    level_deg: float = 0.0  # its pitch relative to the standing angle
    within_s: float = 0.0  # plateaus end this soon after the excursion's start (set with it)


@dataclass(slots=True)
class RepDetectorState:
    """Everything the rep detector carries from one chunk to the next (and nothing else).

    Traces hold numpy arrays that are never written to; :meth:`RepDetector.save_state` returns a
    deep copy all the same, so a saved state stays valid whatever the detector does next."""

    phase: str = "standing"  # one of PHASES
    standing_pitch_deg: float | None = None  # the standing angle the excursions are measured from
    park_window_n: int = 0  # samples in ``park_s`` (0: no park search; set with the sample rate)
    stand_window_n: int = 0  # samples in ``stand_window_s`` (idem)
    history: PitchHistory = field(default_factory=PitchHistory)
    excursion_end_s: float = -np.inf  # where the last excursion ended (the still sway looks no further back)
    # --- standing: the pause between excursions ---
    armed: bool = True  # False: a rep ended above the standing band, wait until back in it
    rearm_deg: float = 0.0  # ... or turning around slowly below this (a free leg between reps)
    last_valid: bool = False  # the last excursion was a rep
    pause: _Trace = field(default_factory=lambda: _Trace())  # samples since the last quiet standing sample
    pause_low_deg: float = np.inf  # lowest pitch of the pause so far (from its first quiet sample)
    quiet_pitch_deg: float | None = None  # pitch at the last quiet standing moment ...
    quiet_low_deg: float = np.inf  # ... and the lowest pitch of the pause up to it
    quiet_run_since_s: float | None = None  # the quiet run going on at the chunk's end
    settled_s: float | None = None  # the last time the thigh turned slower than ``settle_dps``
    stood: bool = False  # the thigh stood still since the last excursion ...
    stood_before: bool = False  # ... and before the current one (stairs never stand still)
    # --- descent and ascent: the excursion ---
    trace: _Trace = field(default_factory=lambda: _Trace())
    t_start_s: float = 0.0
    peak_deg: float = 0.0
    trough_deg: float = np.inf  # lowest point since the peak (ascent)
    from_standing: bool = True
    # --- a free leg parked in the air ---
    parked: bool = False  # reps are measured from a free leg held in the air ...
    stand_deg: float = 0.0  # ... and this is the standing pitch to come back to
    park_at: int = 0  # where the plateau ended, relative to the chunk being searched
    park_level_deg: float = 0.0
    park_search: ParkSearch = field(default_factory=ParkSearch)
    # --- a split stance: the thigh parked behind the body (the back leg of a split squat) ---
    stance: bool = False  # the parked pose is behind standing (a split stance, not a free leg) ...
    stance_confirmed: bool = False  # ... and a rep from it came back to it (no leg swung back)
    stance_lead: _Trace | None = None  # the excursion before the park (put back if no split stance)
    stance_t_start_s: float = 0.0  # ... and where it started
    stance_lead_peak_deg: float = 0.0  # ... and how far from standing it went
    no_stance_s: float | None = None  # the start of an excursion found to be no split stance
    stance_quiet_since_s: float | None = None  # quiet near the old standing angle since (None: not)
    # --- hold: sitting, a plank, a free leg parked somewhere ---
    hold_quiet_since_s: float | None = None
    # --- a rise from a seat (chair-stand sets, box squats: docs/pipeline.md) ---
    seat_trace: _Trace | None = None  # hold samples since the last still seated one (None: none)
    pending_rise: Excursion | None = None  # counted if a rep starts soon after it and is one ...
    pending_seat_deg: float = 0.0  # ... back down to the seat: the thigh's pitch there
    # up from a sit that ended as an excursion (rejected as ``hold``): standing may be a new pose,
    # so the first quiet upright sample re-arms and re-learns the standing angle
    rearm_upright: bool = False
    rearm_quiet_since_s: float | None = None  # ... (its quiet run going on at the chunk's end)


@dataclass(slots=True)
class _Stops:
    """Where an excursion may stop in the rest of a block, and the running values behind it."""

    run_peak: FloatArray
    threshold: FloatArray  # back below this: the excursion ended
    ended: npt.NDArray[np.bool_]
    too_long: npt.NDArray[np.bool_] | None
    turn: npt.NDArray[np.bool_] | None  # descent: turned up; ascent: rebounded
    trough: FloatArray | None
    stop_at: npt.NDArray[np.bool_]
    stance_since: FloatArray | None = None  # a split stance: quiet near the old standing since


class RepDetector:
    """Streaming rep detector over :class:`ThighAngles` (plus sway columns).

    Give it the sample rate (:meth:`set_sample_rate`) before the first chunk to enable the windowed
    measures (a free leg parked in the air; the standing angle around each rep)."""

    def __init__(self, config: PipelineConfig, state: RepDetectorState | None = None) -> None:
        self.config = config
        self.state = RepDetectorState() if state is None else copy.deepcopy(state)
        self.phase_changes: list[tuple[float, str]] = []  # of the last chunk fed
        self.gyro = True  # the angles come from a gyroscope (set by the pipeline per chunk)

    # --- public API ---------------------------------------------------------------------------
    @property
    def phase(self) -> str:
        return self.state.phase

    @property
    def base_deg(self) -> float | None:
        """The standing angle the current excursion is measured from."""
        return self.state.standing_pitch_deg

    def set_sample_rate(self, rate_hz: float) -> None:
        """The windows that are a fixed time long, in samples."""
        self.state.park_window_n = max(2, round(self.config.park_s * rate_hz))
        self.state.stand_window_n = max(2, round(self.config.stand_window_s * rate_hz))

    def save_state(self) -> RepDetectorState:
        """A copy of the state: ``RepDetector(config, saved)`` continues from here."""
        return copy.deepcopy(self.state)

    def state_dict(self) -> dict[str, float | str | None]:
        return {"phase": self.state.phase, "standing_pitch_deg": self.state.standing_pitch_deg}

    def feed(self, ang: ThighAngles, sway_ap: FloatArray, sway_ml: FloatArray) -> list[Excursion]:
        columns = (ang.t_s, ang.pitch_deg, ang.roll_deg, ang.pitch_rate_dps, ang.impact_g, ang.height_m)
        data = np.empty((len(TRACE_FIELDS), len(ang.t_s)))  # rows as in TRACE_FIELDS
        for row, column in enumerate((*columns, sway_ap, sway_ml)):
            data[row] = column
        st, cfg = self.state, self.config
        if data.shape[1]:
            # from the chunk's first sample: a rep ending anywhere in it may look back that far (from
            # its last sample, a long chunk dropped the history the reps at its start needed); the
            # still sway before a rep looks back further than its standing angle does
            back_s = max(
                cfg.stand_lookback_s + cfg.stand_window_s, naming.STILL_PRE_S + naming.STILL_SMOOTH_S
            )
            keep_s = float(data[0, 0]) - (cfg.max_rep_s + back_s)
            st.history.remember(data[:3], keep_s)
        self.phase_changes = []
        if st.standing_pitch_deg is None and data.shape[1]:
            self._start(float(data[0, 0]), float(data[1, 0]))
        if data.shape[1] <= BLOCK:
            return self._feed(data)
        # bounded blocks keep every search short (the result does not depend on the blocking)
        out: list[Excursion] = []
        for s in range(0, data.shape[1], BLOCK):
            out += self._feed(data[:, s : s + BLOCK])
        return out

    def _start(self, t_s: float, pitch: float) -> None:
        """The first sample: standing, or (the thigh far from vertical: a session that starts
        seated) a hold until the athlete stands up, with vertical as the standing angle."""
        st, cfg = self.state, self.config
        if abs(pitch) <= cfg.stand_max_deg:
            st.standing_pitch_deg = pitch
            return
        st.standing_pitch_deg = 0.0
        st.hold_quiet_since_s = None
        st.seat_trace = None
        self._set_phase(t_s, "hold")

    # --- the phases: each step consumes the block from ``i`` and returns where to go on (None: the
    # block is used up). A step that changes the phase returns the sample it changed at.
    def _feed(self, data: FloatArray) -> list[Excursion]:
        out: list[Excursion] = []
        n = data.shape[1]
        blk = _Block(data, self.config)
        i: int | None = 0
        while i is not None and i < n:
            st = self.state
            assert st.standing_pitch_deg is not None
            blk.rebase(st.standing_pitch_deg)
            if st.phase == "standing":
                i = self._step_standing(blk, i) if st.armed else self._step_rearm(blk, i)
            elif st.phase in ("descent", "ascent"):
                i = self._step_excursion(blk, i, out)
            else:
                i = self._step_hold(blk, i)
        return out

    def _step_rearm(self, blk: _Block, i: int) -> int | None:
        """A rep ended above the standing band: wait until the thigh is truly back (or turns around
        slowly below where the last rep ended: a free leg between reps)."""
        st, cfg, data = self.state, self.config, blk.data
        near = blk.near()[i:]
        if st.rearm_deg > cfg.rep_start_deg:  # else inside the band already
            near = near | (blk.slow()[i:] & (blk.ad[i:] < st.rearm_deg))
        if st.parked and not st.stance:  # (a split stance is left only by an excursion from it)
            near = near | (np.abs(data[1, i:] - st.stand_deg) < cfg.rep_start_deg)
        upright = None
        if st.rearm_upright:  # quiet near vertical for standing_quiet_s
            calm = (np.abs(data[3, i:]) < cfg.quiet_dps) & (np.abs(data[1, i:]) < cfg.stand_max_deg)
            since = quiet_since_s(data[0, i:], calm, st.rearm_quiet_since_s)
            upright = calm & (data[0, i:] - since >= cfg.standing_quiet_s)
            near = near | upright
            st.rearm_quiet_since_s = still_going(since, calm)
        k = int(near.argmax())
        if not near[k]:
            return None
        if upright is not None and upright[k] and not blk.near()[i + k]:
            # standing up after the sit landed outside the old standing band (a seated start's
            # vertical is only as good as the seat's angle; without a gyroscope the tops of quick
            # stands read a few degrees off): the athlete stands here now
            st.standing_pitch_deg = float(data[1, i + k])
        st.rearm_upright = False
        if st.parked and not st.stance and abs(float(data[1, i + k]) - st.stand_deg) < cfg.rep_start_deg:
            self._unpark()
        if blk.slow()[i + k] and st.last_valid:
            st.settled_s = float(data[0, i + k])
        st.armed = True
        st.pause = _Trace()
        return i + k

    def _step_standing(self, blk: _Block, i: int) -> int | None:
        """Standing: note the pause (quiet moments, the lowest pitch, when the thigh settled) up to
        the first sample out of the standing band, where an excursion may start."""
        away = blk.away()[i:]
        k = int(away.argmax())
        started = bool(away[k])
        stop = k if started else blk.data.shape[1] - i
        self._note_pause(blk, i, stop)
        if not started:
            return None
        return self._leave_standing(blk, i + stop)

    def _note_pause(self, blk: _Block, i: int, stop: int) -> None:
        """Quiet standing (close to the standing angle and still for a while) in ``[i, i + stop)``."""
        st, data, t = self.state, blk.data, blk.data[0]
        quiet = blk.rest()[i : i + stop]
        last_q = self._last_quiet_standing(t[i : i + stop], quiet)
        # the pause is counted from its first quiet sample (not the way back from the last move)
        # (its running minimum is read at two samples only: one min each, from where it counts)
        low = st.pause_low_deg
        k0 = 0
        if not np.isfinite(low) and stop:
            k0 = int(quiet.argmax())
            k0 = k0 if quiet[k0] else stop
        if stop > k0:
            st.pause_low_deg = float(np.minimum(data[1, i + k0 : i + stop].min(), low))
        if stop:
            slow = blk.slow()[i + stop - 1 : (i - 1 if i else None) : -1]  # backwards
            k = int(slow.argmax())
            if slow[k]:
                st.settled_s = float(t[i + stop - 1 - k])
        if last_q >= 0:
            st.stood = True
            st.quiet_pitch_deg = float(data[1, i + last_q])
            st.quiet_low_deg = float(np.minimum(data[1, i + k0 : i + last_q + 1].min(), low))
            st.pause = _Trace()
            st.pause.add(data[:, i + last_q : i + stop])
        else:
            st.pause.add(data[:, i : i + stop])

    def _leave_standing(self, blk: _Block, i: int) -> int:
        """The thigh left the standing band at ``i``. The standing angle is re-learnt from the last
        quiet moment before each rep; before a flexion away from vertical, only if it is near the
        lowest pitch of the pause up to that moment: else that moment was the slow start of this
        rep (a slow, shallow hinge or squat is quiet on its way down), not standing. Being near
        the old standing angle, or held there a while, is no proof: slow reps moved the angle a
        little further each time (a ratchet), and a slow start with sway holds within 3 deg for
        half a second. (A free leg that swings back may rest behind vertical: backward reps learn
        it.)"""
        st, cfg, data = self.state, self.config, blk.data
        base = st.standing_pitch_deg
        assert base is not None
        if st.quiet_pitch_deg is not None:
            quiet_pitch, st.quiet_pitch_deg = st.quiet_pitch_deg, None
            slow_start = (
                blk.d[i] > 0
                and abs(quiet_pitch) > abs(base)  # away from vertical (pitch 0)
                and quiet_pitch - st.quiet_low_deg > cfg.rebase_upright_deg
            )
            if not slow_start:
                st.standing_pitch_deg = quiet_pitch
                if abs(data[1, i] - quiet_pitch) <= cfg.rep_start_deg:
                    return i  # still standing, as the new standing angle sees it
        pending = st.pending_rise
        if pending is not None and data[0, i] - pending.rep.t_end_s > cfg.rise_next_s:
            st.pending_rise = None  # the athlete stayed up: a stand-up, not a set from the chair
        st.pause_low_deg = np.inf
        st.trace = st.pause
        st.pause = _Trace()
        first = st.trace.parts[0] if st.trace.parts else data[:, i : i + 1]
        st.t_start_s = float(first[0, 0])
        # walking, running and stairs never stand still between swings
        st.from_standing = st.settled_s is not None and data[0, i] - st.settled_s <= cfg.pre_quiet_s
        st.stood_before, st.stood = st.stood, False
        st.peak_deg = 0.0
        self._set_phase(float(data[0, i]), "descent")
        return i

    def _step_excursion(self, blk: _Block, i: int, out: list[Excursion]) -> int | None:
        """Descent or ascent: find the first sample where the excursion ends (back up, too long), turns
        (descent to ascent), rebounds (a rep from a parked free leg) or a free leg parks."""
        st = self.state
        stops = self._stops(blk, i)
        k = int(stops.stop_at.argmax())  # the first stop, if stop_at[k]
        if self._may_park(blk, i):
            upto = k + 1 if stops.stop_at[k] else blk.data.shape[1] - i  # later samples wait
            k_park = self._find_park(blk.data[:, i : i + upto])
            if k_park is not None:
                stops.stop_at[k_park:] = False
                if not np.any(stops.stop_at):
                    return self._park(blk.data, i, k_park)
                k = int(stops.stop_at.argmax())
        if not stops.stop_at[k]:
            self._carry_excursion(blk, i, stops)
            return None
        j = i + k
        t_j = float(blk.data[0, j])
        if stops.stance_since is not None:
            self._carry_stance_quiet(stops.stance_since, k)
        turned = stops.turn is not None and bool(stops.turn[k])
        if st.parked and not (stops.ended[k] or turned):  # the free leg is back down
            if st.stance and not st.stance_confirmed:  # a leg swung back and forward again
                self._no_stance(blk.data, i, j)
                return j
            self._unpark()  # (a split stance: stepped out of it)
            st.trace = _Trace()
            self._set_phase(t_j, "standing")
            st.pause = _Trace()
            st.armed = True
            return j
        if stops.ended[k]:
            st.trace.add(blk.data[:, i : j + 1])
            if stops.too_long is not None and stops.too_long[k]:
                self._set_phase(t_j, "hold")
                st.hold_quiet_since_s = None
                st.seat_trace = self._seat_tail(st.trace.array())  # it may be rising already
                st.trace = _Trace()
                return j
            self._end_rep(t_j, float(stops.threshold[k]), out)
            return j
        st.trace.add(blk.data[:, i:j])
        if st.phase == "descent":
            st.peak_deg = float(stops.run_peak[k - 1]) if k else st.peak_deg
            st.trough_deg = np.inf
            self._set_phase(t_j, "ascent")
            return j
        if self._stepped_in(st.trace.array()):
            self._descend_again(t_j, float(blk.ad[j]))
        else:
            self._rebound(t_j, out)
        return j

    def _stops(self, blk: _Block, i: int) -> _Stops:
        st, cfg, t, ad = self.state, self.config, blk.data[0], blk.ad[i:]
        run_peak = np.maximum.accumulate(np.maximum(ad, st.peak_deg))
        threshold = np.maximum(cfg.rep_end_deg, cfg.rep_end_fraction * run_peak)
        ended = ad < threshold
        too_long = None
        if not blk.t_max() - st.t_start_s <= cfg.max_rep_s:  # (t - t_start) rises with t
            too_long = (t[i:] - st.t_start_s) > cfg.max_rep_s
            ended |= too_long
        trough = None
        if st.phase == "descent":
            turn: npt.NDArray[np.bool_] | None = (ad < 0.8 * run_peak) & (run_peak >= cfg.min_depth_deg)
        elif min(float(ad[0]), st.trough_deg) < cfg.rebound_min_deg:
            turn = None  # the running minimum below is already too low: no rebound in this block
        else:
            # a free leg parked in the air comes back only part of the way between reps
            trough = np.minimum.accumulate(np.minimum(ad, st.trough_deg))
            rise = np.maximum(cfg.rebound_deg, cfg.rebound_fraction * run_peak)
            turn = (ad > trough + rise) & (trough >= cfg.rebound_min_deg)
        stop_at = ended if turn is None else ended | turn
        stance_since = None
        if st.stance:
            stance_since, out_of_stance = self._stance_exit(blk, i)
            stop_at = stop_at | out_of_stance
        elif st.parked:
            back_to_standing = np.abs(blk.data[1, i:] - st.stand_deg) < cfg.rep_start_deg
            if turn is None:  # no rebound possible: back at standing, the parked leg's rep ends
                ended |= back_to_standing  # (stop_at is ended)
            else:  # else the free leg is just back down
                stop_at |= back_to_standing
        return _Stops(run_peak, threshold, ended, too_long, turn, trough, stop_at, stance_since)

    def _carry_stance_quiet(self, since: FloatArray, n: int) -> None:
        """The quiet run near the old standing angle going on after the first ``n`` samples."""
        if n:
            last = float(since[n - 1])
            self.state.stance_quiet_since_s = last if np.isfinite(last) else None

    def _stance_exit(self, blk: _Block, i: int) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Where an excursion from a split stance leaves it: before a rep from the stance came back
        to it, the thigh at or past the old standing angle (a leg swung back and forward again: no
        split stance); after one, quiet near the old standing angle for ``stance_exit_s`` (the feet
        together again: a split squat's bottom may pass near vertical, but does not stay there) or
        ``stance_exit_fwd_deg`` in front of it (stepping forward, walking off). Also returns the
        start of each sample's quiet run near the old standing angle (NaN: not quiet there)."""
        st, cfg, data = self.state, self.config, blk.data
        rel = data[1, i:] - st.stand_deg
        calm = (np.abs(rel) < cfg.rep_start_deg) & (np.abs(data[3, i:]) < cfg.quiet_dps)
        since = np.where(calm, quiet_since_s(data[0, i:], calm, st.stance_quiet_since_s), np.nan)
        if not st.stance_confirmed:  # where that swing, measured from standing, ends
            back = max(cfg.rep_end_deg, cfg.rep_end_fraction * st.stance_lead_peak_deg)
            return since, rel > -back
        out = (calm & (data[0, i:] - since >= cfg.stance_exit_s)) | (rel > cfg.stance_exit_fwd_deg)
        return since, out

    def _may_park(self, blk: _Block, i: int) -> bool:
        """Early in a descent that went far enough: the free leg may have been lifted and held."""
        st, cfg = self.state, self.config
        if st.parked or st.park_window_n <= 0:
            return False
        behind = bool(blk.d[i] < 0)
        if blk.data[0, i] - st.t_start_s > self._park_within_s(behind) + cfg.park_rise_s:
            return False
        if behind:  # a split stance: held behind, then flexing towards standing (any phase)
            if st.no_stance_s == st.t_start_s:  # (this excursion was found to be a swing already)
                return False
            return float(blk.d[i:].min()) < cfg.rep_start_deg - cfg.park_min_deg
        return st.phase == "descent" and float(blk.d[i:].max()) > cfg.park_min_deg + cfg.rep_start_deg

    def _park_within_s(self, behind: bool) -> float:
        """How soon after leaving standing a plateau must end: a free leg is lifted and held at
        once; a split stance may be reached after the step back and the first rep (whichever way
        the excursion went first decides, for the whole excursion)."""
        st, cfg = self.state, self.config
        if st.park_search.excursion_start_s == st.t_start_s:
            return st.park_search.within_s
        return cfg.stance_within_s if behind else cfg.park_within_s

    def _carry_excursion(self, blk: _Block, i: int, stops: _Stops) -> None:
        """No stop in the rest of the block: the excursion goes on into the next chunk."""
        st = self.state
        st.trace.add(blk.data[:, i:])
        st.peak_deg = float(stops.run_peak[-1])
        if stops.stance_since is not None:
            self._carry_stance_quiet(stops.stance_since, len(stops.stance_since))
        if st.phase == "ascent" and stops.trough is None:
            st.trough_deg = float(np.minimum(blk.ad[i:], st.trough_deg).min())
        elif st.phase == "ascent":
            assert stops.trough is not None
            st.trough_deg = float(stops.trough[-1])

    def _end_rep(self, t_event: float, threshold_deg: float, out: list[Excursion]) -> None:
        """Back up: the excursion is measured and judged; standing again."""
        st, cfg = self.state, self.config
        tr = st.trace.array()
        ex = self._finish(t_event, tr)
        rise, st.pending_rise = st.pending_rise, None
        if rise is not None and ex.reject_reason == "shallow":
            # a quiver as the athlete stops upright (without a gyroscope the accelerometer's pitch
            # rings for a moment there) is no rep after the rise: the rise still waits for one
            st.pending_rise, rise = rise, None
        if rise is not None and ex.valid and self._back_to_seat(ex, float(tr[1].max())):
            rise.t_event_s = t_event  # a rep at once after standing up: the rise was rep 1
            out.append(rise)
        out.append(ex)
        if ex.reject_reason == "hold":  # sat down a while: its way up may be rep 1 of a set
            st.pending_rise = self._rise_of(tr)
        st.rearm_upright, st.rearm_quiet_since_s = ex.reject_reason == "hold", None
        if st.stance:  # back at the split stance without standing in between: it is one
            st.stance_confirmed, st.stance_quiet_since_s = True, None
        st.last_valid = out[-1].valid
        # only a free leg swinging back may stay off vertical between reps
        backward = st.last_valid and out[-1].signed_depth_deg < 0
        st.rearm_deg = threshold_deg if backward else cfg.rep_start_deg
        st.trace = _Trace()
        self._set_phase(t_event, "standing")
        st.pause = _Trace()
        st.armed = not cfg.rearm_at_standing

    def _rebound(self, t_event: float, out: list[Excursion]) -> None:
        """A rebound: the rep ended at the lowest point since its peak; the next one starts there."""
        st = self.state
        tr = st.trace.array()
        dev = np.abs(tr[1] - st.standing_pitch_deg)
        kp = int(np.argmax(dev))
        kt = kp + int(np.argmin(dev[kp:]))
        finished = self._finish(t_event, tr[:, : kt + 1])
        out.append(finished)
        st.trace = _Trace()
        st.trace.add(tr[:, kt:])
        st.t_start_s = float(tr[0, kt])
        st.peak_deg = float(np.max(dev[kt:]))
        st.from_standing = finished.valid  # a chain of reps, not of strides
        st.stood_before = False
        self._set_phase(t_event, "descent")

    def _stepped_in(self, tr: FloatArray) -> bool:
        """Was the excursion so far a step: the sensor rose more than ``knee_lift_m`` on the way to
        the peak and the foot struck (a jolt of ``lunge_step_impact_g``)? A lunge steps forward
        (thigh up 40-50 deg), the foot lands and the thigh drops back 10-20 deg before the lunge
        itself flexes it to 80-90 deg: that dip is no rebound between two reps (a free leg in the
        air never strikes the floor)."""
        cfg = self.config
        if tr.shape[1] < 2:
            return False
        k = int(np.argmax(np.abs(tr[1] - self.state.standing_pitch_deg)))
        return (
            float(tr[5, : k + 1].max() - tr[5, 0]) > cfg.knee_lift_m
            and float(tr[4].max()) >= cfg.lunge_step_impact_g
        )

    def _descend_again(self, t_event: float, now_deg: float) -> None:
        """The thigh flexes again after a step's foot strike: the same excursion goes on down."""
        st = self.state
        st.peak_deg = now_deg
        st.trough_deg = np.inf
        self._set_phase(t_event, "descent")

    def _step_hold(self, blk: _Block, i: int) -> int | None:
        """Hold (sitting, a plank, a free leg parked somewhere): wait for a quiet moment back in the
        standing band, or quiet for ``rebase_s`` near vertical, or (after a still moment on a seat)
        the thigh turning around near vertical: standing up from the seat, which may be the first
        rep of a set from a chair (:meth:`_rise`). Then re-learn the standing angle."""
        st, cfg, data, t = self.state, self.config, blk.data, blk.data[0]
        quiet = np.abs(data[3, i:]) < cfg.quiet_dps
        back = blk.ad[i:] < cfg.rep_start_deg
        run_start = quiet_since_s(t[i:], quiet, st.hold_quiet_since_s)
        # ... but only near vertical: sitting or lying is no standing angle (pitch 0 is the
        # thigh axis of quiet standing, or of the calibration)
        upright = np.abs(data[1, i:]) < cfg.stand_max_deg
        settled = quiet & ((t[i:] - run_start) >= cfg.rebase_s) & upright
        seated = quiet & (data[1, i:] >= cfg.seat_min_deg) & (data[1, i:] <= cfg.max_thigh_pitch_deg)
        seen = np.logical_or.accumulate(seated) | (st.seat_trace is not None)
        done = np.flatnonzero(settled | (back & quiet) | (quiet & upright & seen))
        last_seat = np.flatnonzero(seated[: int(done[0]) + 1] if done.size else seated)
        k0 = i
        if last_seat.size:  # samples since the last still seated one: a rise may start there
            st.seat_trace = _Trace()
            k0 = i + int(last_seat[-1])
        if not done.size:
            st.hold_quiet_since_s = still_going(run_start, quiet)
            if st.seat_trace is not None:
                st.seat_trace.add(data[:, k0:])
                if st.seat_trace.n and t[-1] - st.seat_trace.parts[0][0, 0] > cfg.rise_max_s:
                    st.seat_trace = None  # no quick rise from the seat (yet)
            return None
        j = i + int(done[0])
        if st.seat_trace is not None:
            st.seat_trace.add(data[:, k0 : j + 1])
            st.pending_rise = self._rise(st.seat_trace.array())
        st.seat_trace = None
        self._unpark()
        st.standing_pitch_deg = float(data[1, j])
        st.hold_quiet_since_s = None
        st.stood = True
        st.settled_s = float(t[j])
        self._set_phase(float(t[j]), "standing")
        st.pause = _Trace()
        return j

    def _back_to_seat(self, ex: Excursion, bottom_deg: float) -> bool:
        """The rep after a rise went back down to the seat: the thigh's bottom is the seat's pitch
        (stepping up after standing up lifts the knee less high). The sensor's height is no
        help here: its leaky estimate is still settling from the rise."""
        return abs(bottom_deg - self.state.pending_seat_deg) <= self.config.seat_match_deg

    def _seat_tail(self, tr: FloatArray) -> _Trace | None:
        """The samples of ``tr`` from its last still seated one (None: it has none)."""
        cfg = self.config
        seated = (np.abs(tr[3]) < cfg.quiet_dps) & (tr[1] >= cfg.seat_min_deg)
        k = np.flatnonzero(seated)
        if not k.size:
            return None
        tail = _Trace()
        tail.add(tr[:, int(k[-1]) :])
        return tail

    def _rise_of(self, tr: FloatArray) -> Excursion | None:
        """The way up of an excursion that sat down a while: from its last still seated sample."""
        tail = self._seat_tail(tr)
        return None if tail is None else self._rise(tail.array())

    def _rise(self, tr: FloatArray) -> Excursion | None:
        """Standing up from a seat (``tr``: from the last still seated sample to standing): a
        candidate first rep of a set from a chair, counted only if a rep follows at once
        (:meth:`_end_rep`); None when it is too shallow or too slow for one."""
        cfg = self.config
        if tr.shape[1] < 2:
            return None
        t0, t1 = float(tr[0, 0]), float(tr[0, -1])
        depth = float(tr[1, 0] - tr[1, -1])
        if depth < cfg.seat_min_deg or t1 - t0 > cfg.rise_max_s:
            return None
        rep = Rep(
            n=0,
            t_start_s=round(t0, 4),
            t_bottom_s=round(t0, 4),
            t_end_s=round(t1, 4),
            depth_deg=round(depth, 2),
            descent_s=0.0,
            bottom_s=0.0,
            ascent_s=round(t1 - t0, 3),
            peak_velocity_dps=round(float(np.abs(tr[3]).max()), 1),
        )
        # measured as a squat's way down, run backwards: the sensor is lower at the bottom
        rise = float(tr[5, 0] - tr[5, -1])
        self.state.pending_seat_deg = float(tr[1, 0])
        return Excursion(rep, depth, rise, 0.0, float(tr[4].max()), _NO_SWAY, t1)

    # --- a free leg parked in the air ---------------------------------------------------------
    def _find_park(self, new: FloatArray) -> int | None:
        """Index in ``new`` where the thigh, held still off standing soon after leaving it, flexes
        again: a free leg parked in the air (depends only on the samples up to that index).

        Plateaus found in samples already in the trace are final and cached per excursion
        (:class:`ParkSearch`), so each call only looks at the new samples (and the window before)."""
        st, cfg = self.state, self.config
        base = st.standing_pitch_deg
        assert base is not None
        w = st.park_window_n
        n0 = st.trace.n
        # nothing after the rise deadline matters
        within_s = self._park_within_s(bool(new[1, 0] < base))
        cut = int(new[0].searchsorted(st.t_start_s + within_s + cfg.park_rise_s, "right"))
        if not cut:
            return None
        new = new[:, :cut]
        if st.park_search.excursion_start_s != st.t_start_s:
            st.park_search = ParkSearch(st.t_start_s, within_s=within_s)
        cache = st.park_search
        lead = min(n0, n0 - cache.scanned + w - 1)
        if cache.last_end < 0 and lead + cut < w:  # no plateau yet, and no window to look at
            if lead:
                cache.scanned = n0
            return None
        arr = np.concatenate([st.trace.tail(lead), new], axis=1) if lead else new
        off = n0 - lead  # trace index of arr[:, 0]
        m = arr.shape[1]
        t = arr[0]
        d = arr[1] - base
        plateau_ends = self._plateau_ends(t, d, max(w - 1, cache.scanned - off))
        if plateau_ends is None and cache.last_end < 0:  # still no plateau: nothing to find
            if lead:
                cache.scanned = n0
            return None
        last = np.full(m, -1)
        if cache.last_end >= 0:
            last[:] = cache.last_end  # trace index of the latest cached plateau end
        level = np.full(m, cache.level_deg)
        if plateau_ends is not None:
            marks = np.full(m, -1)
            marks[plateau_ends] = plateau_ends + off
            idx = np.maximum.accumulate(np.maximum(marks, last))
            new_level = d[np.clip(idx - off, 0, m - 1)]
            level = np.where(idx == last, level, new_level)
            last = idx
        # cache what is final: plateaus ending in samples already in the trace
        k_in = n0 - off - 1  # arr index of the last trace sample
        if k_in >= 0:
            cache.scanned = n0
            cache.last_end, cache.level_deg = int(last[k_in]), float(level[k_in])
        if last[-1] < 0:
            return None
        j0 = n0 - off  # arr index of new[:, 0]
        rise = np.flatnonzero((last[j0:] >= 0) & (d[j0:] - level[j0:] > cfg.rep_start_deg))
        rise = rise[t[j0 + rise] - st.t_start_s <= cache.within_s + cfg.park_rise_s]
        if not rise.size:
            return None
        k = int(rise[0])
        if float(np.max(new[4, : k + 1])) > cfg.park_max_impact_g or self._impact_before_park():
            return None  # a foot strike on the way: a lunge's step forward, not a lifted free leg
        st.park_at = int(last[j0 + k]) - n0  # plateau end, relative to ``new`` (may be negative)
        st.park_level_deg = float(base + level[j0 + k])
        return k

    def _plateau_ends(self, t: FloatArray, d: FloatArray, first_end: int) -> npt.NDArray[np.intp] | None:
        """Indices (from ``first_end`` on) where a ``park_s`` window of ``d`` (pitch from standing)
        ends that is a plateau: within ``park_band_deg``, between ``park_min_deg`` and
        ``park_max_deg``, not creeping, ending within ``park_within_s`` of the excursion's start."""
        st, cfg = self.state, self.config
        w = st.park_window_n
        last_end = int(
            t.searchsorted(st.t_start_s + st.park_search.within_s, "right")
        )  # plateaus end by then
        if last_end <= first_end or len(d) < w:
            return None
        # the windows ending at first_end..last_end-1 (sliding_window_view, without its overhead)
        x = d[first_end - w + 1 : last_end]
        step = x.strides[0]
        win = np.ndarray((last_end - first_end, w), x.dtype, x, 0, (step, step))
        hi, lo = win.max(axis=1), win.min(axis=1)
        # in front (a free leg held in the air) or behind (a split stance: the back leg)
        ahead = (lo >= cfg.park_min_deg) & (hi <= cfg.park_max_deg)
        behind = (hi <= -cfg.park_min_deg) & (lo >= -cfg.park_max_deg)
        plateau = (hi - lo < cfg.park_band_deg) & (ahead | behind)
        # held, not creeping: the slow start of the first rep is no plateau (it would set the
        # reference part of the way up that rep)
        plateau &= np.abs(win[:, -1] - win[:, 0]) < cfg.park_drift_deg
        if not plateau.any():
            return None
        return np.arange(first_end, last_end)[plateau]

    def _impact_before_park(self) -> bool:
        """Was there a foot strike since the excursion began?"""
        parts = self.state.trace.parts  # the max of each part: no concatenation of the whole trace
        return bool(parts) and max(float(p[4].max()) for p in parts) > self.config.park_max_impact_g

    def _park(self, data: FloatArray, i: int, k_park: int) -> int:
        """Re-base on the parked free leg: the excursion so far was the lift, not a rep."""
        st = self.state
        tr = np.concatenate([*st.trace.parts, data[:, i : i + k_park + 1]], axis=1)
        start = tr.shape[1] - (k_park + 1) + st.park_at
        st.parked = True
        assert st.standing_pitch_deg is not None
        st.stand_deg = st.standing_pitch_deg
        st.standing_pitch_deg = st.park_level_deg
        st.stance = st.park_level_deg < st.stand_deg  # held behind: a split stance
        st.stance_confirmed, st.stance_quiet_since_s = False, None
        st.stance_lead = None
        if st.stance:  # kept until a rep from the stance comes back to it
            st.stance_lead = _Trace()
            st.stance_lead.add(tr[:, :start])
            st.stance_t_start_s = st.t_start_s
            st.stance_lead_peak_deg = float(np.max(np.abs(tr[1] - st.stand_deg)))
            if st.phase != "descent":  # (the stance was reached on the way back from the step)
                self._set_phase(float(data[0, i + k_park]), "descent")
        st.trace = _Trace()
        st.trace.add(tr[:, start:])
        st.t_start_s = float(tr[0, start])
        st.peak_deg = float(np.max(np.abs(tr[1, start:] - st.standing_pitch_deg)))
        return i + k_park + 1

    def _unpark(self) -> None:
        st = self.state
        st.parked = st.stance = st.stance_confirmed = False
        st.stance_lead, st.stance_quiet_since_s = None, None
        st.standing_pitch_deg = st.stand_deg

    def _no_stance(self, data: FloatArray, i: int, j: int) -> None:
        """A leg held behind swung forward to standing before any rep came back to the stance: it
        was no split stance but a backward swing (a free leg's single-leg deadlift with a pause at
        the back). The excursion goes on from where it started, measured from standing again."""
        st = self.state
        st.trace.add(data[:, i:j])
        whole = _Trace()
        for part in (st.stance_lead.parts if st.stance_lead is not None else []) + st.trace.parts:
            whole.add(part)
        t_start = st.stance_t_start_s
        self._unpark()
        assert st.standing_pitch_deg is not None
        st.trace = whole
        st.t_start_s = st.no_stance_s = t_start
        st.peak_deg = float(np.max(np.abs(whole.array()[1] - st.standing_pitch_deg)))
        st.trough_deg = np.inf
        if st.phase != "ascent":
            self._set_phase(float(data[0, j]), "ascent")

    # --- standing: quiet moments and the standing angle around a rep ---------------------------
    def _last_quiet_standing(self, t: FloatArray, quiet: npt.NDArray[np.bool_]) -> int:
        """Index of the last quiet sample that has been quiet for ``standing_quiet_s`` (run carried),
        -1 if none."""
        st, cfg = self.state, self.config
        if not len(t):
            return -1
        if not quiet.any():  # the usual case between strides: no run goes on
            st.quiet_run_since_s = None
            return -1
        first = quiet_run_starts(quiet)
        since = st.quiet_run_since_s
        run_start = carried(t, first, t[0] if since is None else since)
        st.quiet_run_since_s = still_going(run_start, quiet)
        q = np.flatnonzero(quiet & (t - run_start >= cfg.standing_quiet_s))
        if not q.size:
            return -1
        return int(q[-1])

    def _standing_before(self, tr: FloatArray, k: int, depth: float) -> float:
        """The standing angle of the rep whose bottom is ``tr[:, k]``: the mean pitch of the last
        ``stand_window_s`` in which the thigh moved less than ``stand_range_deg`` (the pause before the
        rep, a free leg's pose), searched from ``stand_lookback_s`` before it left standing, within the
        rep's upper half; chained reps that turn around faster: the last half window as still; else
        the stillest window; else the standing angle.

        A continuous measure: the latched standing angle (re-learnt only after quiet moments, which
        chained reps seldom give) made depths jump by several degrees with tiny signal differences."""
        st, cfg = self.state, self.config
        base = st.standing_pitch_deg
        assert base is not None
        left = np.flatnonzero(np.abs(tr[1, : k + 1] - base) > cfg.rep_start_deg)
        t_from = float(tr[0, int(left[0]) if left.size else 0]) - cfg.stand_lookback_s - cfg.stand_window_s
        before = st.history.pitch_between(t_from, float(tr[0, 0]))
        p = np.concatenate([*before, tr[1, int(np.searchsorted(tr[0], t_from)) : k + 1]])
        bottom = float(tr[1, k])
        stillest: FloatArray | None = None
        for w in (st.stand_window_n, st.stand_window_n // 2):
            if w < 2 or p.size < w:
                continue
            # hi[j], lo[j]: the extremes of the window p[j : j + w]
            hi = kernels.running_max(p, w, (w - 1) // 2)[w - 1 :]
            lo = kernels.running_min(p, w, (w - 1) // 2)[w - 1 :]
            if bottom > base:  # the rep's upper half (not where a free leg was lifted from)
                upper = (hi < bottom - 0.5 * depth) & (lo > bottom - 1.5 * depth)
            else:
                upper = (lo > bottom + 0.5 * depth) & (hi < bottom + 1.5 * depth)
            still = np.flatnonzero(upper & (hi - lo < cfg.stand_range_deg))
            if still.size:
                j = int(still[-1])
                return float(np.mean(p[j : j + w]))
            if stillest is None and np.any(upper):
                cand = np.flatnonzero(upper)
                j = int(cand[np.argmin((hi - lo)[cand])])
                stillest = p[j : j + w]
        return base if stillest is None else float(np.mean(stillest))

    def _set_phase(self, t_s: float, phase: str) -> None:
        self.state.phase = phase
        self.phase_changes.append((t_s, phase))

    # --- a finished excursion: measured, then judged by the named rules ------------------------
    def _finish(self, t_event: float, tr: FloatArray) -> Excursion:
        st, cfg = self.state, self.config
        base = st.standing_pitch_deg
        assert base is not None
        t = tr[0]
        d = tr[1] - base
        ad = np.abs(d)
        k = int(ad.argmax())
        depth = float(ad[k])
        signed = float(d[k])
        t_start = float(t[0])
        # the end: where the thigh is back in the standing band, extrapolated at the current rate
        rate_end = abs(float(tr[3, -1]))
        t_end = t_event + min(0.4, float(ad[-1]) / max(rate_end, 30.0))
        after_s, st.excursion_end_s = st.excursion_end_s, t_end
        size = Candidate(depth, signed, t_end - t_start, gyro=self.gyro, stance=st.stance)
        if (depth < cfg.min_depth_deg and not repeatable_shallow(size, cfg)) or too_short(size, cfg):
            # most candidates (strides, fidgets) stop here: only what the size rules need
            quick = Rep(0, t_start, float(t[k]), t_end, depth, 0.0, 0.0, 0.0, 0.0)
            ex = Excursion(quick, signed, 0.0, 0.0, 0.0, _NO_SWAY, t_event, False)
            return self._judge(ex, size)
        band = ad >= depth - max(3.0, 0.1 * depth)
        # the bottom from the pause's most upright sample on: a pause with no quiet moment in it
        # begins where the last rep ended, on its way up, which for a shallow rep (under 10 deg)
        # lies in this band (two 10-deg hinges 0.6 s apart, swaying: one 4.7-s `hold`)
        left = np.flatnonzero(ad > cfg.rep_start_deg)
        band[: int(np.argmin(ad[: int(left[0]) + 1])) if left.size else 0] = False
        idx = np.flatnonzero(band)
        t_b0, t_b1 = float(t[idx[0]]), float(t[idx[-1]])
        # the depth a coach reads: from the standing angle around this rep, not the latched one (the
        # rules keep the latter: which movements are reps does not depend on this measure)
        rep_signed = float(tr[1, k]) - self._standing_before(tr, k, depth)
        rep = Rep(
            n=0,
            t_start_s=round(t_start, 4),
            t_bottom_s=round(float(t[k]), 4),
            t_end_s=round(t_end, 4),
            depth_deg=round(abs(rep_signed), 2),
            descent_s=round(t_b0 - t_start, 3),
            bottom_s=round(t_b1 - t_b0, 3),
            ascent_s=round(t_end - t_b1, 3),
            peak_velocity_dps=round(float(np.abs(tr[3]).max()), 1),
        )
        rise = float(tr[5, k] - tr[5, 0])
        drop = float(tr[5, : k + 1].max() - tr[5, k])
        ex = Excursion(
            rep,
            rep_signed,
            rise,
            drop,
            float(tr[4].max()),
            _NO_SWAY,
            t_event,
            parked=st.parked and not st.stance,  # (a split stance is no free leg)
            stance=st.stance,
        )
        ex.shallow = depth < cfg.min_depth_deg or t_end - t_start < cfg.min_rep_s
        ex.stood_before = st.stood_before
        if st.pending_rise is not None and abs(float(tr[1, k]) - st.pending_seat_deg) <= cfg.seat_match_deg:
            # straight back down to the seat it just rose from: the leaky height still carries
            # that rise (without a gyroscope it read as a knee lift), so it is no sign of a step
            rise = min(rise, 0.0)
        candidate = Candidate(
            depth_deg=depth,
            signed_depth_deg=signed,
            duration_s=t_end - t_start,
            bottom_s=rep.bottom_s,
            max_abs_pitch_deg=float(np.abs(tr[1]).max()),
            from_standing=st.from_standing,
            max_impact_g=ex.max_impact_g,
            parked=st.parked,
            rise_height_m=rise,
            drop_m=drop,
            stood_before=st.stood_before,
            gyro=self.gyro,
            stance=st.stance,
        )
        if self._judge(ex, candidate).valid:
            ex.sway = sway_stats(t, tr[6], tr[7])
            # the samples before the rep, since the last excursion and short of the rep's onset (its
            # first push may tilt the roll before the pitch moves: no smoothing reads it)
            t_from = max(t_start - naming.STILL_PRE_S - naming.STILL_SMOOTH_S, after_s)
            before = st.history.between(t_from, t_start - naming.STILL_ONSET_S)
            pre = np.concatenate(before, axis=1) if before else np.zeros((3, 0))
            still = naming.still_roll_stats(pre[0], pre[1], pre[2], base, t_start)
            ex.physics = rep_physics(t, tr[1], tr[2], tr[5], k, depth, cfg.height_tau_s, still)
        return ex

    def _judge(self, ex: Excursion, candidate: Candidate) -> Excursion:
        """Apply the rejection rules; log the reason of a rejection at debug level."""
        rule = first_rejection(candidate, self.config)
        if rule is None:
            ex.valid, ex.reject_reason = True, ""
            return ex
        ex.valid, ex.reject_reason = False, rule.name
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "candidate %.2f-%.2f s rejected: %s (%s; depth %.1f deg, %.2f s)",
                ex.rep.t_start_s,
                ex.rep.t_end_s,
                rule.name,
                rule.why,
                candidate.depth_deg,
                candidate.duration_s,
            )
        return ex
