"""Rep detection: standing -> descent -> bottom -> ascent -> standing, with hysteresis and gates.

The detector follows the thigh pitch relative to the athlete's own standing pitch. Leaving the
standing band by ``rep_start_deg`` starts an excursion; coming back below ``max(rep_end_deg,
rep_end_fraction * depth)`` ends it, and the rep is emitted on that very sample (the athlete is
all but upright; docs/pipeline.md gives the measured delay). An excursion becomes a rep only if it
passes the gates: deep and long enough, not too long (sitting down, holds), no heel strikes, and
not a knee lift (walking, running, stairs and step-ups raise the sensor while the thigh flexes;
squats, lunges and deadlifts lower it). Work is vectorised within a chunk: Python only loops over
the few transitions a chunk contains.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from tracker.events import Rep
from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.orientation import ThighAngles
from tracker.pipeline.wobble import SwayStats, sway_stats
from tracker.samples import FloatArray

BLOCK = 512
_NO_SWAY = SwayStats()  # immutable: shared by every excursion that gets no sway stats
TRACE_FIELDS = ("t", "pitch", "roll", "rate", "impact", "height", "sway_ap", "sway_ml")


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


class RepDetector:
    """Streaming rep detector over :class:`ThighAngles` (plus sway columns)."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.phase = "standing"  # standing | descent | ascent | hold
        self.base_deg: float | None = None
        self._pre = _Trace()  # samples since the last quiet standing sample
        self._trace = _Trace()
        self._peak = 0.0
        self._trough = np.inf
        self._rearm_deg = 0.0
        self._last_valid = False
        self._t_start = 0.0
        self._quiet_since: float | None = None
        self._armed = True
        self._quiet_pitch: float | None = None
        self._quiet_low = np.inf  # lowest pitch of the pause up to that quiet moment
        self._pause_low = np.inf  # lowest pitch of the pause so far (from its first quiet sample)
        self._settled_t: float | None = None
        self._run_since: float | None = None
        self._run_from = 0.0  # pitch where the current quiet run began
        self._quiet_held = False  # the last quiet moment ends a hold (long, not drifting)
        self._from_standing = True
        self._stood = False  # the thigh stood still (a quiet run near standing) since the last excursion ...
        self._stood_before = False  # ... and before the current one (stairs never stand still)
        self._parked = False  # reps are measured from a free leg held in the air ...
        self._stand_deg = 0.0  # ... and this is the standing pitch to come back to
        self.park_w = 0  # samples in ``park_s`` (set once the sample rate is known)
        self.stand_w = 0  # samples in ``stand_window_s`` (idem)
        self._recent: list[FloatArray] = []  # (t, pitch) of the last seconds, as fed ...
        self._recent_t: list[float] = []  # ... the first time of each part ...
        self._recent_from = 0  # ... and the first part still needed
        self._park_at = 0
        self._park_level = 0.0
        self._pk_key: float | None = None  # excursion whose plateaus are cached (its start time)
        self._pk_scanned = 0  # trace samples whose plateau windows are done
        self._pk_last = -1  # trace index of the latest plateau end (-1: none)
        self._pk_level = 0.0  # its pitch relative to the standing angle
        self.phase_changes: list[tuple[float, str]] = []

    def feed(self, ang: ThighAngles, sway_ap: FloatArray, sway_ml: FloatArray) -> list[Excursion]:
        columns = (ang.t_s, ang.pitch_deg, ang.roll_deg, ang.pitch_rate_dps, ang.impact_g, ang.height_m)
        data = np.empty((len(TRACE_FIELDS), len(ang.t_s)))  # rows as in TRACE_FIELDS
        for row, column in enumerate((*columns, sway_ap, sway_ml)):
            data[row] = column
        if self.base_deg is None:
            self.base_deg = float(ang.pitch_deg[0])
        self._remember(data[:2])
        self.phase_changes = []
        if data.shape[1] <= BLOCK:
            return self._feed(data)
        # bounded blocks keep every search short (the result does not depend on the blocking)
        out: list[Excursion] = []
        for s in range(0, data.shape[1], BLOCK):
            out += self._feed(data[:, s : s + BLOCK])
        return out

    def _feed(self, data: FloatArray) -> list[Excursion]:
        cfg = self.config
        assert self.base_deg is not None
        out: list[Excursion] = []
        n = data.shape[1]
        i = 0
        t = data[0]
        blk = _Block(data, cfg)
        while i < n:
            blk.rebase(self.base_deg)
            d = blk.d[i:]
            ad = blk.ad[i:]
            if self.phase == "standing" and not self._armed:
                # a rep ends above the standing band: wait until the thigh is truly back
                # (or turns around slowly below where the last rep ended: a free leg between reps)
                near = blk.near()[i:]
                if self._rearm_deg > cfg.rep_start_deg:  # else inside the band already
                    near = near | (blk.slow()[i:] & (ad < self._rearm_deg))
                if self._parked:
                    near = near | (np.abs(data[1, i:] - self._stand_deg) < cfg.rep_start_deg)
                k = int(near.argmax())
                if not near[k]:
                    break
                if self._parked and abs(float(data[1, i + k]) - self._stand_deg) < cfg.rep_start_deg:
                    self._unpark()
                if blk.slow()[i + k] and self._last_valid:
                    self._settled_t = float(t[i + k])
                self._armed = True
                self._pre = _Trace()
                i += k
                continue
            if self.phase == "standing":
                away = blk.away()[i:]
                k = int(away.argmax())
                started = bool(away[k])
                stop = k if started else n - i
                # quiet standing: close to the standing angle and still for a while
                quiet = blk.rest()[i : i + stop]
                last_q = self._quiet_runs(t[i : i + stop], quiet, data[1, i : i + stop])
                # the pause is counted from its first quiet sample (not the way back from the last move)
                # (its running minimum is read at two samples only: one min each, from where it counts)
                low = self._pause_low
                k0 = 0
                if not np.isfinite(low) and stop:
                    k0 = int(quiet.argmax())
                    k0 = k0 if quiet[k0] else stop
                if stop > k0:
                    self._pause_low = float(np.minimum(data[1, i + k0 : i + stop].min(), low))
                if stop:
                    slow = blk.slow()[i + stop - 1 : (i - 1 if i else None) : -1]  # backwards
                    k = int(slow.argmax())
                    if slow[k]:
                        self._settled_t = float(t[i + stop - 1 - k])
                if last_q >= 0:
                    self._stood = True
                    self._quiet_pitch = float(data[1, i + last_q])
                    self._quiet_low = float(np.minimum(data[1, i + k0 : i + last_q + 1].min(), low))
                    self._pre = _Trace()
                    self._pre.add(data[:, i + last_q : i + stop])
                else:
                    self._pre.add(data[:, i : i + stop])
                if not started:
                    break
                i += stop
                # the standing angle is re-learnt from the last quiet moment before each rep; before
                # a flexion, only if it is near the old one, near the lowest pitch of the pause or held
                # there: else that moment was the slow start of this rep (a slow, shallow hinge is
                # quiet on its way down), not standing
                # (a free leg that swings back may rest behind vertical: backward reps learn it)
                if self._quiet_pitch is not None:
                    quiet_pitch, self._quiet_pitch = self._quiet_pitch, None
                    slow_start = (
                        d[stop] > 0
                        and abs(quiet_pitch) > abs(self.base_deg)  # away from vertical (pitch 0)
                        and quiet_pitch - self.base_deg > cfg.rebase_upright_deg
                        and quiet_pitch - self._quiet_low > cfg.rebase_upright_deg
                        and not self._quiet_held
                    )
                    if not slow_start:
                        self.base_deg = quiet_pitch
                        if abs(data[1, i] - quiet_pitch) <= cfg.rep_start_deg:
                            continue  # still standing, as the new standing angle sees it
                self._pause_low = np.inf
                self._trace = self._pre
                self._pre = _Trace()
                first = self._trace.parts[0] if self._trace.parts else data[:, i : i + 1]
                self._t_start = float(first[0, 0])
                # walking, running and stairs never stand still between swings
                self._from_standing = (
                    self._settled_t is not None and t[i] - self._settled_t <= cfg.pre_quiet_s
                )
                self._stood_before, self._stood = self._stood, False
                self._peak = 0.0
                self._set_phase(float(t[i]), "descent")
                continue
            if self.phase in ("descent", "ascent"):
                run_peak = np.maximum.accumulate(np.maximum(ad, self._peak))
                thr = np.maximum(cfg.rep_end_deg, cfg.rep_end_fraction * run_peak)
                ended = ad < thr
                too_long = None
                if not blk.t_max() - self._t_start <= cfg.max_rep_s:  # (t - t_start) rises with t
                    too_long = (t[i:] - self._t_start) > cfg.max_rep_s
                    ended |= too_long
                if self.phase == "descent":
                    turn = (ad < 0.8 * run_peak) & (run_peak >= cfg.min_depth_deg)
                elif min(float(ad[0]), self._trough) < cfg.rebound_min_deg:
                    # the running minimum below is already too low: no rebound in this block
                    turn = None
                else:
                    # a free leg parked in the air comes back only part of the way between reps
                    trough = np.minimum.accumulate(np.minimum(ad, self._trough))
                    rise = np.maximum(cfg.rebound_deg, cfg.rebound_fraction * run_peak)
                    turn = (ad > trough + rise) & (trough >= cfg.rebound_min_deg)
                stop_at = ended if turn is None else ended | turn
                if self._parked:
                    stop_at |= np.abs(data[1, i:] - self._stand_deg) < cfg.rep_start_deg
                k = int(stop_at.argmax())  # the first stop, if stop_at[k]
                if (
                    not self._parked
                    and self.park_w
                    and self.phase == "descent"
                    and t[i] - self._t_start <= cfg.park_within_s + cfg.park_rise_s
                    and float(d.max()) > cfg.park_min_deg + cfg.rep_start_deg
                ):
                    upto = k + 1 if stop_at[k] else n - i  # later samples wait
                    k_park = self._find_park(data[:, i : i + upto])
                    if k_park is not None:
                        stop_at[k_park:] = False
                        if not np.any(stop_at):
                            i = self._park(data, i, k_park)
                            if self.phase != "descent":
                                self._set_phase(float(t[i - 1]), "descent")
                            continue
                        k = int(stop_at.argmax())
                if not stop_at[k]:
                    self._trace.add(data[:, i:])
                    self._peak = float(run_peak[-1])
                    if self.phase == "ascent" and turn is None:
                        self._trough = float(np.minimum(ad, self._trough).min())
                    elif self.phase == "ascent":
                        self._trough = float(trough[-1])
                    break
                j = i + k
                back_down = not (ended[k] or (turn is not None and turn[k]))
                if self._parked and back_down:  # the free leg is back down
                    self._unpark()
                    self._trace = _Trace()
                    self._set_phase(float(t[j]), "standing")
                    self._pre = _Trace()
                    self._armed = True
                    i = j
                    continue
                if ended[k]:
                    self._trace.add(data[:, i : j + 1])
                    if too_long is not None and too_long[k]:
                        self._set_phase(float(t[j]), "hold")
                        self._quiet_since = None
                        self._trace = _Trace()
                        i = j
                        continue
                    out.append(self._finish(float(t[j]), self._trace.array()))
                    self._last_valid = out[-1].valid
                    # only a free leg swinging back may stay off vertical between reps
                    backward = self._last_valid and out[-1].signed_depth_deg < 0
                    self._rearm_deg = float(thr[k]) if backward else cfg.rep_start_deg
                    self._trace = _Trace()
                    self._set_phase(float(t[j]), "standing")
                    self._pre = _Trace()
                    self._armed = not cfg.rearm_at_standing
                    i = j
                    continue
                self._trace.add(data[:, i:j])
                if self.phase == "descent":
                    self._peak = float(run_peak[k - 1]) if k else self._peak
                    self._trough = np.inf
                    self._set_phase(float(t[j]), "ascent")
                    i = j
                    continue
                # rebound: the rep ended at the lowest point since its peak; the next one starts there
                tr = self._trace.array()
                dev = np.abs(tr[1] - self.base_deg)
                kp = int(np.argmax(dev))
                kt = kp + int(np.argmin(dev[kp:]))
                finished = self._finish(float(t[j]), tr[:, : kt + 1])
                out.append(finished)
                self._trace = _Trace()
                self._trace.add(tr[:, kt:])
                self._t_start = float(tr[0, kt])
                self._peak = float(np.max(dev[kt:]))
                self._from_standing = finished.valid  # a chain of reps, not of strides
                self._stood_before = False
                self._set_phase(float(t[j]), "descent")
                i = j
                continue
            # hold: sitting, a plank, a free leg parked somewhere: wait for quiet, then re-learn
            quiet = np.abs(data[3, i:]) < cfg.quiet_dps
            back = ad < cfg.rep_start_deg
            m = len(ad)
            last_break = np.maximum.accumulate(np.where(quiet, -1, np.arange(m)))
            carried = t[i] if self._quiet_since is None else self._quiet_since
            run_start = np.where(last_break >= 0, t[i + np.minimum(last_break + 1, m - 1)], carried)
            # ... but only near vertical: sitting or lying is no standing angle (pitch 0 is the
            # thigh axis of quiet standing, or of the calibration)
            upright = np.abs(data[1, i:]) < cfg.stand_max_deg
            settled = quiet & ((t[i:] - run_start) >= cfg.rebase_s) & upright
            done = np.flatnonzero(settled | (back & quiet))
            if not done.size:
                self._quiet_since = float(run_start[-1]) if quiet[-1] else None
                break
            j = i + int(done[0])
            self.base_deg = float(data[1, j])
            self._parked = False
            self._quiet_since = None
            self._stood = True
            self._set_phase(float(t[j]), "standing")
            self._pre = _Trace()
            i = j
        return out

    def _find_park(self, new: FloatArray) -> int | None:
        """Index in ``new`` where the thigh, held still off standing soon after leaving it, flexes
        again: a free leg parked in the air (depends only on the samples up to that index).

        Plateaus found in samples already in the trace are final and cached per excursion, so each
        call only looks at the new samples (and the window before them)."""
        cfg = self.config
        assert self.base_deg is not None
        w = self.park_w
        n0 = self._trace.n
        # nothing after the rise deadline matters
        cut = int(new[0].searchsorted(self._t_start + cfg.park_within_s + cfg.park_rise_s, "right"))
        if not cut:
            return None
        new = new[:, :cut]
        if self._pk_key != self._t_start:
            self._pk_key, self._pk_scanned, self._pk_last, self._pk_level = self._t_start, 0, -1, 0.0
        lead = min(n0, n0 - self._pk_scanned + w - 1)
        if self._pk_last < 0 and lead + cut < w:  # no plateau yet, and no window to look at
            if lead:
                self._pk_scanned = n0
            return None
        arr = np.concatenate([self._trace.tail(lead), new], axis=1) if lead else new
        off = n0 - lead  # trace index of arr[:, 0]
        m = arr.shape[1]
        t = arr[0]
        d = arr[1] - self.base_deg
        first_end = max(w - 1, self._pk_scanned - off)
        last_end = int(t.searchsorted(self._t_start + cfg.park_within_s, "right"))  # plateaus end by then
        plateau = None
        if last_end > first_end and m >= w:
            # the windows ending at first_end..last_end-1 (sliding_window_view, without its overhead)
            x = d[first_end - w + 1 : last_end]
            step = x.strides[0]
            win = np.ndarray((last_end - first_end, w), x.dtype, x, 0, (step, step))
            hi, lo = win.max(axis=1), win.min(axis=1)
            plateau = (hi - lo < cfg.park_band_deg) & (lo >= cfg.park_min_deg) & (hi <= cfg.park_max_deg)
            # held, not creeping: the slow start of the first rep is no plateau (it would set the
            # reference part of the way up that rep)
            plateau &= np.abs(win[:, -1] - win[:, 0]) < cfg.park_drift_deg
            if not plateau.any():
                plateau = None
        if plateau is None and self._pk_last < 0:  # still no plateau: nothing to find
            if lead:
                self._pk_scanned = n0
            return None
        last = np.full(m, -1)
        if self._pk_last >= 0:
            last[:] = self._pk_last  # trace index of the latest cached plateau end
        level = np.full(m, self._pk_level)
        if plateau is not None:
            end = np.arange(first_end, last_end)
            marks = np.full(m, -1)
            marks[end[plateau]] = end[plateau] + off
            idx = np.maximum.accumulate(np.maximum(marks, last))
            new_level = d[np.clip(idx - off, 0, m - 1)]
            level = np.where(idx == last, level, new_level)
            last = idx
        # cache what is final: plateaus ending in samples already in the trace
        k_in = n0 - off - 1  # arr index of the last trace sample
        if k_in >= 0:
            self._pk_scanned = n0
            self._pk_last, self._pk_level = int(last[k_in]), float(level[k_in])
        if last[-1] < 0:
            return None
        j0 = n0 - off  # arr index of new[:, 0]
        rise = np.flatnonzero((last[j0:] >= 0) & (d[j0:] - level[j0:] > cfg.rep_start_deg))
        rise = rise[t[j0 + rise] - self._t_start <= cfg.park_within_s + cfg.park_rise_s]
        if not rise.size:
            return None
        k = int(rise[0])
        if float(np.max(new[4, : k + 1])) > cfg.park_max_impact_g or self._impact_before_park():
            return None  # a foot strike on the way: a lunge's step forward, not a lifted free leg
        self._park_at = int(last[j0 + k]) - n0  # plateau end, relative to ``new`` (may be negative)
        self._park_level = float(self.base_deg + level[j0 + k])
        return k

    def _impact_before_park(self) -> bool:
        """Was there a foot strike since the excursion began?"""
        parts = self._trace.parts  # the max of each part: no concatenation of the whole trace
        return bool(parts) and max(float(p[4].max()) for p in parts) > self.config.park_max_impact_g

    def _park(self, data: FloatArray, i: int, k_park: int) -> int:
        """Re-base on the parked free leg: the excursion so far was the lift, not a rep."""
        tr = np.concatenate([*self._trace.parts, data[:, i : i + k_park + 1]], axis=1)
        start = tr.shape[1] - (k_park + 1) + self._park_at
        self._parked = True
        assert self.base_deg is not None
        self._stand_deg = self.base_deg
        self.base_deg = self._park_level
        self._trace = _Trace()
        self._trace.add(tr[:, start:])
        self._t_start = float(tr[0, start])
        self._peak = float(np.max(np.abs(tr[1, start:] - self.base_deg)))
        return i + k_park + 1

    def _unpark(self) -> None:
        self._parked = False
        self.base_deg = self._stand_deg

    def _quiet_runs(self, t: FloatArray, quiet: npt.NDArray[np.bool_], pitch: FloatArray) -> int:
        """Index of the last quiet sample that has been quiet for ``standing_quiet_s`` (run carried),
        -1 if none; notes whether it ends a hold (quiet for ``rebase_hold_s`` without drifting)."""
        m = len(t)
        if not m:
            return -1
        if not quiet.any():  # the usual case between strides: no run goes on
            self._run_since = None
            self._run_from = float(pitch[-1])
            return -1
        last_break = np.maximum.accumulate(np.where(quiet, -1, np.arange(m)))
        first = np.minimum(last_break + 1, m - 1)
        carried = t[0] if self._run_since is None else self._run_since
        run_start = np.where(last_break >= 0, t[first], carried)
        run_from = np.where(
            last_break >= 0, pitch[first], pitch[0] if self._run_since is None else self._run_from
        )
        self._run_since = float(run_start[-1]) if quiet[-1] else None
        self._run_from = float(run_from[-1])
        q = np.flatnonzero(quiet & (t - run_start >= self.config.standing_quiet_s))
        if not q.size:
            return -1
        k = int(q[-1])
        self._quiet_held = bool(
            t[k] - run_start[k] >= self.config.rebase_hold_s
            and abs(pitch[k] - run_from[k]) <= self.config.rebase_upright_deg
        )
        return k

    def _remember(self, tp: FloatArray) -> None:
        """Keep the last seconds of (t, pitch): the still moment a rep started from may precede its trace.
        (A list of the parts as fed: a live packet costs a copy and an append; stale parts are dropped
        in bulk.)"""
        if not tp.shape[1]:
            return
        cfg = self.config
        self._recent.append(tp.copy())  # not a view: it would keep the whole chunk alive
        self._recent_t.append(float(tp[0, 0]))
        # from the chunk's first sample: a rep ending anywhere in it may look back that far (from
        # its last sample, a long chunk dropped the history the reps at its start needed)
        keep = float(tp[0, 0]) - (cfg.max_rep_s + cfg.stand_lookback_s + cfg.stand_window_s)
        i, t_parts = self._recent_from, self._recent_t
        while i + 1 < len(t_parts) and t_parts[i + 1] <= keep:
            i += 1
        if i > len(t_parts) // 2:
            del self._recent[:i], t_parts[:i]
            i = 0
        self._recent_from = i

    def _standing_before(self, tr: FloatArray, k: int, depth: float) -> float:
        """The standing angle of the rep whose bottom is ``tr[:, k]``: the mean pitch of the last
        ``stand_window_s`` in which the thigh moved less than ``stand_range_deg`` (the pause before the
        rep, a free leg's pose), searched from ``stand_lookback_s`` before it left standing, within the
        rep's upper half; chained reps that turn around faster: the last half window as still; else
        the stillest window; else the standing angle.

        A continuous measure: the latched standing angle (re-learnt only after quiet moments, which
        chained reps seldom give) made depths jump by several degrees with tiny signal differences."""
        cfg = self.config
        assert self.base_deg is not None
        left = np.flatnonzero(np.abs(tr[1, : k + 1] - self.base_deg) > cfg.rep_start_deg)
        t_from = float(tr[0, int(left[0]) if left.size else 0]) - cfg.stand_lookback_s - cfg.stand_window_s
        t0 = float(tr[0, 0])
        first = max(self._recent_from, bisect_right(self._recent_t, t_from) - 1)
        parts = self._recent[first : bisect_left(self._recent_t, t0)]
        if parts:  # only the first and the last part reach outside [t_from, t0)
            parts[0] = parts[0][:, int(np.searchsorted(parts[0][0], t_from)) :]
            parts[-1] = parts[-1][:, : int(np.searchsorted(parts[-1][0], t0))]
        p = np.concatenate([*(part[1] for part in parts), tr[1, int(np.searchsorted(tr[0], t_from)) : k + 1]])
        bottom = float(tr[1, k])
        stillest: FloatArray | None = None
        for w in (self.stand_w, self.stand_w // 2):
            if w < 2 or p.size < w:
                continue
            # hi[j], lo[j]: the extremes of the window p[j : j + w]
            hi = maximum_filter1d(p, w, origin=(w - 1) // 2)[w - 1 :]
            lo = minimum_filter1d(p, w, origin=(w - 1) // 2)[w - 1 :]
            if bottom > self.base_deg:  # the rep's upper half (not where a free leg was lifted from)
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
        return self.base_deg if stillest is None else float(np.mean(stillest))

    def _set_phase(self, t_s: float, phase: str) -> None:
        self.phase = phase
        self.phase_changes.append((t_s, phase))

    def _finish(self, t_event: float, tr: FloatArray) -> Excursion:
        cfg = self.config
        assert self.base_deg is not None
        t = tr[0]
        d = tr[1] - self.base_deg
        ad = np.abs(d)
        k = int(ad.argmax())
        depth = float(ad[k])
        signed = float(d[k])
        t_start = float(t[0])
        # the end: where the thigh is back in the standing band, extrapolated at the current rate
        rate_end = abs(float(tr[3, -1]))
        t_end = t_event + min(0.4, float(ad[-1]) / max(rate_end, 30.0))
        if depth < cfg.min_depth_deg or t_end - t_start < cfg.min_rep_s:
            # most candidates (strides, fidgets) stop here: only what the gates need
            quick = Rep(0, t_start, float(t[k]), t_end, depth, 0.0, 0.0, 0.0, 0.0)
            reason = "shallow" if depth < cfg.min_depth_deg else "short"
            return Excursion(quick, signed, 0.0, 0.0, 0.0, _NO_SWAY, t_event, False, reason)
        band = ad >= depth - max(3.0, 0.1 * depth)
        idx = np.flatnonzero(band)
        t_b0, t_b1 = float(t[idx[0]]), float(t[idx[-1]])
        rise = float(tr[5, k] - tr[5, 0])
        drop = float(tr[5, : k + 1].max() - tr[5, k])
        # the depth a coach reads: from the standing angle around this rep, not the latched one (the
        # gates below keep the latter: which movements are reps does not depend on this measure)
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
        ex = Excursion(
            rep=rep,
            signed_depth_deg=rep_signed,
            rise_height_m=rise,
            drop_m=drop,
            max_impact_g=float(tr[4].max()),
            sway=_NO_SWAY,
            t_event_s=t_event,
            parked=self._parked,
        )
        reason = ""
        if depth < cfg.min_depth_deg:
            reason = "shallow"
        elif t_end - t_start < cfg.min_rep_s:
            reason = "short"
        elif rep.bottom_s > cfg.max_bottom_s:
            reason = "hold"
        elif float(np.abs(tr[1]).max()) > cfg.max_thigh_pitch_deg:
            reason = "not_upright"  # lying or kneeling: crunches, bicycles, planks are no squats"
        elif not self._from_standing:
            reason = "not_from_standing"
        elif ex.max_impact_g > cfg.max_impact_g:
            reason = "impact"
        elif signed < 0 and self._parked:
            reason = "below_parked_leg"  # a parked free leg sagging and lifted back: no rep
        elif signed < 0 and depth < cfg.min_extension_deg:
            reason = "shallow_extension"
        elif signed > 0 and rise > cfg.knee_lift_m and t_end - t_start < cfg.knee_lift_max_s:
            # the sensor rose quickly while the thigh flexed: a step. A lunge's step then lowers it,
            # and starts from standing still; stairs strides (some dip a few cm at the top of the
            # knee lift too) follow each other without a pause (docs/pipeline.md)
            if drop < cfg.knee_lift_m:
                reason = "knee_lift"
            elif not self._stood_before:
                reason = "stride"
        if reason:
            ex.valid = False
            ex.reject_reason = reason
        else:
            ex.sway = sway_stats(t, tr[6], tr[7])
        return ex

    def state_dict(self) -> dict[str, float | str | None]:
        return {"phase": self.phase, "standing_pitch_deg": self.base_deg}
