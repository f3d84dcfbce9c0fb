"""Thigh pitch and roll from thigh-frame samples: a complementary filter with carried state.

Pitch (sagittal flexion, positive forward) and roll (out of the sagittal plane) come from the
direction of the specific force, which is right on average but disturbed by every push and
landing, and from the integrated gyroscope, which is smooth but drifts. The complementary filter
``angle[n] = a * (angle[n-1] + rate[n] * dt[n]) + (1 - a) * accel_angle[n]`` trusts the gyroscope
below ``1 / (2 pi fusion_tau_s)`` Hz and the accelerometer above it. It is linear, so it runs as
``scipy.signal.lfilter`` with its state carried from chunk to chunk: streaming equals batch.
``dt`` is the real time step of each sample, so uneven sampling is integrated correctly; a gap
longer than ``max_gap_s`` restarts the filter from the accelerometer. Without a gyroscope the
accelerometer angle is low-pass filtered instead (``sosfilt``, state carried).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import tracker.pipeline.kernels as kernels
from tracker.pipeline.config import PipelineConfig
from tracker.samples import FloatArray, Samples


def _diff_from(x: FloatArray, before: float) -> FloatArray:
    """``np.diff(x, prepend=before)`` without its concatenation (cheaper for small packets)."""
    out = np.empty_like(x)
    out[0] = x[0] - before
    np.subtract(x[1:], x[:-1], out=out[1:])
    return out


@dataclass(frozen=True, slots=True)
class ThighAngles:
    """Per-sample thigh angles (degrees) and rates (deg/s) for one chunk."""

    t_s: FloatArray
    pitch_deg: FloatArray
    roll_deg: FloatArray
    pitch_rate_dps: FloatArray
    roll_rate_dps: FloatArray
    # jolt: how much |specific force|, low-passed at ``jolt_lowpass_hz``, changed over the last
    # ``jolt_window_s`` (landings, heel strikes, foot strikes, a free foot touching down); the
    # same at any sample rate
    impact_g: FloatArray
    height_m: FloatArray  # sensor height change, leaky double integral of vertical acceleration


class OrientationFilter:
    """Streaming thigh angles. Feed thigh-frame samples; get :class:`ThighAngles` back."""

    def __init__(self, config: PipelineConfig, rate_hz: float, roll_sign: float = 1.0) -> None:
        self.config = config
        self.rate_hz = rate_hz
        dt = 1.0 / rate_hz
        self.alpha = config.fusion_tau_s / (config.fusion_tau_s + dt)
        self.roll_sign = roll_sign
        self._lp = kernels.butter2_lowpass_sos(min(config.accel_lowpass_hz, 0.4 * rate_hz), rate_hz)
        self._last_t: float | None = None
        self._zi_fused: FloatArray | None = None  # (1, 2): pitch, roll
        self._zi_lp: FloatArray | None = None  # accel-only: (sections, 2, 2)
        # the jolt: |f| low-passed (state carried), and its recent history for the lagged value
        jolt_sos = kernels.butter2_lowpass_sos(min(config.jolt_lowpass_hz, 0.35 * rate_hz), rate_hz)
        self._jolt_b = np.ascontiguousarray(jolt_sos[0, :3])  # one section: lfilter is cheaper per packet
        self._jolt_a = np.ascontiguousarray(jolt_sos[0, 3:])
        self._zi_jolt: FloatArray | None = None
        self._jolt_t = np.zeros(0)
        self._jolt_v = np.zeros(0)
        self._last_angles: FloatArray | None = None
        self._leak = float(np.exp(-dt / config.height_tau_s))
        # velocity and height integrators in one second-order section: 1 / (1 - leak z^-1)^2
        self._h_b = np.array([dt])
        self._h_a = np.array([1.0, -2.0 * self._leak, self._leak**2])
        self._zi_h = np.zeros(2)
        # complementary filter y[n] = alpha * y[n-1] + u[n], coefficients built once, not per chunk
        self._fuse_b = np.array([1.0])
        self._fuse_a = np.array([1.0, -self.alpha])

    def feed(self, chunk: Samples) -> ThighAngles:
        t = chunk.t_s
        a = chunk.accel_g
        prev = self._last_t
        max_gap = self.config.max_gap_s
        dt = _diff_from(t, t[0] if prev is None else prev)
        gaps = (dt > max_gap).nonzero()[0]  # (np.flatnonzero, without its Python wrappers)
        if prev is None:
            gaps = np.concatenate([[0], gaps[gaps > 0]])
        self._last_t = float(t[-1])
        np.maximum(dt, 0.0, out=dt)  # np.clip(dt, 0, max_gap) in place: the same values
        np.minimum(dt, max_gap, out=dt)
        horiz = np.hypot(a[:, 0], a[:, 2])
        acc_angles = np.empty((len(t), 2))  # filled in place: a packet is small, numpy calls cost
        np.arctan2(a[:, 0], a[:, 2], out=acc_angles[:, 0])
        np.arctan2(-a[:, 1], horiz, out=acc_angles[:, 1])
        np.degrees(acc_angles, out=acc_angles)
        acc_angles[:, 1] *= self.roll_sign
        sq = a * a  # |a| as np.linalg.norm(a, axis=1) sums it (x^2 + y^2, + z^2), without its overhead
        norm = np.sqrt(sq[:, 0] + sq[:, 1] + sq[:, 2])
        impact = self._jolt(t, norm)
        if chunk.gyro_dps is not None:
            w = chunk.gyro_dps
            rates = np.empty((len(t), 2))
            np.negative(w[:, 1], out=rates[:, 0])
            rates[:, 1] = -w[:, 0] * self.roll_sign
            angles = self._fuse(acc_angles, rates, dt, gaps)
        else:
            angles = self._lowpass(acc_angles, gaps)
            rates = self._rate_from_angles(angles, dt)
        height = self._height(a, angles, dt)
        return ThighAngles(t, angles[:, 0], angles[:, 1], rates[:, 0], rates[:, 1], impact, height)

    def _jolt(self, t: FloatArray, norm: FloatArray) -> FloatArray:
        """The change of the low-passed |f| over the last ``jolt_window_s`` (the value that long ago
        interpolated between its samples): a fixed bandwidth and time, so a jolt reads the same at
        25 and at 200 Hz (a sample-to-sample jump scales with the sample interval)."""
        if self._zi_jolt is None:
            self._zi_jolt = kernels.lfilter_zi(self._jolt_b, self._jolt_a) * norm[0]
        level, self._zi_jolt = kernels.lfilter(self._jolt_b, self._jolt_a, norm, -1, self._zi_jolt)
        hist_t = np.concatenate([self._jolt_t, t])
        hist_v = np.concatenate([self._jolt_v, level])
        lagged = np.interp(t - self.config.jolt_window_s, hist_t, hist_v)
        keep = max(int(np.searchsorted(hist_t, t[-1] - self.config.jolt_window_s, side="right")) - 1, 0)
        self._jolt_t, self._jolt_v = hist_t[keep:], hist_v[keep:]
        return np.abs(level - lagged)

    def _height(self, a: FloatArray, angles: FloatArray, dt: FloatArray) -> FloatArray:
        """Vertical motion of the sensor: specific force along the estimated up direction, minus
        1 g, integrated twice through leaky integrators (time constant ``height_tau_s``) so that
        drift stays bounded; good for telling "the thigh goes down" from "the knee lifts"."""
        th = np.radians(angles[:, 0])
        ph = np.radians(angles[:, 1] * self.roll_sign)
        cp = np.cos(ph)
        a_up = a[:, 0] * cp * np.sin(th) - a[:, 1] * np.sin(ph) + a[:, 2] * cp * np.cos(th)
        acc = (a_up - 1.0) * 9.80665 * dt
        h, self._zi_h = kernels.lfilter(self._h_b, self._h_a, acc, -1, self._zi_h)
        return np.asarray(h)

    def _fuse(
        self, acc: FloatArray, rates: FloatArray, dt: FloatArray, gaps: npt.NDArray[np.intp]
    ) -> FloatArray:
        al = self.alpha
        u = al * rates
        u *= dt[:, None]
        u += (1.0 - al) * acc  # al * rates * dt + (1 - al) * acc, with fewer temporaries
        if not gaps.size and self._zi_fused is not None:  # a packet of a running stream: one call
            y, self._zi_fused = kernels.lfilter(self._fuse_b, self._fuse_a, u, 0, self._zi_fused)
            return y
        out = np.empty_like(acc)
        restarts = set(gaps.tolist())
        bounds = sorted({0, *restarts, len(acc)})
        for s0, s1 in itertools.pairwise(bounds):
            if s0 in restarts or self._zi_fused is None:
                u0 = u[s0:s1]  # (u is ours: changed in place)
                u0[0] = acc[s0]  # restart exactly on the accelerometer angle
                y, self._zi_fused = kernels.lfilter(self._fuse_b, self._fuse_a, u0, 0, np.zeros((1, 2)))
            else:
                y, self._zi_fused = kernels.lfilter(self._fuse_b, self._fuse_a, u[s0:s1], 0, self._zi_fused)
            out[s0:s1] = y
        return out

    def _lowpass(self, acc: FloatArray, gaps: npt.NDArray[np.intp]) -> FloatArray:
        out = np.empty_like(acc)
        restarts = set(gaps.tolist())
        bounds = sorted({0, *restarts, len(acc)})
        for s0, s1 in itertools.pairwise(bounds):
            if s0 in restarts or self._zi_lp is None:
                self._zi_lp = kernels.sosfilt_zi(self._lp)[:, :, None] * acc[s0][None, None, :]
            out[s0:s1], self._zi_lp = kernels.sosfilt_rows(self._lp, acc[s0:s1], self._zi_lp)
        return out

    def _rate_from_angles(self, angles: FloatArray, dt: FloatArray) -> FloatArray:
        if self._last_angles is None:
            self._last_angles = angles[0].copy()
        prev = np.concatenate([self._last_angles[None, :], angles[:-1]])
        self._last_angles = angles[-1].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            rates = np.where(dt[:, None] > 0, (angles - prev) / dt[:, None], 0.0)
        return rates
