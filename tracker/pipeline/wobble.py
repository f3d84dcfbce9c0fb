"""Balance wobble: thigh sway metrics after the ISway family, and wobble / balance-loss events.

Sway is the part of the thigh's pitch (antero-posterior, AP) and roll (medio-lateral, ML) above
``sway_highpass_hz``: the rep itself is slower and is filtered out. On that 2-D sway path (degrees)
the metrics of Mancini et al.'s ISway, computed on thigh angles instead of trunk accelerations:

- ``rms_deg``: root mean square distance of the sway path from its mean (``ml_rms_deg`` and
  ``ap_rms_deg``: its side-to-side and front-to-back parts);
- ``jerk_dps2``: RMS of the second time derivative of the sway angles (how abrupt corrections are);
- ``path_deg_s``: path length per second (mean sway velocity);
- ``ellipse_deg2``: area of the 95 % confidence ellipse, ``pi * 5.991 * sqrt(l1 * l2)``;
- ``mean_freq_hz``: path velocity / (2 pi * mean distance), the mean sway frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import tracker.pipeline.kernels as kernels
from tracker.pipeline.config import PipelineConfig
from tracker.samples import FloatArray

CHI2_95_2DOF = 5.991


@dataclass(frozen=True, slots=True)
class SwayStats:
    """Sums over a stretch of sway samples; additive, so a set's stats are the sum of its reps'."""

    n: int = 0
    duration_s: float = 0.0
    s_ap: float = 0.0
    s_ml: float = 0.0
    s_ap2: float = 0.0
    s_ml2: float = 0.0
    s_apml: float = 0.0
    path_deg: float = 0.0
    s_jerk2: float = 0.0
    n_jerk: int = 0

    def __add__(self, other: SwayStats) -> SwayStats:
        return SwayStats(
            n=self.n + other.n,
            duration_s=self.duration_s + other.duration_s,
            s_ap=self.s_ap + other.s_ap,
            s_ml=self.s_ml + other.s_ml,
            s_ap2=self.s_ap2 + other.s_ap2,
            s_ml2=self.s_ml2 + other.s_ml2,
            s_apml=self.s_apml + other.s_apml,
            path_deg=self.path_deg + other.path_deg,
            s_jerk2=self.s_jerk2 + other.s_jerk2,
            n_jerk=self.n_jerk + other.n_jerk,
        )

    def metrics(self) -> dict[str, float] | None:
        if self.n < 3 or self.duration_s <= 0:
            return None
        n = self.n
        m_ap, m_ml = self.s_ap / n, self.s_ml / n
        c_aa = max(self.s_ap2 / n - m_ap**2, 0.0)
        c_mm = max(self.s_ml2 / n - m_ml**2, 0.0)
        c_am = self.s_apml / n - m_ap * m_ml
        rms = float(np.sqrt(c_aa + c_mm))
        det = max(c_aa * c_mm - c_am**2, 0.0)
        path_v = self.path_deg / self.duration_s
        mean_dist = rms * np.sqrt(np.pi) / 2.0  # Rayleigh: mean distance from its RMS
        return {
            "rms_deg": round(rms, 3),
            "ml_rms_deg": round(float(np.sqrt(c_mm)), 3),
            "ap_rms_deg": round(float(np.sqrt(c_aa)), 3),
            "jerk_dps2": round(float(np.sqrt(self.s_jerk2 / max(self.n_jerk, 1))), 1),
            "path_deg_s": round(path_v, 3),
            "ellipse_deg2": round(float(np.pi * CHI2_95_2DOF * np.sqrt(det)), 3),
            "mean_freq_hz": round(float(path_v / (2 * np.pi * mean_dist)) if mean_dist > 1e-9 else 0.0, 3),
        }


def sway_stats(t: FloatArray, ap: FloatArray, ml: FloatArray) -> SwayStats:
    """Sway sums over one stretch of samples (a rep)."""
    n = len(t)
    if n < 3:
        return SwayStats()
    dt = t[1:] - t[:-1]  # np.diff, without its Python overhead (called once per rep)
    d_ap = ap[1:] - ap[:-1]
    d_ml = ml[1:] - ml[:-1]
    step = np.hypot(d_ap, d_ml)
    ok = dt > 0
    if ok.all():  # no repeated time stamps: no selection (and no copies) needed
        vel_ap = d_ap / dt
        vel_ml = d_ml / dt
        dt2 = dt[1:]
    else:
        dt_ok = dt[ok]
        vel_ap = d_ap[ok] / dt_ok
        vel_ml = d_ml[ok] / dt_ok
        dt2 = dt_ok[1:]
    jerk2 = 0.0
    nj = 0
    if dt2.size:
        acc_ap = (vel_ap[1:] - vel_ap[:-1]) / dt2
        acc_ml = (vel_ml[1:] - vel_ml[:-1]) / dt2
        jerk2 = float((acc_ap**2 + acc_ml**2).sum())
        nj = int(dt2.size)
    return SwayStats(
        n=n,
        duration_s=float(t[-1] - t[0]),
        s_ap=float(ap.sum()),
        s_ml=float(ml.sum()),
        s_ap2=float(ap @ ap),
        s_ml2=float(ml @ ml),
        s_apml=float(ap @ ml),
        path_deg=float(step.sum()),
        s_jerk2=jerk2,
        n_jerk=nj,
    )


class SwayFilter:
    """High-pass the thigh angles into sway (one biquad, lfilter with carried state)."""

    def __init__(self, config: PipelineConfig, rate_hz: float) -> None:
        self.config = config
        self._b, self._a = kernels.butter2_highpass_ba(config.sway_highpass_hz, rate_hz)
        self._zi = np.zeros((2, 2))
        self._started = False

    def feed(self, pitch: FloatArray, roll: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = np.empty((len(pitch), 2))  # filled in place: cheaper than np.stack for a small packet
        x[:, 0] = pitch
        x[:, 1] = roll
        if not self._started:
            self._zi = kernels.lfilter_zi(self._b, self._a)[:, None] * x[0][None, :]
            self._started = True
        y, self._zi = kernels.lfilter(self._b, self._a, x, 0, self._zi)
        return y[:, 0], y[:, 1]
