"""Find how the sensor sits on the thigh when nobody calibrated it.

The thigh axis (z, knee to hip) is the direction of gravity during the first quiet standing;
the sagittal plane is the plane of the first movements: its normal (y, to the person's left) is
the principal axis of the angular rate out of the thigh axis, and the sign is chosen so that the
thigh first tilts forward (flexion), which is what squats, single-leg squats, deadlifts and
walking all start with. Every decision is taken at one sample, from running sums carried from
chunk to chunk, so the result does not depend on how the stream was cut into chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import tracker.pipeline.kernels as kernels
from tracker.pipeline.config import PipelineConfig
from tracker.pipeline.quiet import quiet_since_s, still_going
from tracker.samples import FloatArray, Samples

BLOCK = 2048


@dataclass(frozen=True, slots=True)
class FoundMounting:
    """The estimated rotation (``v_thigh = R @ v_sensor``), the sample that decided it, and the leg."""

    R_thigh_from_sensor: FloatArray
    decided_at_s: float
    leg: str = "unknown"


def _running(carry: FloatArray, values: FloatArray) -> FloatArray:
    """Sequential cumulative sum continuing from ``carry`` (bitwise the same for any chunking)."""
    return np.cumsum(np.concatenate([carry[None, ...], values]), axis=0)[1:]


class MountingFinder:
    """Streaming estimator of the sensor-to-thigh rotation. Feed sensor-frame samples."""

    def __init__(self, config: PipelineConfig, rate_hz: float) -> None:
        self.config = config
        self._sos = kernels.butter2_lowpass_sos(min(2.0, 0.4 * rate_hz), rate_hz)
        self._zi: FloatArray | None = None
        self._run_start_s: float | None = None  # start time of the current quiet run
        self.up: FloatArray | None = None
        self.up_at_s: float | None = None
        self._tilt_sum = np.zeros(3)
        self._gyro_outer = np.zeros(9)
        self._rotation_deg = np.zeros(1)
        self.result: FoundMounting | None = None
        self._last_t = 0.0

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
        start = 0
        if self.up is None:
            idx = self._find_still(chunk, a, a_lp)
            if idx is None:
                return None
            up = a_lp[idx] / np.linalg.norm(a_lp[idx])
            self.up = up
            self.up_at_s = float(chunk.t_s[idx])
            start = idx + 1
        return self._find_axis(chunk, a_lp, start, prev_t)

    def _find_still(self, chunk: Samples, a: FloatArray, a_lp: FloatArray) -> int | None:
        cfg = self.config
        dev = np.abs(a - a_lp).max(axis=1)
        still = (dev < cfg.still_accel_g) & (np.abs(np.linalg.norm(a_lp, axis=1) - 1.0) < 0.1)
        if chunk.gyro_dps is not None:
            still &= np.abs(chunk.gyro_dps).max(axis=1) < cfg.still_gyro_dps
        t = chunk.t_s
        # start time of the quiet run each sample belongs to (inf where not quiet)
        run_start = np.where(still, quiet_since_s(t, still, self._run_start_s), np.inf)
        ok = np.flatnonzero(t - run_start >= cfg.still_s)
        self._run_start_s = still_going(run_start, still)
        return int(ok[0]) if ok.size else None

    def _find_axis(self, chunk: Samples, a_lp: FloatArray, start: int, prev_t: float) -> int | None:
        cfg = self.config
        assert self.up is not None
        up = self.up
        if start >= len(chunk):
            return None
        t = chunk.t_s[start:]
        a = a_lp[start:]
        dt = np.diff(np.concatenate([[chunk.t_s[start - 1] if start else prev_t], t]))
        dt = np.clip(dt, 0.0, cfg.max_gap_s)
        norm = np.linalg.norm(a, axis=1, keepdims=True)
        g_dir = a / np.maximum(norm, 1e-9)
        tilt = g_dir - (g_dir @ up)[:, None] * up[None, :]
        tilt_sin = np.linalg.norm(tilt, axis=1)
        tilt_sum = _running(self._tilt_sum, tilt * (tilt_sin**2 * dt)[:, None])
        if chunk.gyro_dps is not None:
            w = chunk.gyro_dps[start:]
            w_perp = w - (w @ up)[:, None] * up[None, :]
            rot = _running(self._rotation_deg, (np.linalg.norm(w_perp, axis=1) * dt)[:, None])[:, 0]
            outer = _running(
                self._gyro_outer, (w_perp[:, :, None] * w_perp[:, None, :]).reshape(-1, 9) * dt[:, None]
            )
            big_tilt = tilt_sin >= np.sin(np.radians(cfg.sign_tilt_deg))
            hit = np.flatnonzero(
                (rot >= cfg.axis_rotation_deg) & (big_tilt | (rot >= 3 * cfg.axis_rotation_deg))
            )
            if not hit.size:
                self._tilt_sum, self._gyro_outer, self._rotation_deg = tilt_sum[-1], outer[-1], rot[-1:]
                return None
            i = int(hit[0])
            m = outer[i].reshape(3, 3)
            _, vecs = np.linalg.eigh(m)
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
        rot_m = np.vstack([x, y, up])
        self.result = FoundMounting(rot_m, float(t[i]))
        return start + i
