"""Find how the sensor sits on the thigh when nobody calibrated it.

The thigh axis (z, knee to hip) is the direction of gravity during the first quiet standing;
the sagittal plane is the plane of the first movements: its normal (y, to the person's left) is
the principal axis of the angular rate out of the thigh axis, and the sign is chosen so that the
thigh first tilts forward (flexion), which is what squats, single-leg squats, deadlifts and
walking all start with. Every decision is taken at one sample, from running sums carried from
chunk to chunk, so the result does not depend on how the stream was cut into chunks.

A session may start seated (a chair-stand set, box squats): then the first still moment is the
thigh lying horizontal, and the first movement is standing up. That movement is followed to its
end before the mounting is decided: when it turned the thigh ``seat_tilt_deg`` or more while the
sensor rose ``seat_rise_m`` or more (with a gyroscope: the vertical carried by the gyroscope from
the still moment), the still pose was seated and standing is where the thigh went.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

import tracker.pipeline.kernels as kernels
from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.quiet import quiet_since_s, still_going
from tracker.samples import FloatArray, Samples

BLOCK = 2048
G0 = 9.80665


@dataclass(frozen=True, slots=True)
class FoundMounting:
    """The estimated rotation (``v_thigh = R @ v_sensor``), the sample that decided it, and the leg."""

    R_thigh_from_sensor: FloatArray
    decided_at_s: float
    leg: str = "unknown"
    seated_start: bool = False  # the first still moment was seated (docs/pipeline.md)


def _running(carry: FloatArray, values: FloatArray) -> FloatArray:
    """Sequential cumulative sum continuing from ``carry`` (bitwise the same for any chunking)."""
    return np.cumsum(np.concatenate([carry[None, ...], values]), axis=0)[1:]


@dataclass(slots=True)
class _Movement:
    """The samples of a chunk after the still moment, as the axis search and the seat test see them."""

    start: int  # index in the chunk of the first of these samples
    t: FloatArray
    dt: FloatArray
    g_dir: FloatArray  # direction of the low-passed specific force
    tilt: FloatArray  # its part across the still moment's up ...
    tilt_sin: FloatArray  # ... and that part's length (sine of the tilt)
    still: npt.NDArray[np.bool_]
    rise_m: FloatArray  # the sensor's height since the last still sample (nan: not followed)


class MountingFinder:
    """Streaming estimator of the sensor-to-thigh rotation. Feed sensor-frame samples."""

    def __init__(self, config: PipelineConfig, rate_hz: float) -> None:
        self.config = config
        self._sos = kernels.butter2_lowpass_sos(min(2.0, 0.4 * rate_hz), rate_hz)
        self._zi: FloatArray | None = None
        self._run_start_s: float | None = None  # start time of the current quiet run
        # still time per pose (direction, seconds) in pieces: a run counts once it lasted still_piece_s
        self._poses: list[list[Any]] = []
        self._piece_run = float("nan")  # the run being counted (its start time) ...
        self._piece_pose = -1  # ... its pose ...
        self._piece_len = 0.0  # ... and how long it has lasted so far
        # the mean direction of the moving samples before it (unnormalised sum, seconds): walking
        # and the reps swing about standing, so among the still poses standing is nearest to it
        self._moving_sum = np.zeros(3)
        self._moving_s = 0.0
        self._moving_started = False
        self.up: FloatArray | None = None
        self.up_at_s: float | None = None
        self._tilt_sum = np.zeros(3)
        self._gyro_outer = np.zeros(9)
        self._rotation_deg = np.zeros(1)
        self.result: FoundMounting | None = None
        self._last_t = 0.0
        self._g_ref = 1.0  # |specific force| at the still moment (takes out the scale error)
        # the sensor's height since the last still sample: (up in sensor axes, velocity, height, age)
        self._strap: tuple[FloatArray | None, float, float, float] = (None, 0.0, 0.0, 0.0)
        self._candidate: tuple[FloatArray, FloatArray] | None = None  # (x, y) before _settle
        self._cand_t: float | None = None
        self._peak = (0.0, float("nan"))  # the largest tilt since the candidate, the rise at seat_tilt_deg
        self._last_dir: FloatArray | None = None  # the last low-passed direction (no gyroscope) ...
        self._calm_since_s: float | None = None  # ... and the start of its calm run going on

    def feed(self, chunk: Samples) -> int | None:
        """Consume a chunk; return the index in it at which the mounting became known, if it did."""
        if self.result is not None or len(chunk) == 0:
            return None
        if len(chunk) > BLOCK:  # bounded blocks: stop looking as soon as it is found
            for s in range(0, len(chunk), BLOCK):
                idx = self._feed(chunk.slice(s, s + BLOCK))
                if idx is not None:
                    return s + idx
            return None
        return self._feed(chunk)

    def _feed(self, chunk: Samples) -> int | None:
        a = chunk.accel_g
        if self._zi is None:
            self._zi = kernels.sosfilt_zi(self._sos)[:, :, None] * a[0][None, None, :]
        a_lp, self._zi = kernels.sosfilt_rows(self._sos, a, self._zi)
        prev_t, self._last_t = self._last_t, float(chunk.t_s[-1])
        still = self._still_mask(chunk, a, a_lp)
        start = 0
        if self.up is None:
            idx = self._find_still(chunk.t_s, still, a_lp)
            self._note_moving(chunk.t_s, still, a_lp, prev_t, len(a_lp) if idx is None else idx)
            if idx is None:
                return None
            self.up = a_lp[idx] / np.linalg.norm(a_lp[idx])
            self.up = self._standing_pose(self.up)
            self.up_at_s = float(chunk.t_s[idx])
            self._g_ref = float(np.linalg.norm(a_lp[idx]))
            start = idx + 1
        if start >= len(chunk):
            return None
        m = self._movement(chunk, a_lp, still, start, prev_t)
        k: int | None = 0
        if self._candidate is None:
            k = self._find_axis(chunk, m)
        done = None if k is None else self._settle(m, k)
        return None if done is None else start + done

    def _still_mask(self, chunk: Samples, a: FloatArray, a_lp: FloatArray) -> npt.NDArray[np.bool_]:
        cfg = self.config
        dev = np.abs(a - a_lp).max(axis=1)
        still = (dev < cfg.still_accel_g) & (np.abs(np.linalg.norm(a_lp, axis=1) - 1.0) < 0.1)
        if chunk.gyro_dps is not None:
            still &= np.abs(chunk.gyro_dps).max(axis=1) < cfg.still_gyro_dps
        return still

    def _find_still(self, t: FloatArray, still: npt.NDArray[np.bool_], a_lp: FloatArray) -> int | None:
        """The first sample still for ``still_s`` in one pose: in one run (quiet standing), or in
        pieces of at least ``still_piece_s`` (the pauses at the top of reps that start straight
        from a walk) whose directions agree within ``still_pose_deg``."""
        cfg = self.config
        # start time of the quiet run each sample belongs to (inf where not quiet)
        run_start = np.where(still, quiet_since_s(t, still, self._run_start_s), np.inf)
        ok = np.flatnonzero(t - run_start >= cfg.still_s)
        self._run_start_s = still_going(run_start, still)
        end = int(ok[0]) if ok.size else len(t)
        counted = np.flatnonzero(t[:end] - run_start[:end] >= cfg.still_piece_s)
        if not counted.size:
            return None if end == len(t) else end
        starts = run_start[counted]
        cuts = np.flatnonzero(np.diff(starts)) + 1
        for part in np.split(counted, cuts):  # one per run: a few per chunk at most
            k = self._add_piece(t, run_start, a_lp, part)
            if k is not None:
                return k
        return None if end == len(t) else end

    def _note_moving(
        self, t: FloatArray, still: npt.NDArray[np.bool_], a_lp: FloatArray, prev_t: float, stop: int
    ) -> None:
        """Add the moving samples before ``stop`` to the mean moving direction."""
        dt = np.diff(np.concatenate([[prev_t], t[:stop]]))
        w = np.where(still[:stop], 0.0, np.clip(dt, 0.0, self.config.max_gap_s))
        if not stop:
            return
        if not self._moving_started:
            w[0] = 0.0  # the session's first sample: its interval is not known
            self._moving_started = True
        g = a_lp[:stop] / np.maximum(np.linalg.norm(a_lp[:stop], axis=1, keepdims=True), 1e-9)
        # sequential sums (bitwise the same for any chunking)
        self._moving_sum = _running(self._moving_sum, g * w[:, None])[-1]
        self._moving_s = float(_running(np.array([self._moving_s]), w[:, None])[-1, 0])

    def _standing_pose(self, up: FloatArray) -> FloatArray:
        """The still pose found (``up``) may be the bottom of reps that pause there as long as at
        the top (deadlifts straight from a walk): after ``walk_pose_min_s`` of movement, another
        pose (more than ``still_pose_deg`` away) still for half of ``still_s`` and nearer the mean
        moving direction by ``walk_pose_margin_deg`` is standing."""
        cfg = self.config
        if self._moving_s < cfg.walk_pose_min_s:
            return up
        mean = self._moving_sum / max(float(np.linalg.norm(self._moving_sum)), 1e-9)

        def off(u: FloatArray) -> float:
            return float(np.degrees(np.arccos(np.clip(float(u @ mean), -1.0, 1.0))))

        other = np.cos(np.radians(cfg.still_pose_deg))
        held = [
            u
            for i, (u, s) in enumerate(self._poses)
            if s + (self._piece_len if i == self._piece_pose else 0.0) >= 0.5 * cfg.still_s
            and float(u @ up) < other  # another pose, not the one found (its first direction)
        ]
        best = min(held, key=off, default=up)
        return best if off(best) + cfg.walk_pose_margin_deg <= off(up) else up

    def _add_piece(
        self, t: FloatArray, run_start: FloatArray, a_lp: FloatArray, part: npt.NDArray[np.intp]
    ) -> int | None:
        """Add a run's counted samples to its pose's still time; the first sample where that pose
        has been still for ``still_s`` in all (None: not yet)."""
        cfg = self.config
        rs = float(run_start[part[0]])
        if rs != self._piece_run:  # a new run: the earlier one adds to its pose, this one finds its pose
            if self._piece_pose >= 0:
                self._poses[self._piece_pose][1] += self._piece_len
            d = a_lp[part[0]] / np.linalg.norm(a_lp[part[0]])
            near = [
                i
                for i, (u, _) in enumerate(self._poses)
                if float(u @ d) >= np.cos(np.radians(cfg.still_pose_deg))
            ]
            if near:
                self._piece_pose = near[0]
            else:
                self._poses.append([d, 0.0])
                self._piece_pose = len(self._poses) - 1
            self._piece_run = rs
        total = self._poses[self._piece_pose][1] + (t[part] - rs)
        self._piece_len = float(t[part[-1]] - rs)
        hit = np.flatnonzero(total >= cfg.still_s)
        return int(part[hit[0]]) if hit.size else None

    def _movement(
        self, chunk: Samples, a_lp: FloatArray, still: npt.NDArray[np.bool_], start: int, prev_t: float
    ) -> _Movement:
        assert self.up is not None
        up = self.up
        t = chunk.t_s[start:]
        a = a_lp[start:]
        dt = np.diff(np.concatenate([[chunk.t_s[start - 1] if start else prev_t], t]))
        dt = np.clip(dt, 0.0, self.config.max_gap_s)
        norm = np.linalg.norm(a, axis=1, keepdims=True)
        g_dir = a / np.maximum(norm, 1e-9)
        tilt = g_dir - (g_dir @ up)[:, None] * up[None, :]
        tilt_sin = np.linalg.norm(tilt, axis=1)
        gyro = None if chunk.gyro_dps is None else chunk.gyro_dps[start:]
        calm = still[start:]
        if gyro is None:
            # without a gyroscope the accelerometer test above passes through most of a smooth
            # stand-up: the low-passed direction must also turn slower than a still thigh does
            prev = g_dir[0] if self._last_dir is None else self._last_dir
            turn = np.einsum("ij,ij->i", g_dir, np.vstack([prev[None, :], g_dir[:-1]]))
            turn_dps = np.degrees(np.arccos(np.clip(turn, -1.0, 1.0))) / np.maximum(dt, 1e-6)
            calm = calm & (turn_dps < self.config.still_gyro_dps)
            # ... for still_piece_s: the direction also stops for an instant when a quick rise
            # starts (its acceleration first tilts the specific force the other way)
            since = quiet_since_s(t, calm, self._calm_since_s)
            self._calm_since_s = still_going(since, calm)
            calm = calm & (t - since >= self.config.still_piece_s)
            self._last_dir = g_dir[-1]
        rise = self._rise(chunk.accel_g[start:], gyro, calm, dt)
        return _Movement(start, t, dt, g_dir, tilt, tilt_sin, calm, rise)

    def _rise(
        self, a: FloatArray, w: FloatArray | None, still: npt.NDArray[np.bool_], dt: FloatArray
    ) -> FloatArray:
        """The sensor's height change (m) since the last still sample, for at most ``seat_window_s``
        after it (nan beyond, and without a gyroscope): the specific force along the vertical, which
        the gyroscope carries from the still sample, less its still value, integrated twice."""
        h = np.full(len(a), np.nan)
        h[still] = 0.0
        up, vel, hgt, age = self._strap
        limit = self.config.seat_window_s
        wr = None if w is None else np.radians(w)
        # a Python loop over the moving samples within seat_window_s of a still one only
        for k in np.flatnonzero(~still).tolist():
            if k and still[k - 1]:
                up, vel, hgt, age = a[k - 1] / max(float(np.linalg.norm(a[k - 1])), 1e-9), 0.0, 0.0, 0.0
            if up is None or age > limit:
                up = None
                continue
            if wr is None:  # |f| is g plus the vertical acceleration (to first order)
                f_up = float(np.linalg.norm(a[k]))
            else:
                up = up - np.cross(wr[k], up) * dt[k]
                up = up / np.linalg.norm(up)
                f_up = float(a[k] @ up)
            vel += (f_up - self._g_ref) * G0 * dt[k]
            hgt += vel * dt[k]
            age += dt[k]
            h[k] = hgt
        if still[-1]:
            up, vel, hgt, age = a[-1] / max(float(np.linalg.norm(a[-1])), 1e-9), 0.0, 0.0, 0.0
        self._strap = (up, vel, hgt, age)
        return h

    def _find_axis(self, chunk: Samples, m: _Movement) -> int | None:
        """The first movements give the sagittal plane and forward: a candidate mounting, at the
        returned index of ``m`` (:meth:`_settle` then follows that movement to its end)."""
        cfg = self.config
        assert self.up is not None
        up, t, dt, tilt, tilt_sin = self.up, m.t, m.dt, m.tilt, m.tilt_sin
        tilt_sum = _running(self._tilt_sum, tilt * (tilt_sin**2 * dt)[:, None])
        if chunk.gyro_dps is not None:
            w = chunk.gyro_dps[m.start :]
            w_perp = w - (w @ up)[:, None] * up[None, :]
            rot = _running(self._rotation_deg, (np.linalg.norm(w_perp, axis=1) * dt)[:, None])[:, 0]
            outer = _running(
                self._gyro_outer, (w_perp[:, :, None] * w_perp[:, None, :]).reshape(-1, 9) * dt[:, None]
            )
            big_tilt = tilt_sin >= np.sin(np.radians(cfg.sign_tilt_deg))
            hit = np.flatnonzero(
                (rot >= cfg.axis_rotation_deg) & (big_tilt | (rot >= 3 * cfg.axis_rotation_deg))
            )
            if hit.size and not big_tilt[hit[0]]:
                # small tilts only (a shallow hinge with side-to-side sway, fidgets): the rotation
                # must have one clear axis, else wait for a larger movement (a walk, a squat)
                lam = np.linalg.eigvalsh(outer[hit].reshape(-1, 3, 3))
                clear = big_tilt[hit] | (lam[:, 2] >= cfg.axis_dominance * lam[:, 1])
                hit = hit[clear]
            if not hit.size:
                self._tilt_sum, self._gyro_outer, self._rotation_deg = tilt_sum[-1], outer[-1], rot[-1:]
                return None
            i = int(hit[0])
            _, vecs = np.linalg.eigh(outer[i].reshape(3, 3))
            y = vecs[:, -1]
            y = y - (y @ up) * up
            y /= np.linalg.norm(y)
            x = np.cross(y, up)
            forward = tilt[i] if big_tilt[i] else tilt_sum[i]
            if x @ forward < 0:
                x, y = -x, -y
        else:
            hit = np.flatnonzero(tilt_sin >= np.sin(np.radians(cfg.axis_tilt_deg)))
            if not hit.size:
                self._tilt_sum = tilt_sum[-1]
                return None
            # the tilt where it first reaches axis_tilt_deg, not the tilt accumulated so far: a
            # quick flexion's start accelerates the sensor forward, which tilts the specific force
            # backward by up to ~20 deg before gravity's forward tilt takes over (docs/pipeline.md)
            i = int(hit[0])
            x = tilt[i] / np.linalg.norm(tilt[i])
            y = np.cross(up, x)
        self._candidate = (x, y)
        self._cand_t = float(t[i])
        return i

    def _settle(self, m: _Movement, k: int) -> int | None:
        """From index ``k`` of ``m`` on, follow the movement that gave the candidate until it turns
        back by ``seat_turn_deg``, the thigh is still, or ``seat_settle_s`` passed: the index where
        the mounting is decided, or None. A movement that took the thigh ``seat_tilt_deg`` or more
        from the still pose while the sensor rose ``seat_rise_m`` or more was standing up from a
        seat: the still pose was seated (thigh horizontal), not standing."""
        cfg = self.config
        assert self.up is not None and self._cand_t is not None
        tilt_deg = np.degrees(np.arcsin(np.clip(m.tilt_sin, 0.0, 1.0)))
        tilt_deg = np.where(m.g_dir @ self.up < 0, 180.0 - tilt_deg, tilt_deg)  # beyond 90 deg
        peak, rise_at_peak = self._peak
        for j in range(k, len(m.t)):  # a second or two, once per session
            if tilt_deg[j] >= cfg.seat_tilt_deg > peak:  # the rise where the tilt first gets there
                rise_at_peak = float(m.rise_m[j])
            peak = max(peak, float(tilt_deg[j]))
            turned = tilt_deg[j] < peak - cfg.seat_turn_deg
            if m.still[j] or turned or m.t[j] - self._cand_t > cfg.seat_settle_s:
                self._peak = (peak, rise_at_peak)
                self._decide(peak >= cfg.seat_tilt_deg and rise_at_peak >= cfg.seat_rise_m, float(m.t[j]))
                return j
        self._peak = (peak, rise_at_peak)
        return None

    def _decide(self, seated: bool, t_s: float) -> None:
        assert self._candidate is not None and self.up is not None
        x, y = self._candidate
        up = self.up
        if seated:  # the still pose's up is the thigh's forward axis; standing is where it went
            x, y, up = up, -y, x
        self.result = FoundMounting(np.vstack([x, y, up]), t_s, seated_start=seated)
