"""Finding the moments a sensor is still, on a live stream or a whole recording.

Accelerometer calibration needs static poses, the gyroscope's bias needs still periods and the
mounting needs quiet standing: all three start from the same question, "was the sensor still from
here to there?". :class:`StillDetector` answers it in a streaming way (state carried between
chunks, so a recording fed in 10-sample packets gives the same periods as the whole array).

A sample is *still* when, over the window that ends at it, every accelerometer axis and every
gyroscope axis varies less than a threshold. The test uses the spread, not the level, so a gyro
bias of a few deg/s or an accelerometer bias does not stop a sensor from counting as still.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from tracker.samples import FloatArray, Samples


@dataclass(frozen=True, slots=True)
class StillnessThresholds:
    """What counts as still. The defaults suit a sensor lying on a table or held against one."""

    window_s: float = 0.5
    accel_std_g: float = 0.01  # per axis, over the window
    gyro_std_dps: float = 1.0  # per axis, over the window
    min_duration_s: float = 1.0  # shorter still periods are not reported

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.accel_std_g <= 0 or self.gyro_std_dps <= 0 or self.min_duration_s < 0:
            raise ValueError("stillness thresholds must be positive")


QUIET_STANDING = StillnessThresholds(window_s=0.5, accel_std_g=0.06, gyro_std_dps=6.0, min_duration_s=1.5)
"""Looser thresholds for a person standing quietly: the body sways a little."""


@dataclass(frozen=True, slots=True)
class StillPeriod:
    """A stretch of time during which the sensor did not move."""

    start_s: float
    end_s: float
    n: int  # samples averaged (the ones whose whole window was still)
    accel_mean_g: FloatArray
    accel_std_g: FloatArray
    gyro_mean_dps: FloatArray | None
    gyro_std_dps: FloatArray | None
    first_accel_g: FloatArray  # mean over the first window of the period
    last_accel_g: FloatArray  # mean over the last window of the period

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def accel_drift_deg(self) -> float:
        """How far the gravity direction turned between the start and the end of the period."""
        return angle_deg(self.first_accel_g, self.last_accel_g)


def angle_deg(u: FloatArray, v: FloatArray) -> float:
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0.0 or nv == 0.0:
        return 0.0
    c = float(np.dot(u, v)) / (nu * nv)
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


@dataclass(slots=True)
class _Open:
    start_s: float
    n: int = 0
    sum_a: FloatArray = field(default_factory=lambda: np.zeros(3))
    sum_a2: FloatArray = field(default_factory=lambda: np.zeros(3))
    sum_g: FloatArray = field(default_factory=lambda: np.zeros(3))
    sum_g2: FloatArray = field(default_factory=lambda: np.zeros(3))
    first_accel_g: FloatArray = field(default_factory=lambda: np.zeros(3))
    last_accel_g: FloatArray = field(default_factory=lambda: np.zeros(3))
    end_s: float = 0.0


class StillDetector:
    """Streaming still-period detector: feed chunks with :meth:`update`, call :meth:`finish` at the end.

    ``rate_hz`` fixes the window length in samples; when omitted it is estimated from the first
    chunk with at least two samples (pass it explicitly when feeding tiny chunks).
    """

    def __init__(self, thresholds: StillnessThresholds | None = None, rate_hz: float | None = None) -> None:
        self.thresholds = thresholds or StillnessThresholds()
        self._rate_hz = rate_hz
        self._w = 0 if rate_hz is None else self._window_len(rate_hz)
        self._tail_t = np.zeros(0)
        self._tail_a = np.zeros((0, 3))
        self._tail_g: FloatArray | None = None
        self._has_gyro: bool | None = None
        self._open: _Open | None = None

    def _window_len(self, rate_hz: float) -> int:
        return max(2, round(self.thresholds.window_s * rate_hz))

    @property
    def rate_hz(self) -> float | None:
        return self._rate_hz

    @property
    def still_since_s(self) -> float | None:
        """Start of the still period in progress, or ``None`` while the sensor moves."""
        return None if self._open is None else self._open.start_s

    def current(self) -> StillPeriod | None:
        """The still period in progress (possibly shorter than ``min_duration_s``)."""
        return None if self._open is None or self._open.n == 0 else self._close(self._open)

    def update(self, samples: Samples) -> list[StillPeriod]:
        """Feed the next chunk; returns the still periods that ended inside it."""
        if len(samples) == 0:
            return []
        if self._has_gyro is None:
            self._has_gyro = samples.has_gyro
            self._tail_g = np.zeros((0, 3)) if samples.has_gyro else None
        elif self._has_gyro != samples.has_gyro:
            raise ValueError("all chunks must agree on whether they carry gyroscope data")
        if self._w == 0:
            seen = np.concatenate([self._tail_t, samples.t_s])
            rate = Samples(seen, np.zeros((seen.size, 3))).estimated_rate_hz() if seen.size >= 10 else 0.0
            if rate <= 0:
                # Not enough to tell the rate yet: keep the samples for the next chunk.
                self._tail_t = np.concatenate([self._tail_t, samples.t_s])
                self._tail_a = np.concatenate([self._tail_a, samples.accel_g])
                if samples.gyro_dps is not None and self._tail_g is not None:
                    self._tail_g = np.concatenate([self._tail_g, samples.gyro_dps])
                return []
            self._rate_hz = rate
            self._w = self._window_len(rate)

        t = np.concatenate([self._tail_t, samples.t_s])
        a = np.concatenate([self._tail_a, samples.accel_g])
        g = None
        if samples.gyro_dps is not None and self._tail_g is not None:
            g = np.concatenate([self._tail_g, samples.gyro_dps])
        w = self._w
        ended: list[StillPeriod] = []
        if t.shape[0] >= w:
            still, win_mean_a = self._still_flags(a, g, w)
            # still[k] refers to the window x[k : k + w], i.e. the sample x[k + w - 1].
            idx_end = np.arange(w - 1, t.shape[0])
            ended = self._segments(t, a, g, still, win_mean_a, idx_end, w)
        keep = max(w - 1, 0)
        self._tail_t = t[-keep:] if keep else t[:0]
        self._tail_a = a[-keep:] if keep else a[:0]
        if g is not None:
            self._tail_g = g[-keep:] if keep else g[:0]
        return ended

    def finish(self) -> list[StillPeriod]:
        """Close the period still open at the end of the stream."""
        if self._open is None:
            return []
        period = self._close(self._open)
        self._open = None
        return [period] if period.duration_s >= self.thresholds.min_duration_s else []

    # --- internals ------------------------------------------------------------------------

    def _still_flags(self, a: FloatArray, g: FloatArray | None, w: int) -> tuple[np.ndarray, FloatArray]:
        mean_a, std_a = _rolling_mean_std(a, w)
        ok = np.all(std_a < self.thresholds.accel_std_g, axis=1)
        if g is not None:
            _, std_g = _rolling_mean_std(g, w)
            ok &= np.all(std_g < self.thresholds.gyro_std_dps, axis=1)
        return ok, mean_a

    def _segments(
        self,
        t: FloatArray,
        a: FloatArray,
        g: FloatArray | None,
        still: np.ndarray,
        win_mean_a: FloatArray,
        idx_end: np.ndarray,
        w: int,
    ) -> list[StillPeriod]:
        ended: list[StillPeriod] = []
        # The carried tail holds at most w - 1 samples, so every full window ends at a new sample.
        flags, ends, means = still, idx_end, win_mean_a
        if flags.size == 0:
            return ended
        change = np.flatnonzero(np.diff(flags.astype(np.int8))) + 1
        bounds = np.concatenate([[0], change, [flags.size]])
        for lo, hi in itertools.pairwise(bounds):
            if lo == hi:
                continue
            sel = ends[lo:hi]
            if flags[lo]:
                if self._open is None:
                    start = int(sel[0]) - (w - 1)
                    self._open = _Open(start_s=float(t[start]), first_accel_g=means[lo].copy())
                op = self._open
                op.n += sel.size
                op.sum_a += a[sel].sum(axis=0)
                op.sum_a2 += (a[sel] ** 2).sum(axis=0)
                if g is not None:
                    op.sum_g += g[sel].sum(axis=0)
                    op.sum_g2 += (g[sel] ** 2).sum(axis=0)
                op.last_accel_g = means[hi - 1].copy()
                op.end_s = float(t[sel[-1]])
            elif self._open is not None:
                period = self._close(self._open)
                self._open = None
                if period.duration_s >= self.thresholds.min_duration_s:
                    ended.append(period)
        return ended

    def _close(self, op: _Open) -> StillPeriod:
        n = max(op.n, 1)
        mean_a = op.sum_a / n
        std_a = np.sqrt(np.maximum(op.sum_a2 / n - mean_a**2, 0.0))
        mean_g = std_g = None
        if self._has_gyro:
            mean_g = op.sum_g / n
            std_g = np.sqrt(np.maximum(op.sum_g2 / n - mean_g**2, 0.0))
        return StillPeriod(
            start_s=op.start_s,
            end_s=op.end_s,
            n=op.n,
            accel_mean_g=mean_a,
            accel_std_g=std_a,
            gyro_mean_dps=mean_g,
            gyro_std_dps=std_g,
            first_accel_g=op.first_accel_g,
            last_accel_g=op.last_accel_g,
        )


def _rolling_mean_std(x: FloatArray, w: int) -> tuple[FloatArray, FloatArray]:
    """Mean and standard deviation of every full window of ``w`` rows (len(x) - w + 1 of them)."""
    x0 = x - x.mean(axis=0)  # centre first: keeps the running sums well conditioned
    c1 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x0, axis=0)])
    c2 = np.concatenate([np.zeros((1, x.shape[1])), np.cumsum(x0 * x0, axis=0)])
    s1 = c1[w:] - c1[:-w]
    s2 = c2[w:] - c2[:-w]
    mean0 = s1 / w
    var = np.maximum(s2 / w - mean0**2, 0.0)
    return mean0 + x.mean(axis=0), np.sqrt(var)


def detect_still_periods(
    samples: Samples, thresholds: StillnessThresholds | None = None, rate_hz: float | None = None
) -> list[StillPeriod]:
    """All still periods of a recording (the same as streaming it through :class:`StillDetector`)."""
    det = StillDetector(thresholds, rate_hz)
    return det.update(samples) + det.finish()


@dataclass(frozen=True, slots=True)
class StaticPose:
    """One orientation the sensor was held in: the still periods that share a gravity direction."""

    accel_mean_g: FloatArray
    gyro_mean_dps: FloatArray | None
    n: int
    periods: tuple[StillPeriod, ...]

    @property
    def start_s(self) -> float:
        return self.periods[0].start_s


def group_poses(periods: list[StillPeriod], min_separation_deg: float = 10.0) -> list[StaticPose]:
    """Merge still periods whose gravity directions are closer than ``min_separation_deg``.

    Holding the same orientation twice adds no information to an ellipsoid fit; counting it once
    keeps the "poses used" figure honest.
    """
    clusters: list[list[StillPeriod]] = []
    for p in periods:
        for c in clusters:
            if angle_deg(c[0].accel_mean_g, p.accel_mean_g) < min_separation_deg:
                c.append(p)
                break
        else:
            clusters.append([p])
    poses = []
    for c in clusters:
        n = sum(p.n for p in c)
        a = sum((p.accel_mean_g * p.n for p in c), np.zeros(3)) / n
        g = None
        if all(p.gyro_mean_dps is not None for p in c):
            g = sum((p.gyro_mean_dps * p.n for p in c if p.gyro_mean_dps is not None), np.zeros(3)) / n
        poses.append(StaticPose(accel_mean_g=a, gyro_mean_dps=g, n=n, periods=tuple(c)))
    return poses
