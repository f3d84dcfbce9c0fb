"""What the thigh's physics says about a rep, for naming it (issue 11; docs/pipeline.md, "Naming
from the physics of the thigh").

One thigh sensor sees more than the thigh's pitch:

- **how far the sensor came down** for the rep's depth: a squat lowers the hips, and the sensor
  on the thigh with them; a hip hinge (deadlift) turns the thigh about a hip that barely moves.
  ``drop_ratio`` is the sensor's fall from the start of the rep to its bottom divided by
  ``1 - cos(depth)`` (metres): about the thigh and shank's share of the fall, whatever the depth;
- **frontal-plane sway**: the thigh's roll, smoothed to below about 1.5 Hz, with what the rep
  itself explains regressed out (knees out as the thigh flexes, a slow drift): what is left is
  the balance sway of a single leg (real single-leg stance sways 1-3 deg at 0.3-1.5 Hz); two-leg
  work leaves little.
  The naming model reads the **slow** part (smoothed over 0.6 s, below about 0.8 Hz,
  ``slow_sway_deg``): one leg balancing sways slowly, what two legs leave is mostly quicker.
- **sway while the thigh is still** (``still_roll_stats``): in the seconds before each rep, where
  the thigh stands still in pitch (the pauses at the top between reps), the roll's deviation from
  its own mean. One leg keeps balancing there (real single-leg stance sways 1-3 deg at 0.3-1.5 Hz,
  whatever the reps do); two legs stand still (real bilateral squats stand before their first rep
  with 0.02-0.04 deg). Pooled over the set's reps but its first (``still_sway_score``: before
  the first rep a weight shift, or the foot's lift, reads as sway), it also sees sway too slow
  for one rep's window, which the rep's own roll regression absorbs.

The first two are measured over the rep's own samples, the third over the seconds before it; all
with windows in seconds, so they do not depend on the sample rate, and none needs the gyroscope
(roll and height come from the accelerometer too), though without one the roll moves with every
push of a rep, so only the still sway is read for single-leg work then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracker.samples import FloatArray

SMOOTH_S = 0.33  # moving average: sway above about 1.5 Hz (tremor, soft tissue, noise) is dropped
SLOW_SMOOTH_S = 0.6  # moving average: only the slow sway of balancing (below about 0.8 Hz) is kept
# the sway while the thigh is still, in the seconds before a rep (still_roll_stats)
STILL_PRE_S = 3.0  # looked at from this long before the rep started ...
STILL_ONSET_S = 0.3  # ... to this long before (the push that starts the rep may tilt the roll first)
STILL_SMOOTH_S = 0.5  # pitch and roll smoothed over this (tremor, soft tissue and noise dropped)
STILL_BAND_DEG = 4.0  # still: within this of the standing angle ...
STILL_RATE_DPS = 10.0  # ... turning slower than this (smoothed pitch) ...
STILL_MIN_S = 0.4  # ... for at least this long at a stretch


@dataclass(frozen=True, slots=True)
class RepPhysics:
    fall_m: float  # how far the sensor came down from the start of the rep to its bottom
    drop_ratio_m: float  # fall_m / (1 - cos depth); squats ~0.2-0.6, hinges ~0
    frontal_sway_deg: float  # RMS of the smoothed roll left after the rep's own roll is regressed out
    slow_sway_deg: float = 0.0  # the same, smoothed over 0.6 s: the slow sway of one leg balancing
    # the roll's squared deviation while the thigh stood still before the rep, times seconds, and
    # those seconds (still_roll_stats): summed over a set, their ratio is the still sway's square
    still_sq_s: float = 0.0
    still_s: float = 0.0


NO_PHYSICS = RepPhysics(0.0, 0.0, 0.0, 0.0)


def median_step(t: FloatArray) -> float:
    """The trace's median sample interval: what ``np.median(np.diff(t))`` gives (the same bits),
    without its general machinery (a third of this module's cost per rep)."""
    d = np.diff(t)
    n = d.size
    if n == 0 or not np.isfinite(d).all():
        return float(np.median(d)) if n else 0.0
    h = n // 2
    if n % 2:
        return float(np.partition(d, h)[h])
    part = np.partition(d, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2.0)


def _smooth(t: FloatArray, x: FloatArray, span_s: float, dt: float | None = None) -> FloatArray:
    """Centred moving average over ``span_s`` (by the trace's median interval ``dt``)."""
    if dt is None:
        dt = median_step(t) if len(t) > 1 else 0.0
    k = round(span_s / dt) if dt > 0 else 1
    if k < 2 or len(x) < k:
        return x
    kernel = np.ones(k) / k
    # (edges repeated as np.pad(mode="edge") does, without its cost)
    padded = np.concatenate([np.full(k // 2, x[0]), x, np.full(k - 1 - k // 2, x[-1])])
    return np.asarray(np.convolve(padded, kernel, mode="valid"))


def sensor_fall_m(
    t: FloatArray, height_m: FloatArray, k_bottom: int, tau_s: float, dt_nom: float | None = None
) -> float:
    """How far the sensor came down from the start of the rep to its bottom. The pipeline's height
    is a leaky double integral (time constant ``tau_s``) that forgets a slow rep's fall; here the
    vertical acceleration is recovered from it and integrated again over the rep alone, with the
    velocity zero at both ends (standing still before and after), so a slow rep's fall is kept."""
    dt = np.diff(t)
    if dt_nom is None:
        dt_nom = median_step(t)
    leak = float(np.exp(-dt_nom / tau_s))
    # the height filter is h[n] = 2 leak h[n-1] - leak^2 h[n-2] + dt_nom * dv[n]
    dv = (height_m[2:] - 2.0 * leak * height_m[1:-1] + leak * leak * height_m[:-2]) / dt_nom
    v = np.concatenate([[0.0], np.cumsum(dv)])  # from the second sample on
    v -= np.linspace(0.0, float(v[-1]), len(v))  # still at both ends: the drift is removed
    h = np.concatenate([[0.0], np.cumsum(v[1:] * dt[1:])])
    kb = min(max(k_bottom - 1, 0), len(h) - 1)
    return float(-h[kb])


def _rep_roll_basis(t: FloatArray, pitch_deg: FloatArray, k_bottom: int) -> FloatArray:
    """What the rep itself explains in the thigh's roll: a slow drift, and the roll that goes with
    the pitch, on the way down and on the way up (knees out; they need not come back the same way)."""
    p = pitch_deg - float(np.mean(pitch_deg))
    tc = t - float(np.mean(t))
    down = (np.arange(len(t)) <= k_bottom).astype(float)
    return np.column_stack([np.ones_like(t), tc, p, p * p / 90.0, down, p * down])


def _unexplained_rms(basis: FloatArray, roll: FloatArray) -> float:
    """RMS of what is left of ``roll`` once the rep's own roll (``basis``) is regressed out."""
    coef, *_ = np.linalg.lstsq(basis, roll, rcond=None)
    resid = roll - basis @ coef
    return round(float(np.sqrt(np.mean(resid * resid))), 4)


def slow_frontal_sway_deg(
    t: FloatArray,
    pitch_deg: FloatArray,
    roll_deg: FloatArray,
    k_bottom: int,
    dt: float | None = None,
    basis: FloatArray | None = None,
) -> float:
    """RMS of the thigh's roll smoothed over ``SLOW_SMOOTH_S`` (sway below about 0.8 Hz) with the
    rep's own roll regressed out as in :func:`rep_physics`. One leg balancing sways slowly (real
    single-leg stance: 0.3-1.5 Hz); what two-leg work leaves in the roll is mostly quicker (the
    pushes of the rep, soft tissue), and smoothing over 0.6 s drops it. The window is in seconds,
    so the value does not depend on the sample rate. (``dt``, ``basis``: the trace's median interval
    and :func:`_rep_roll_basis`, when the caller has them.)"""
    if len(t) < 8:
        return 0.0
    if basis is None:
        basis = _rep_roll_basis(t, pitch_deg, k_bottom)
    return _unexplained_rms(basis, _smooth(t, roll_deg, SLOW_SMOOTH_S, dt))


def still_roll_stats(
    t: FloatArray, pitch_deg: FloatArray, roll_deg: FloatArray, standing_deg: float, t_start_s: float
) -> tuple[float, float]:
    """The roll's sway while the thigh stood still before a rep that started at ``t_start_s``:
    ``(sum of squared deviation x seconds, seconds)`` over the stretches of at least
    ``STILL_MIN_S`` between ``STILL_PRE_S`` and ``STILL_ONSET_S`` before the start where the
    smoothed pitch is within ``STILL_BAND_DEG`` of ``standing_deg`` and turns slower than
    ``STILL_RATE_DPS``; the deviation is from each stretch's own mean roll (a stance shifted
    between reps is no sway). ``t``, ``pitch_deg``, ``roll_deg``: the samples before the rep
    (from ``STILL_SMOOTH_S`` earlier than the window, for the smoothing). Windows are in seconds
    and every sum is weighted by the sample interval, so the figures do not depend on the rate."""
    if len(t) < 8:
        return 0.0, 0.0
    dt = median_step(t)
    if not dt > 0:
        return 0.0, 0.0
    pitch = _smooth(t, pitch_deg, STILL_SMOOTH_S, dt)
    roll = _smooth(t, roll_deg, STILL_SMOOTH_S, dt)
    rate = np.gradient(pitch, t)
    window = (t >= t_start_s - STILL_PRE_S) & (t <= t_start_s - STILL_ONSET_S)
    still = window & (np.abs(pitch - standing_deg) < STILL_BAND_DEG) & (np.abs(rate) < STILL_RATE_DPS)
    idx = np.flatnonzero(still)
    if not idx.size:
        return 0.0, 0.0
    sq_s = seconds = 0.0
    for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
        span = float(t[run[-1]] - t[run[0]])
        if span < STILL_MIN_S:
            continue
        dev = roll[run] - float(np.mean(roll[run]))
        sq_s += float(np.mean(dev * dev)) * span
        seconds += span
    return round(sq_s, 6), round(seconds, 4)


def rep_physics(
    t: FloatArray,
    pitch_deg: FloatArray,
    roll_deg: FloatArray,
    height_m: FloatArray,
    k_bottom: int,
    depth_deg: float,
    tau_s: float,
    still: tuple[float, float] = (0.0, 0.0),
) -> RepPhysics:
    """The physics of one rep from its trace (start to back at standing) and its bottom sample;
    ``still``: :func:`still_roll_stats` of the samples before it."""
    if len(t) < 8:
        return NO_PHYSICS
    dt_nom = median_step(t)
    fall = sensor_fall_m(t, height_m, k_bottom, tau_s, dt_nom)
    denom = 1.0 - float(np.cos(np.radians(min(abs(depth_deg), 120.0))))
    ratio = fall / denom if denom > 0.02 else 0.0
    basis = _rep_roll_basis(t, pitch_deg, k_bottom)
    sway = _unexplained_rms(basis, _smooth(t, roll_deg, SMOOTH_S, dt_nom))
    slow = slow_frontal_sway_deg(t, pitch_deg, roll_deg, k_bottom, dt_nom, basis)
    return RepPhysics(round(fall, 4), round(ratio, 4), sway, slow, *still)


# --- the naming model: two small logistic regressions, fitted on the simulator ---------------
# (bench/naming_fit.py: hinge on simulated seeds 0-3, single on seeds 0-11; docs/pipeline.md
# gives the figures). Each is
# "P = 1 / (1 + exp(-(w0 + w . x)))" over the features below; a rep is a hinge / single-leg work
# when its P is over one half, that is when the weighted sum is positive.
FEATURE_NAMES = ("depth_deg / 45", "fall_m / 0.05", "frontal_sway_deg", "slow_sway_deg")
HINGE_FEATURES = (0, 1)  # depth and the sensor's fall: a hinge barely lowers the sensor
SINGLE_FEATURES = (3, 0)  # slow frontal sway (and depth): one leg balances, two legs barely sway
HINGE_W = (9.307, -10.572, -0.939)  # bias, depth, fall
SINGLE_W = (-2.515, 19.098, -2.761)  # bias, slow frontal sway, depth


# A squat or a hinge does not raise a sensor on the thigh by more than a few centimetres (a sensor
# up to about 8 cm in front of the femur rises by that offset times sin(depth), less the thigh's own
# drop). A larger rise is the double integral's error (an accelerometer bias turning with the
# thigh), so the model reads the fall no lower than this.
FALL_FLOOR_M = -0.05


def features(
    depth_deg: float, fall_m: float, frontal_sway_deg: float, slow_sway_deg: float = 0.0
) -> tuple[float, float, float, float]:
    """The model's inputs, scaled to about 1; the fall no lower than ``FALL_FLOOR_M``. (The fall
    per ``1 - cos(depth)`` read no better: at shallow depths its denominator is small and a
    centimetre of height error moves it a lot.)"""
    return (depth_deg / 45.0, max(fall_m, FALL_FLOOR_M) / 0.05, frontal_sway_deg, slow_sway_deg)


def _score(weights: tuple[float, ...], x: tuple[float, ...], cols: tuple[int, ...]) -> float:
    return weights[0] + sum(w * x[c] for w, c in zip(weights[1:], cols, strict=True))


def hinge_score(depth_deg: float, physics: RepPhysics) -> float:
    """The hinge model's log-odds: positive for the deadlift family."""
    x = features(depth_deg, physics.fall_m, physics.frontal_sway_deg, physics.slow_sway_deg)
    return _score(HINGE_W, x, HINGE_FEATURES)


def single_score(depth_deg: float, physics: RepPhysics, accel_only: bool = False) -> float:
    """The single-leg model's log-odds: positive for single-leg work. Not without a gyroscope
    (minus infinity): the accelerometer's roll moves with every push of the rep, and on the
    simulator the model then tells single-leg from two-leg reps no better than chance (53 %)."""
    if accel_only:
        return float("-inf")
    x = features(depth_deg, physics.fall_m, physics.frontal_sway_deg, physics.slow_sway_deg)
    return _score(SINGLE_W, x, SINGLE_FEATURES)


# the still sway's weight (log-odds of single-leg work per rep, per e-fold of the sway) and where it
# says neither (deg); without a gyroscope the accelerometer's roll is noisier, so the line is higher.
# With a gyroscope both are chosen on the sets of firmware_sim seeds 0-7 and the independent thigh
# model's seeds 0-5 together (docs/pipeline.md, "Fifth pass: one line for two simulators"): two-leg
# sets there stand still with 0.15-0.90 deg of sway, single-leg ones with 0.52-3.4 deg, and the line
# sits between the two-leg sets of one and the single-leg sets of the other. Without a gyroscope
# they are the fourth pass's ("Fourth pass: sway while the thigh stands still").
STILL_W = 9.0
STILL_LINE_DEG = 0.55
STILL_W_ACCEL = 6.0
STILL_LINE_ACCEL_DEG = 0.70
STILL_MIN_SET_S = 1.0  # the still sway counts once the set has stood still this long before its reps


def still_sway_score(still_sq_s: float, still_s: float, accel_only: bool = False) -> float | None:
    """Log-odds of single-leg work per rep from the sway while the thigh stood still, pooled over
    a set's reps but its first (the sums of :attr:`RepPhysics.still_sq_s` and :attr:`RepPhysics.still_s`); None
    when the set has not stood still long enough to tell."""
    if still_s < STILL_MIN_SET_S:
        return None
    sway = float(np.sqrt(max(still_sq_s, 0.0) / still_s))
    if accel_only:
        return STILL_W_ACCEL * float(np.log(max(sway, 1e-3) / STILL_LINE_ACCEL_DEG))
    return STILL_W * float(np.log(max(sway, 1e-3) / STILL_LINE_DEG))


def set_single_score(
    rep_sum: float, reps: int, still_sq_s: float, still_s: float, accel_only: bool = False
) -> float:
    """A set's log-odds of single-leg work: the reps' summed :func:`single_score` and, per rep, the
    still sway's (:func:`still_sway_score`). Without a gyroscope the reps' own sway says nothing
    (the accelerometer's roll moves with every push), so only the still sway names single-leg
    work; with too little stillness to tell, such a set is two-leg work (minus infinity)."""
    still = still_sway_score(still_sq_s, still_s, accel_only)
    if accel_only:
        return float("-inf") if still is None else reps * still
    return rep_sum + (0.0 if still is None else reps * still)


def is_hinge(depth_deg: float, physics: RepPhysics) -> bool:
    """The thigh turned about a hip that barely came down: the deadlift family."""
    return hinge_score(depth_deg, physics) > 0.0


def is_single_leg(depth_deg: float, physics: RepPhysics, accel_only: bool = False) -> bool:
    """The thigh swayed side to side as one leg balancing does: single-leg work."""
    return single_score(depth_deg, physics, accel_only) > 0.0


# A thigh held flexed and flexing further from there is a free leg held in the air (single-leg
# squat, free leg) or the front leg of a split stance (split squat, a lunge held in place): the
# foot in the air or planted in front. A free leg belongs to a body balancing on the other leg and
# sways with it, and follows the standing thigh's flexion only in part (0.2-0.6 of it: up to about
# 35 deg from where it is held on both simulators); a front foot planted in a split stance keeps
# the body on two feet, and that thigh flexes 30-60 deg further. So such a set that reads as
# two-leg work on the single-leg model (the reps' slow sway and the still sway, as for any set)
# by more than this margin per rep, and flexes at least this far from the hold, is a split stance:
# named `lunge` (the product has no `split_squat` yet). Gyroscope only: without one the reps' sway
# is not read. (docs/pipeline.md, "Fifth pass: one line for two simulators")
SPLIT_MAX_SINGLE = -2.0  # log-odds of single-leg work per rep, at most
SPLIT_MIN_DEPTH_DEG = 36.0  # mean flexion from the hold, at least


def split_stance(
    single_sum: float, reps: int, depth_sum_deg: float, still_sq_s: float, still_s: float
) -> bool:
    """Reps measured from a thigh held flexed (``parked``) are a split stance's front leg, not a
    free leg in the air: they flex far from the hold and the body does not sway as on one leg.
    ``single_sum``: the reps' summed :func:`single_score`; ``still_sq_s``, ``still_s``: their
    still sway's sums but the first rep's (as :func:`set_single_score` takes them)."""
    if reps <= 0 or depth_sum_deg / reps < SPLIT_MIN_DEPTH_DEG:
        return False
    return set_single_score(single_sum, reps, still_sq_s, still_s) < SPLIT_MAX_SINGLE * reps
