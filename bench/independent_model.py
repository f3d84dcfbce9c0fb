"""An independent thigh model: a validation set the pipeline is never tuned on (issue 11).

Written from biomechanics, not from ``firmware_sim`` (nothing here imports it): a foot fixed on
the floor, shank, thigh and pelvis in the sagittal plane, rolled in the frontal plane about the
standing ankle; per exercise the joint angles of every rep (ankle dorsiflexion, knee flexion, hip
flexion) are drawn from published ranges, the sensor's position and orientation follow from the
chain, and the IMU reads the second derivative of that position minus gravity (specific force, g)
and the rate of that orientation (deg/s), in a randomly mounted sensor frame, at a consumer
sensor's rate with its noise, bias and scale errors. Sessions (sets between walks) are written as
generic CSV recordings, read back with ``tracker.io.load.load_session`` and replayed through the
pipeline on their own clock, as ``bench/accuracy.py`` does for the real files.

Conventions: world x forward, y to the athlete's left, z up (m). A thigh's frame has its origin at
the hip joint, z along the thigh towards the hip (the knee at ``-thigh_m`` on z), x forward, y
left. Angles in degrees: ``flex`` is the thigh's forward flexion from vertical (the knee ahead of
the hip: positive), ``roll`` its frontal-plane angle (the knee towards +y: positive), ``yaw`` the
heading. ``R_world_thigh = Rz(yaw) Rx(roll) Ry(-flex)``.

Prints, per exercise and sensor leg, per sample rate and per start of the set: sets counted
exactly, named right, what else they were named and which rejection rules turned down candidates
inside them; false sets outside the sets (walking, standing); and the pipeline's per-rep features
of the model's reps beside the real CMU files' (``--no-compare`` skips the latter).

Run: ``.venv/bin/python bench/independent_model.py [--sets 44] [--seed 0] [--keep DIR]
[--no-compare]`` (44 sets: about 9 s of CPU; ``--keep`` keeps the CSV recordings). Writes
bench/results/independent.json. Do not tune the pipeline on it (docs/pipeline.md, "An
independent thigh model").
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import run_pipeline, write_results  # noqa: E402
from tracker.events import SetEvent  # noqa: E402
from tracker.io.load import load_session  # noqa: E402

G = 9.80665  # m/s^2
FS = 1000.0  # internal rate of the kinematics, Hz
RATES_HZ = (25.0, 50.0, 52.0, 100.0, 104.0, 200.0)
DATA = next(
    (d for d in (ROOT.parent / "shared" / "data", Path("/work/shared/data")) if d.is_dir()),
    ROOT.parent / "shared" / "data",
)

# what each modelled set should be named; the product has no ``split_squat`` yet, so a split
# squat named ``lunge`` (its family) is also counted right, and said so in the report
EXPECTED: dict[str, tuple[str, ...]] = {
    "squat": ("squat",),
    "half_squat": ("squat",),
    "deadlift": ("deadlift",),
    "single_leg_squat": ("single_leg_squat",),
    "single_leg_deadlift": ("single_leg_deadlift",),
    "lunge": ("lunge",),
    "split_squat": ("split_squat", "lunge"),
}
SQUAT_OR_DEADLIFT = ("squat", "single_leg_squat", "deadlift", "single_leg_deadlift")


# --------------------------------------------------------------------------- rotations, profiles


def rot_x(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_y(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rot_z(deg: np.ndarray) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def thigh_rotation(flex: np.ndarray, roll: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """World-from-thigh rotation, (N, 3, 3)."""
    return rot_z(yaw) @ rot_x(roll) @ rot_y(-flex)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rotation (the sensor strapped on in any orientation)."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def smooth(x: np.ndarray) -> np.ndarray:
    """Minimum-jerk step 0 -> 1 on x in [0, 1] (clipped outside)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (10 - 15 * x + 6 * x * x)


def ramp(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    return smooth((t - t0) / max(t1 - t0, 1e-6))


def sway(rng: np.random.Generator, n: int, amp_deg: float, f_lo: float, f_hi: float) -> np.ndarray:
    """Balance sway: three sinusoids at random frequencies in [f_lo, f_hi] Hz with random phases,
    scaled so the sway has the RMS of a sinusoid of amplitude ``amp_deg``."""
    t = np.arange(n) / FS
    out = np.zeros(n)
    for _ in range(3):
        out += rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * rng.uniform(f_lo, f_hi) * t + rng.uniform(0, 6.3))
    rms = float(np.sqrt(np.mean(out**2))) or 1.0
    return out * amp_deg / np.sqrt(2) / rms


def drift(rng: np.random.Generator, n: int, rms: float, hz: float = 0.3) -> np.ndarray:
    """Slow random wander (quiet-stance posture), low-passed white noise of the given RMS."""
    if n < 16:
        return np.zeros(n)
    sos = butter(2, hz, fs=FS, output="sos")
    x = sosfilt(sos, rng.normal(size=n + int(5 * FS)))[int(5 * FS) :]
    s = float(np.std(x)) or 1.0
    return np.asarray(x * rms / s)


# --------------------------------------------------------------------------- body


@dataclass
class Body:
    """Segment lengths from anthropometric ratios of the height (Winter's tables), and the sensor."""

    height_m: float
    thigh_m: float
    shank_m: float
    ankle_m: float  # ankle joint above the floor
    hip_half_width_m: float  # hip joint centre from the mid-line
    thigh_radius_m: float  # skin over the thigh's axis at the sensor
    sensor_frac: float  # 0.3-0.7 of the way from hip to knee
    sensor_around_deg: float  # 0: front of the thigh, 90: its outer side
    mounting: np.ndarray  # thigh-from-sensor rotation
    side: int  # +1: sensor on the left thigh, -1: on the right

    @property
    def hip_m(self) -> float:
        return self.ankle_m + self.shank_m + self.thigh_m

    @classmethod
    def draw(cls, rng: np.random.Generator, side: int) -> Body:
        h = float(rng.uniform(1.5, 2.0))
        return cls(
            height_m=h,
            thigh_m=h * 0.245 * float(rng.uniform(0.95, 1.05)),
            shank_m=h * 0.246 * float(rng.uniform(0.95, 1.05)),
            ankle_m=h * 0.039,
            hip_half_width_m=h * 0.05,
            thigh_radius_m=float(rng.uniform(0.055, 0.09)),
            sensor_frac=float(rng.uniform(0.3, 0.7)),
            sensor_around_deg=float(rng.uniform(-20, 110)),
            mounting=random_rotation(rng),
            side=side,
        )

    def sensor_offset(self) -> np.ndarray:
        """The sensor in the thigh's frame (on the skin, part way down)."""
        a = np.radians(self.sensor_around_deg)
        r = self.thigh_radius_m
        return np.array([r * np.cos(a), self.side * r * np.sin(a), -self.sensor_frac * self.thigh_m])


# --------------------------------------------------------------------------- motion of one thigh


@dataclass
class Motion:
    """The sensor thigh over one activity at FS: its hip joint (local frame of the activity, x
    forward from where it started), flexion, roll, heading change, and soft-tissue jolts (world
    acceleration added to the rigid motion, m/s^2)."""

    hip: np.ndarray
    flex: np.ndarray
    roll: np.ndarray
    yaw: np.ndarray
    jolt: np.ndarray
    reps: list[dict[str, float]] = field(default_factory=list)  # t_start / t_bottom / t_end, s

    @classmethod
    def still(cls, n: int, hip: np.ndarray) -> Motion:
        return cls(np.tile(hip, (n, 1)), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros((n, 3)))

    def __len__(self) -> int:
        return len(self.flex)


def add_jolt(jolt: np.ndarray, t0: float, amp_g: float, rng: np.random.Generator, fwd: float = 0.4) -> None:
    """A foot strike's soft-tissue shake: a damped 12-20 Hz oscillation, mostly vertical."""
    k0 = int(t0 * FS)
    if k0 >= len(jolt) or k0 < 0:
        return
    n = min(int(0.15 * FS), len(jolt) - k0)
    t = np.arange(n) / FS
    f, tau = rng.uniform(12, 20), rng.uniform(0.02, 0.035)
    w = amp_g * G * np.exp(-t / tau) * np.sin(2 * np.pi * f * t)
    jolt[k0 : k0 + n, 2] += w
    jolt[k0 : k0 + n, 0] -= fwd * w


def rep_profile(
    rng: np.random.Generator,
    reps: int,
    depth_jitter: float = 0.08,
    bottom_pause: tuple[float, float] = (0.0, 0.4),
    tempo_s: tuple[float, float] = (1.0, 4.0),
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """``u(t)``: 0 standing, about 1 at the bottom of each rep, with a random tempo per set
    (``tempo_s``: 1-4 s a rep), asymmetric down/up, a pause at the bottom and 0-1.5 s at the top,
    and a depth that varies from rep to rep. Each way down or up is a blend of a minimum-jerk step
    (starts and stops gently) and a half cosine (starts and stops at once: the quick reversal of a
    bouncy rep), the blend random per set. Returns u at FS and each rep's start / bottom / end
    times."""
    dur = rng.uniform(*tempo_s)
    bounce = rng.uniform(0.0, 1.0)

    def step(x: np.ndarray, t0: float, t1: float) -> np.ndarray:
        y = np.clip((x - t0) / max(t1 - t0, 1e-6), 0.0, 1.0)
        return (1 - bounce) * smooth(y) + bounce * (0.5 - 0.5 * np.cos(np.pi * y))

    down_share = rng.uniform(0.35, 0.65)
    top_pause = rng.uniform(0.0, 1.5)
    bottom = rng.uniform(*bottom_pause)
    parts: list[np.ndarray] = []
    times: list[dict[str, float]] = []
    t = 0.0
    for _ in range(reps):
        d = dur * rng.uniform(0.85, 1.15)
        t_down = d * down_share * rng.uniform(0.9, 1.1)
        t_up = d - t_down
        t_bot = bottom * rng.uniform(0.5, 1.5)
        t_top = top_pause * rng.uniform(0.5, 1.5)
        depth = float(np.clip(1 + depth_jitter * rng.normal(), 0.8, 1.2))
        x = np.arange(int((t_down + t_bot + t_up) * FS)) / FS
        u = depth * (step(x, 0, t_down) - step(x, t_down + t_bot, t_down + t_bot + t_up))
        parts += [u, np.zeros(int(t_top * FS))]
        times.append({"t_start_s": t, "t_bottom_s": t + t_down + t_bot / 2, "t_end_s": t + len(u) / FS})
        t += (len(u) + int(t_top * FS)) / FS
    return np.concatenate(parts), times


def leg_chain(body: Body, shank_deg: np.ndarray, thigh_deg: np.ndarray, roll_deg: np.ndarray) -> np.ndarray:
    """Hip joint of a leg whose foot is flat on the floor, ankle under the standing hip: the shank
    leans forward by ``shank_deg`` (ankle dorsiflexion), the thigh by ``thigh_deg`` (knee flexion
    minus ankle dorsiflexion), and the whole leg rolls by ``roll_deg`` about the ankle."""
    s, th = np.radians(shank_deg), np.radians(thigh_deg)
    x = body.shank_m * np.sin(s) - body.thigh_m * np.sin(th)
    z = body.shank_m * np.cos(s) + body.thigh_m * np.cos(th)
    r = np.radians(roll_deg)
    # roll about the ankle's x axis: z turns towards +y
    return np.stack([x, -z * np.sin(r), body.ankle_m + z * np.cos(r)], -1)


def two_link(body: Body, hip: np.ndarray, foot: np.ndarray) -> np.ndarray:
    """Thigh flexion (deg) of a leg from its hip to a planted ankle point, knee bent forward
    (inverse kinematics in the sagittal plane; out of reach: the leg straight along the line)."""
    dx = foot[:, 0] - hip[:, 0]
    dz = hip[:, 2] - foot[:, 1]
    reach, soft = 0.98 * (body.thigh_m + body.shank_m), 0.01
    d = np.hypot(dx, dz)
    d = np.maximum(-soft * np.logaddexp(-d / soft, -reach / soft), 1e-3)  # a smooth min(d, reach)
    line = np.arctan2(dx, dz)  # from straight down, forward positive
    cos_b = (body.thigh_m**2 + d**2 - body.shank_m**2) / (2 * body.thigh_m * d)
    return np.degrees(line + np.arccos(np.clip(cos_b, -1, 1)))


# --------------------------------------------------------------------------- activities


def stand(rng: np.random.Generator, body: Body, seconds: float) -> Motion:
    """Quiet standing: the thigh wanders 0.1-0.3 deg at 0.05-0.25 Hz (well under 1 deg/s of
    turning, as real calibrated sensors read), the hip a few mm."""
    n = int(seconds * FS)
    m = Motion.still(n, np.array([0.0, 0.0, body.hip_m]))
    if n:
        m.flex = sway(rng, n, rng.uniform(0.1, 0.3), 0.05, 0.25)
        m.roll = sway(rng, n, rng.uniform(0.05, 0.2), 0.05, 0.25)
        m.hip[:, 0] += drift(rng, n, 0.003, 0.15)
        m.hip[:, 1] += drift(rng, n, 0.002, 0.15)
    return m


def walk(rng: np.random.Generator, body: Body, seconds: float) -> Motion:
    """A simple gait: the thigh swings about -15..+25 deg at the stride rate (about 0.9 Hz), the
    hip rises and falls twice a stride and sways once, heel strikes shake the thigh; one 180-deg
    turn in place half way when the walk is long enough; ramps in and out over a second."""
    n = int(seconds * FS)
    t = np.arange(n) / FS
    f = rng.uniform(0.8, 1.0)
    v = body.height_m * rng.uniform(0.6, 0.8) * f  # stride length ~1.2-1.6 height-proportioned
    env = ramp(t, 0, 1.0) * (1 - ramp(t, seconds - 1.0, seconds))
    yaw = np.zeros(n)
    if seconds > 8:
        tm = seconds / 2 + rng.uniform(-1, 1)
        env = env * (1 - ramp(t, tm - 1.2, tm - 0.4) + ramp(t, tm + 0.8, tm + 1.6))
        yaw = float(rng.choice([-180.0, 180.0])) * ramp(t, tm - 0.5, tm + 1.0)
    ph0 = rng.uniform(0, 2 * np.pi)
    phase = 2 * np.pi * np.cumsum(f * (0.3 + 0.7 * env)) / FS + ph0
    swing = rng.uniform(17, 23)
    flex = env * (5 + swing * np.sin(phase) + 2.5 * np.sin(2 * phase + 0.7))
    hip = np.zeros((n, 3))
    speed = v * env
    hip[:, 0] = np.cumsum(speed * np.cos(np.radians(yaw))) / FS
    hip[:, 1] = np.cumsum(speed * np.sin(np.radians(yaw))) / FS + env * 0.02 * np.sin(phase)
    hip[:, 2] = body.hip_m - env * (0.015 + 0.02 * np.cos(2 * phase))
    roll = env * body.side * 3.0 * np.sin(phase + 1.2)
    m = Motion(hip, flex, roll, yaw, np.zeros((n, 3)))
    # heel strikes: the sensor leg's near its largest flexion, the other leg's half a stride later
    own = rng.uniform(0.5, 1.2)
    k = np.flatnonzero((np.diff(np.floor((phase - np.pi / 2 - 0.35) / (2 * np.pi))) > 0) & (env[1:] > 0.5))
    for kk in k:
        add_jolt(m.jolt, kk / FS, own * rng.uniform(0.8, 1.2), rng)
        add_jolt(m.jolt, kk / FS + 0.5 / f, 0.35 * own * rng.uniform(0.8, 1.2), rng)
    return m


def chain_set(
    rng: np.random.Generator,
    body: Body,
    reps: int,
    knee: tuple[float, float],
    shank: Callable[[float], float],
    sway_deg: tuple[float, float],
    knees_out: tuple[float, float] = (0.0, 0.0),
    bottom_pause: tuple[float, float] = (0.0, 0.4),
    tempo_s: tuple[float, float] = (1.0, 4.0),
) -> tuple[Motion, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A set on a planted foot: knee flexion to ``knee`` deg at the bottom, the shank's lean given
    the knee, the thigh's flexion their difference; frontal sway about the ankle at 0.3-1.5 Hz. The
    sensor thigh is this leg; also returns the hip path, u(t), the standing thigh's flexion and
    the sway (for a free leg)."""
    u, times = rep_profile(rng, reps, bottom_pause=bottom_pause, tempo_s=tempo_s)
    k_bot = rng.uniform(*knee)
    s_bot = shank(k_bot)
    k0, s0 = rng.uniform(0, 5), rng.uniform(0, 3)
    kn = k0 + (k_bot - k0) * u
    sh = s0 + (s_bot - s0) * u
    th = kn - sh
    roll = sway(rng, len(u), rng.uniform(*sway_deg), 0.3, 1.5)
    hip = leg_chain(body, sh, th, roll)
    hip[:, 0] -= hip[0, 0]
    out = rng.uniform(*knees_out)
    m = Motion(hip, th, roll + body.side * out * u, np.zeros(len(u)), np.zeros((len(u), 3)), times)
    return m, hip, u, th, roll


def set_motion(
    rng: np.random.Generator,
    body: Body,
    kind: str,
    sensor_on: str,
    reps: int,
    tempo_s: tuple[float, float] = (1.0, 4.0),
) -> Motion:
    """One set of ``kind`` with the sensor on the ``standing``/``free``/``front``/``back``/``both``
    leg (joint ranges: see the module's docs/pipeline.md section)."""
    two = (0.2, 0.8)  # two-leg sway, deg
    one = (1.0, 3.0)  # single-leg balance sway, deg (real single-leg stance)
    if kind == "squat":
        return chain_set(
            rng, body, reps, (90, 130), lambda k: rng.uniform(20, 35), two, (0, 10), tempo_s=tempo_s
        )[0]
    if kind == "half_squat":
        return chain_set(
            rng, body, reps, (50, 80), lambda k: k * rng.uniform(0.2, 0.3), two, (0, 6), tempo_s=tempo_s
        )[0]
    if kind == "deadlift":
        # hip 60-100 deg is mostly the trunk's; the thighs follow the knee, the shank near vertical
        return chain_set(
            rng, body, reps, (15, 35), lambda k: rng.uniform(0, 6), two, (0, 3), (0.2, 1.0), tempo_s=tempo_s
        )[0]
    if kind == "single_leg_squat":
        m, hip, u, th, roll = chain_set(
            rng, body, reps, (50, 100), lambda k: k * rng.uniform(0.3, 0.45), one, (-8, 5), tempo_s=tempo_s
        )
        if sensor_on == "standing":
            return m
        return free_leg(rng, body, m, hip, u, th, roll, "single_leg_squat")
    if kind == "single_leg_deadlift":
        travel = rng.uniform(10, 30)
        m, hip, u, th, roll = chain_set(
            rng,
            body,
            reps,
            (10, 25),
            lambda k: float(np.clip(k - travel, -5, 10)),
            one,
            (-3, 3),
            (0.2, 1.0),
            tempo_s,
        )
        if sensor_on == "standing":
            return m
        return free_leg(rng, body, m, hip, u, th, roll, "single_leg_deadlift")
    slow = tempo_s != (1.0, 4.0)  # a narrower tempo for lunges too (the default keeps its own draws)
    if kind == "lunge":
        return lunge(rng, body, reps, sensor_on, step=True, tempo_s=tempo_s if slow else None)
    if kind == "split_squat":
        return lunge(rng, body, reps, sensor_on, step=False, tempo_s=tempo_s if slow else None)
    raise ValueError(kind)


def free_leg(
    rng: np.random.Generator,
    body: Body,
    standing: Motion,
    hip: np.ndarray,
    u: np.ndarray,
    th: np.ndarray,
    roll: np.ndarray,
    kind: str,
) -> Motion:
    """The free thigh of single-leg work: its hip joint is the standing hip's partner across the
    pelvis (rolling with the standing leg's sway); single-leg squat: held in front (30-70 deg,
    raised further as the athlete goes down), hovering with the knee bent (near vertical, moving
    little) or with the foot on the standing knee (abducted 35-55 deg); single-leg deadlift: the
    thigh swings back to 30-60 deg of extension."""
    across = 2 * body.hip_half_width_m * body.side  # from the standing hip to the free one
    fhip = hip.copy()
    r = np.radians(roll)
    fhip[:, 1] += across * np.cos(r)
    fhip[:, 2] += across * np.sin(r)
    if kind == "single_leg_deadlift":
        flex = -rng.uniform(30, 60) * u + drift(rng, len(u), 1.0, 1.0)
        froll = roll
    else:
        style = str(rng.choice(["front", "hover", "knee"]))
        if style == "front":
            base, k, ab = rng.uniform(30, 70), rng.uniform(0.2, 0.6), 0.0
        elif style == "hover":
            base, k, ab = rng.uniform(0, 15), rng.uniform(-0.1, 0.3), 0.0
        else:
            base, k, ab = rng.uniform(20, 40), rng.uniform(0.0, 0.4), rng.uniform(35, 55)
        lift = ramp(np.arange(len(u)) / FS, 0, 0.6) * (
            1 - ramp(np.arange(len(u)) / FS, len(u) / FS - 0.6, len(u) / FS)
        )
        flex = lift * base + k * th + drift(rng, len(u), 1.0, 1.0)
        froll = roll + body.side * ab * lift
    return Motion(fhip, flex, froll, np.zeros(len(u)), np.zeros((len(u), 3)), standing.reps)


def lunge(
    rng: np.random.Generator,
    body: Body,
    reps: int,
    sensor_on: str,
    step: bool,
    tempo_s: tuple[float, float] | None = None,
) -> Motion:
    """Forward lunges (``step``: step out, both knees to about 90 deg, push back to standing) or a
    split squat (step into a split stance once, reps up and down, step back). The bottom pose comes
    from the front leg's angles (shank 0-12 deg, thigh 75-92 deg: knee 75-104) and the back knee
    (80-100 deg, on its toes); the thighs then follow the hip by inverse kinematics to the planted feet. The sensor is
    on the ``front`` (stepping) or ``back`` leg. A lunge takes about 1.3-3.5 s (the step, the way
    down and up: 2.35 s at tempo 1, tempo 0.8-1.5), or ``tempo_s`` when given."""
    lt, ls = body.thigh_m, body.shank_m
    s_b, th_f, kb_b = rng.uniform(0, 12), rng.uniform(75, 92), rng.uniform(80, 100)
    hx = ls * np.sin(np.radians(s_b)) - lt * np.sin(np.radians(th_f))  # hip from the front ankle
    hz = body.ankle_m + ls * np.cos(np.radians(s_b)) + lt * np.cos(np.radians(th_f))
    toes = body.ankle_m + 0.06
    d = np.sqrt(lt**2 + ls**2 - 2 * lt * ls * np.cos(np.radians(180 - kb_b)))
    reach = np.sqrt(max(d**2 - (hz - toes) ** 2, 0.01))
    hip_bx = reach  # the back foot stays at x = 0
    front_x = hip_bx - hx
    bottom = np.array([hip_bx, hz])
    top = np.array([0.0, body.hip_m])
    foot_f = np.array([front_x, body.ankle_m])
    if step:
        parts, times, t = [], [], 0.0
        tempo = rng.uniform(0.8, 1.5) if tempo_s is None else rng.uniform(*tempo_s) / 2.35
        for _ in range(reps):
            t_step = rng.uniform(0.4, 0.8) * tempo
            t_low = rng.uniform(0.4, 1.0) * tempo
            t_bot = rng.uniform(0.0, 0.3)
            t_up = rng.uniform(0.6, 1.2) * tempo
            t_top = rng.uniform(0.0, 1.5)
            total = t_step + t_low + t_bot + t_up
            x = np.arange(int(total * FS)) / FS
            depth = float(np.clip(1 + 0.06 * rng.normal(), 0.85, 1.1))
            t_strike, t_rise = t_step, t_step + t_low + t_bot
            sx = ramp(x, 0, t_strike + 0.5 * t_low) - ramp(x, t_rise + 0.3 * t_up, total)
            sz = depth * (ramp(x, 0.3 * t_step, t_strike + t_low) - ramp(x, t_rise, t_rise + 0.8 * t_up))
            parts.append((x, sx, sz, t_strike, t_rise + 0.6 * t_up, total, t_top))
            times.append({"t_start_s": t, "t_bottom_s": t + t_rise - t_bot / 2, "t_end_s": t + total})
            t += total + t_top
        n = round(t * FS) + 10
        sx_all, sz_all = np.zeros(n), np.zeros(n)
        events: list[tuple[int, int, int, int]] = []
        k = 0
        for x, sx, sz, t_strike, t_off, _total, t_top in parts:
            m = len(x)
            sx_all[k : k + m], sz_all[k : k + m] = sx, sz
            events.append((k, k + int(t_strike * FS), k + int(t_off * FS), k + m))
            k += m + int(t_top * FS)
        n = k
        sx_all, sz_all = sx_all[:n], sz_all[:n]
        hipx = top[0] + (bottom[0] - top[0]) * sx_all
        hipz = top[1] + (bottom[1] - top[1]) * sz_all
    else:
        u, times = rep_profile(rng, reps, depth_jitter=0.05, tempo_s=tempo_s or (1.0, 4.0))
        lead, tail = int(1.2 * FS), int(1.2 * FS)
        # split stance: the hip at the bottom's x, as high as both legs reach
        top_z = min(
            body.ankle_m + 0.97 * np.sqrt(max((lt + ls) ** 2 - (front_x - hip_bx) ** 2, 0)),
            toes + 0.97 * np.sqrt(max((lt + ls) ** 2 - hip_bx**2, 0)),
        )
        sz_all = np.concatenate([np.zeros(lead), u, np.zeros(tail)])
        x = np.arange(len(sz_all)) / FS
        step_in = ramp(x, 0, lead / FS) - ramp(x, x[-1] - tail / FS, x[-1])
        hipx = top[0] + (bottom[0] - top[0]) * step_in
        hipz = body.hip_m + (top_z - body.hip_m) * step_in + (bottom[1] - top_z) * sz_all
        times = [{k: v + lead / FS for k, v in r.items()} for r in times]
        n = len(x)
        events = [(0, int(0.8 * lead), n - int(0.2 * tail), n)]
    hip = np.stack([hipx, np.zeros(n), hipz], -1)
    t_all = np.arange(n) / FS
    roll = sway(rng, n, rng.uniform(0.3, 1.2), 0.3, 1.5)
    jolt = np.zeros((n, 3))
    toes_z = body.ankle_m + 0.06 * np.clip((body.hip_m - hipz) / max(body.hip_m - bottom[1], 1e-3), 0, 1)
    if sensor_on == "back":
        flex = two_link(body, hip, np.stack([np.zeros(n), toes_z], -1))
        flex -= flex[0]
    else:
        # the stepping thigh: swings forward to the strike, follows the planted foot (inverse
        # kinematics) while it is down, swings back after it leaves the floor; the three are blended
        # over 0.15 s so the motion stays smooth (the strike's shake is the jolt below)
        planted = two_link(body, hip, np.tile(foot_f, (n, 1)))
        weight, free = np.zeros(n), np.zeros(n)
        for k0, k_strike, k_off, k_end in events:
            tt = t_all[k0:k_end] - t_all[k0]
            ts, to, te = (k_strike - k0) / FS, (k_off - k0) / FS, (k_end - k0) / FS
            weight[k0:k_end] = ramp(tt, ts - 0.1, ts + 0.05) - ramp(tt, to - 0.05, to + 0.1)
            free[k0:k_end] = np.where(
                tt < (ts + to) / 2,
                planted[k_strike] * ramp(tt, 0, ts) + 6 * np.sin(np.pi * np.clip(tt / ts, 0, 1)),
                planted[k_off] * (1 - ramp(tt, to, te)),
            )
        flex = weight * planted + (1 - weight) * free
    for _k0, k_strike, _k_off, _k_end in events:
        add_jolt(jolt, k_strike / FS, rng.uniform(0.6, 1.4) * (1.0 if sensor_on == "front" else 0.35), rng)
    return Motion(hip, flex, roll, np.zeros(n), jolt, times)


# --------------------------------------------------------------------------- sessions

# (exercise, sensor leg) of every modelled set class
CLASSES: tuple[tuple[str, str], ...] = (
    ("squat", "both"),
    ("half_squat", "both"),
    ("deadlift", "both"),
    ("single_leg_squat", "standing"),
    ("single_leg_squat", "free"),
    ("single_leg_deadlift", "standing"),
    ("single_leg_deadlift", "free"),
    ("lunge", "front"),
    ("lunge", "back"),
    ("split_squat", "front"),
    ("split_squat", "back"),
)


def join(parts: list[Motion], blend_s: float = 0.5) -> tuple[Motion, list[int]]:
    """The activities one after another in one world frame: each starts where the last ended (its
    position and heading), and what is left of a jump between them (a few mm or degrees: a set's
    standing pose is not exactly the quiet stance's) is faded out over ``blend_s`` so the motion
    stays smooth. Returns the motion and the first sample of each part."""
    hips, flexes, rolls, yaws, jolts, starts = [], [], [], [], [], []
    base, heading, k = np.zeros(2), 0.0, 0
    prev: tuple[np.ndarray, float, float] | None = None
    for m in parts:
        n = len(m)
        if n == 0:
            starts.append(k)
            continue
        rz = rot_z(np.array(heading))
        hip = m.hip.copy()
        hip[:, :2] -= m.hip[0, :2]
        hip = hip @ rz.T
        hip[:, :2] += base
        flex, roll = m.flex.copy(), m.roll.copy()
        if prev is not None:
            fade = 1 - ramp(np.arange(n) / FS, 0, blend_s)
            hip -= np.outer(fade, hip[0] - prev[0])
            flex -= fade * (flex[0] - prev[1])
            roll -= fade * (roll[0] - prev[2])
        jolt = np.einsum("nij,nj->ni", rot_z(heading + m.yaw), m.jolt)
        hips.append(hip)
        flexes.append(flex)
        rolls.append(roll)
        yaws.append(heading + m.yaw)
        jolts.append(jolt)
        starts.append(k)
        k += n
        base = hip[-1, :2].copy()
        heading = float(heading + m.yaw[-1])
        prev = (hip[-1], float(flex[-1]), float(roll[-1]))
    out = Motion(
        np.concatenate(hips),
        np.concatenate(flexes),
        np.concatenate(rolls),
        np.concatenate(yaws),
        np.concatenate(jolts),
    )
    return out, starts


@dataclass
class Imu:
    """What the sensor gave: time (s), specific force (g), angular rate (deg/s, None without a
    gyroscope), and the true world-from-sensor rotation at each sample."""

    t_s: np.ndarray
    accel_g: np.ndarray
    gyro_dps: np.ndarray | None
    rotation: np.ndarray
    rate_hz: float
    height_m: np.ndarray  # the sensor's true height above the floor at each sample


def synthesize(
    m: Motion, body: Body, rate_hz: float, rng: np.random.Generator, gyro: bool = True, errors: bool = True
) -> Imu:
    """The IMU on the sensor thigh: the sensor's position (hip joint plus the thigh's rotation of
    its offset) differentiated twice, plus the soft-tissue jolts, minus gravity, in the sensor's
    frame; its rotation's rate in the sensor's frame; both through a consumer sensor's anti-alias
    low-pass, sampled at ``rate_hz``; with ``errors``, per-axis bias, scale error and white noise
    of a consumer IMU, quantized to 16 bits (+-8 g, +-2000 deg/s)."""
    dt = 1.0 / FS
    r_wt = thigh_rotation(m.flex, m.roll, m.yaw)
    pos = m.hip + r_wt @ body.sensor_offset()
    acc = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0) + m.jolt
    acc[:, 2] += G
    r_ws = r_wt @ body.mounting
    f_s = np.einsum("nji,nj->ni", r_ws, acc) / G
    w = np.transpose(r_ws, (0, 2, 1)) @ np.gradient(r_ws, dt, axis=0)
    omega = np.degrees(
        np.stack([w[:, 2, 1] - w[:, 1, 2], w[:, 0, 2] - w[:, 2, 0], w[:, 1, 0] - w[:, 0, 1]], -1) / 2
    )
    sos = butter(2, min(0.4 * rate_hz, 80.0), fs=FS, output="sos")
    zi = sosfilt_zi(sos)[:, :, None]  # the filter settled on the first sample
    f_s = sosfilt(sos, f_s, axis=0, zi=zi * f_s[0])[0]
    omega = sosfilt(sos, omega, axis=0, zi=zi * omega[0])[0]
    t_in = np.arange(len(m)) / FS
    t = np.arange(0.0, t_in[-1], 1.0 / rate_hz)
    a = np.column_stack([np.interp(t, t_in, f_s[:, i]) for i in range(3)])
    g = np.column_stack([np.interp(t, t_in, omega[:, i]) for i in range(3)])
    k = np.minimum(np.round(t * FS).astype(int), len(m) - 1)
    if errors:
        a = a * (1 + rng.uniform(-0.02, 0.02, 3)) + rng.uniform(-0.03, 0.03, 3)
        a += rng.normal(0, rng.uniform(0.002, 0.006), a.shape)
        g = g * (1 + rng.uniform(-0.02, 0.02, 3)) + rng.uniform(-0.8, 0.8, 3)
        g += rng.normal(0, rng.uniform(0.03, 0.1), g.shape)
        a = np.clip(np.round(a * 4096) / 4096, -8, 8)
        g = np.clip(np.round(g / 0.061) * 0.061, -2000, 2000)
    return Imu(t, a, g if gyro else None, r_ws[k], rate_hz, pos[k, 2])


@dataclass
class Session:
    imu: Imu
    body: Body
    truth: dict[str, Any]


def make_session(
    rng: np.random.Generator, plan: list[tuple[str, str]], index: int = 0, easy: bool = False
) -> Session:
    """One athlete's session: half the time a walk first, then quiet standing (0-3 s, sometimes
    none), then the planned sets of 5-15 reps, each after 0-3 s of standing (sometimes none) and followed by a walk of 8-20 s; a random
    body, sensor thigh, placement, mounting, sample rate and (one in five) no gyroscope.

    ``easy``: the same bodies and technique in the conditions the pipeline expects, to tell the
    two apart: 100 Hz with a gyroscope, a walk first, 2-3 s of quiet standing before every set,
    2-4 s a rep."""
    side = int(rng.choice([1, -1]))
    body = Body.draw(rng, side)
    rate = float(rng.choice(RATES_HZ))
    gyro = bool(rng.uniform() > 0.2)
    if easy:
        rate, gyro = 100.0, True
    tempo_s = (2.0, 4.0) if easy else (1.0, 4.0)
    parts: list[Motion] = []
    kinds: list[tuple[str, str, int] | None] = []

    def quiet() -> None:
        s = 0.0 if rng.uniform() < 0.3 else float(rng.uniform(0.5, 3.0))
        if easy:
            s = float(rng.uniform(2.0, 3.0))
        parts.append(stand(rng, body, s))
        kinds.append(None)

    walked_first = bool(rng.uniform() < 0.5) or easy
    if walked_first:  # strapped on elsewhere, walked to the spot
        parts.append(walk(rng, body, float(rng.uniform(8, 15))))
        kinds.append(("walk", "", 0))
    quiet()
    for kind, sensor_on in plan:
        reps = int(rng.integers(5, 16))
        parts.append(set_motion(rng, body, kind, sensor_on, reps, tempo_s))
        kinds.append((kind, sensor_on, reps))
        parts.append(stand(rng, body, float(rng.uniform(0.0, 2.0))))
        kinds.append(None)
        parts.append(walk(rng, body, float(rng.uniform(8, 20))))
        kinds.append(("walk", "", 0))
        quiet()
    motion, starts = join(parts)
    imu = synthesize(motion, body, rate, rng, gyro=gyro)
    sets: list[dict[str, Any]] = []
    walks: list[dict[str, float]] = []
    quiet_s = 0.0
    for part, k0, what in zip(parts, starts, kinds, strict=True):
        if what is None:
            quiet_s = len(part) / FS
            continue
        t0 = k0 / FS
        if what[0] == "walk":
            walks.append({"start_s": t0, "end_s": t0 + len(part) / FS})
            continue
        kind, sensor_on, reps = what
        sets.append(
            {
                "exercise": kind,
                "sensor_on": sensor_on,
                "reps": reps,
                "start_s": t0 + part.reps[0]["t_start_s"],
                "end_s": t0 + part.reps[-1]["t_end_s"],
                "t_bottom_s": [t0 + r["t_bottom_s"] for r in part.reps],
                "travel_deg": float(np.ptp(part.flex)),  # the thigh's whole range over the set
                "first": not sets,
                "walked_first": walked_first,
                "quiet_before_s": round(quiet_s, 2),
            }
        )
    truth = {
        "session": index,
        "thigh": "left" if side > 0 else "right",
        "rate_hz": rate,
        "gyro": gyro,
        "height_m": round(body.height_m, 3),
        "sensor_frac": round(body.sensor_frac, 3),
        "sets": sets,
        "walks": walks,
    }
    return Session(imu, body, truth)


def write_csv(session: Session, path: Path) -> None:
    """The session as a generic CSV recording (docs/recording.md): ``t,ax,ay,az[,gx,gy,gz]``."""
    imu = session.imu
    cols = [imu.t_s[:, None], imu.accel_g] + ([] if imu.gyro_dps is None else [imu.gyro_dps])
    header = "t,ax,ay,az" + (",gx,gy,gz" if imu.gyro_dps is not None else "")
    fmt = ["%.5f"] + ["%.5f"] * 3 + (["%.3f"] * 3 if imu.gyro_dps is not None else [])
    with path.open("w") as fh:
        fh.write("# source: bench/independent_model.py (an independent thigh model)\n")
        fh.write(f"# rate_hz: {imu.rate_hz:g}\n{header}\n")
        np.savetxt(fh, np.hstack(cols), fmt=fmt, delimiter=",")


# --------------------------------------------------------------------------- the pipeline on it


@contextmanager
def recorded_reps() -> Iterator[list[dict[str, float]]]:
    """The naming features of every rep the set tracker names while the block runs (the same
    instrumentation as bench/naming_features.py: a wrapper round ``sets.classify``)."""
    from tracker.pipeline import sets

    seen: list[dict[str, float]] = []
    original = sets.classify

    def classify(ex: Any, config: Any, accel_only: bool = False) -> tuple[str, str]:
        seen.append(
            {
                "t_bottom_s": ex.rep.t_bottom_s,
                "depth_deg": ex.rep.depth_deg,
                "rise_cm": 100.0 * ex.rise_height_m,
                "impact_g": ex.max_impact_g,
                "slow_sway_deg": ex.physics.slow_sway_deg,
                "duration_s": ex.rep.t_end_s - ex.rep.t_start_s,
                "to_bottom_s": ex.rep.t_bottom_s - ex.rep.t_start_s,
            }
        )
        return original(ex, config, accel_only)

    name = "classify"
    setattr(sets, name, classify)
    try:
        yield seen
    finally:
        setattr(sets, name, original)


@contextmanager
def rejections() -> Iterator[list[tuple[float, str]]]:
    """The rep candidates the detector rejects while the block runs, (time, rule), from its debug
    log (what each miss was taken for: docs/pipeline.md, "The rejection rules")."""
    seen: list[tuple[float, str]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "rejected" in str(record.msg) and isinstance(record.args, tuple) and len(record.args) > 2:
                t0: Any = record.args[0]
                seen.append((float(t0), str(record.args[2])))

    logger = logging.getLogger("tracker.pipeline.reps")
    handler, level = Collect(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def score(
    truth: dict[str, Any],
    events: list[Any],
    stats: dict[str, Any],
    by: dict[str, Any],
    start: dict[str, Any],
    rejected: list[tuple[float, str]] = [],  # noqa: B006 (read only)
) -> list[Any]:
    """Each true set against the sets the pipeline found over it (+-1 s): counted exactly, named
    right, what else it was named (per class, per sample rate and per start: the session's first
    set or a later one, after at least 1 s of quiet standing or not), which rejection rules turned down candidates inside it; sets
    found over no true set are false (walking, standing)."""
    sets_found = [e for e in events if isinstance(e, SetEvent)]
    for ts in truth["sets"]:
        inside = Counter(rule for t, rule in rejected if ts["start_s"] - 0.5 <= t <= ts["end_s"])
        found = [s for s in sets_found if s.start_s < ts["end_s"] + 1.0 and s.end_s > ts["start_s"] - 1.0]
        got = sum(len(s.reps) for s in found)
        ok = bool(found) and all(s.exercise in EXPECTED[ts["exercise"]] for s in found)
        keys = [
            f"{ts['exercise']} ({ts['sensor_on']} leg)",
            f"~ {truth['rate_hz']:g} Hz" + ("" if truth["gyro"] else ", no gyro"),
            (
                "first set" + (" (walked first)" if ts["walked_first"] else " (no walk first)")
                if ts["first"]
                else "later set"
            )
            + (", quiet >= 1 s before" if ts["quiet_before_s"] >= 1.0 else ", quiet < 1 s before"),
        ]
        for key, table in ((keys[0], stats), (keys[1], by), (keys[2], start)):
            st = table[key]
            st["sets"] += 1
            st["exact"] += int(got == ts["reps"])
            st["named"] += int(ok)
            st["counts"].append(f"{got}/{ts['reps']}")
            st["rejected"].update(inside)
            for s in found:
                if s.exercise not in EXPECTED[ts["exercise"]]:
                    st["misnamed"][s.exercise] += 1
            if not found:
                st["misnamed"]["(no set)"] += 1
    false = [
        s
        for s in sets_found
        if not any(s.start_s < ts["end_s"] + 1.0 and s.end_s > ts["start_s"] - 1.0 for ts in truth["sets"])
    ]
    return false


def new_stats() -> dict[str, Any]:
    return defaultdict(
        lambda: {
            "sets": 0,
            "exact": 0,
            "named": 0,
            "counts": [],
            "misnamed": Counter(),
            "rejected": Counter(),
        }
    )


def plans(rng: np.random.Generator, n_sets: int, per_session: int = 4) -> list[list[tuple[str, str]]]:
    """``n_sets`` sets spread evenly over the classes, shuffled into sessions of ``per_session``."""
    pool = [CLASSES[i % len(CLASSES)] for i in range(n_sets)]
    order = rng.permutation(len(pool))
    pool = [pool[i] for i in order]
    return [pool[i : i + per_session] for i in range(0, len(pool), per_session)]


def evaluate(n_sets: int, seed: int, keep: Path | None = None, easy: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 11])
    stats, by, start = new_stats(), new_stats(), new_stats()
    false_sets: list[dict[str, Any]] = []
    walk_s = 0.0
    features: dict[str, list[dict[str, float]]] = defaultdict(list)
    sessions = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for i, plan in enumerate(plans(rng, n_sets)):
            session = make_session(rng, plan, i, easy)
            path = folder / f"independent-{seed}-{i:02d}.csv"
            write_csv(session, path)
            samples = load_session(path).samples
            with recorded_reps() as reps, rejections() as rejected:
                events = run_pipeline(samples)
            for f in score(session.truth, events, stats, by, start, rejected):
                false_sets.append(
                    {"session": i, "exercise": f.exercise, "reps": len(f.reps), "start_s": f.start_s}
                )
            walk_s += sum(w["end_s"] - w["start_s"] for w in session.truth["walks"])
            t, z = session.imu.t_s, session.imu.height_m
            for r in reps:
                # the sensor's true height change from the rep's start to its bottom, beside the
                # pipeline's estimate of it (``rise_cm``)
                r["true_rise_cm"] = 100 * float(
                    np.interp(r["t_bottom_s"], t, z) - np.interp(r["t_bottom_s"] - r["to_bottom_s"], t, z)
                )
                for ts in session.truth["sets"]:
                    if ts["start_s"] - 1 <= r["t_bottom_s"] <= ts["end_s"] + 1:
                        features[f"model {ts['exercise']} ({ts['sensor_on']})"].append(r)
                        break
            sessions.append(
                {
                    **{k: v for k, v in session.truth.items() if k not in ("sets", "walks")},
                    "sets": [
                        {k: v for k, v in ts.items() if k != "t_bottom_s"} for ts in session.truth["sets"]
                    ],
                    "found": [
                        {"exercise": e.exercise, "reps": len(e.reps), "start_s": e.start_s, "end_s": e.end_s}
                        for e in events
                        if isinstance(e, SetEvent)
                    ],
                }
            )
    return {
        "stats": stats,
        "by_rate": by,
        "by_start": start,
        "false_sets": false_sets,
        "walk_h": walk_s / 3600.0,
        "features": features,
        "sessions": sessions,
    }


def real_features() -> dict[str, list[dict[str, float]]]:
    """The same per-rep features on the real CMU exercise files, on their own clock."""
    out: dict[str, list[dict[str, float]]] = {}
    for path in sorted((DATA / "cmu-thigh").glob("*.csv")):
        truth = json.loads(path.with_suffix(".truth.json").read_text())
        if not truth.get("reps"):
            continue
        with recorded_reps() as reps:
            run_pipeline(load_session(path).samples)
        out[f"real {path.stem}"] = reps
    return out


def spread(values: list[float]) -> str:
    if not values:
        return f"{'-':>20}"
    p10, med, p90 = np.percentile(values, [10, 50, 90])
    return f"{p10:6.1f} {med:6.1f} {p90:6.1f}"


def print_table(title: str, table: dict[str, Any]) -> dict[str, Any]:
    print(title)
    head = f"  {'':<36} {'sets':>4} {'exact':>6} {'named':>6}  misnamed as / counted of truth"
    print(head)
    out = {}
    for key in sorted(table):
        st = table[key]
        wrong = ", ".join(f"{k} {v}" for k, v in st["misnamed"].most_common()) or "-"
        print(
            f"  {key:<36} {st['sets']:>4} {st['exact']:>3}/{st['sets']:<2} {st['named']:>3}/{st['sets']:<2}"
            f"  {wrong}; {' '.join(st['counts'])}"
        )
        if st["rejected"]:
            print(
                f"  {'':<36} candidates rejected inside: "
                + ", ".join(f"{k} {v}" for k, v in st["rejected"].most_common())
            )
        out[key] = {**st, "misnamed": dict(st["misnamed"]), "rejected": dict(st["rejected"])}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=44, help="sets in all (spread over the 11 classes)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="write the CSV recordings here (default: a temp dir)")
    ap.add_argument(
        "--easy",
        action="store_true",
        help="the conditions the pipeline expects (100 Hz, gyroscope, a walk and 2-3 s of quiet standing first, 2-4 s reps)",
    )
    ap.add_argument("--no-compare", action="store_true", help="skip the comparison with the real CMU reps")
    args = ap.parse_args()
    t0 = time.process_time()
    res = evaluate(args.sets, args.seed, args.keep, args.easy)
    stats, by = res["stats"], res["by_rate"]
    n = sum(s["sets"] for s in stats.values())
    exact = sum(s["exact"] for s in stats.values())
    named = sum(s["named"] for s in stats.values())
    print(
        f"independent thigh model, seed {args.seed}: {n} sets in {len(res['sessions'])} sessions"
        + (" (easy conditions)" if args.easy else "")
    )
    per_class = print_table("per exercise and sensor leg (counted exactly, named right):", stats)
    per_rate = print_table("per sample rate:", by)
    per_start = print_table(
        "per start (a session's first set or a later one; quiet standing before it):", res["by_start"]
    )
    fs = res["false_sets"]
    bad = [f for f in fs if f["exercise"] in SQUAT_OR_DEADLIFT]
    groups = {
        "the four exercises (and half squats)": lambda k: not k.startswith(("lunge", "split_squat")),
        "lunges and split squats": lambda k: k.startswith(("lunge", "split_squat")),
        "all": lambda k: True,
    }
    totals = {}
    for label, member in groups.items():
        rows = [st for k, st in stats.items() if member(k)]
        g_n, g_exact, g_named = (sum(st[f] for st in rows) for f in ("sets", "exact", "named"))
        totals[label] = {"sets": g_n, "exact": g_exact, "named": g_named}
        print(
            f"{label}: {g_exact}/{g_n} counted exactly ({100 * g_exact / max(g_n, 1):.0f} %),"
            f" {g_named}/{g_n} named right ({100 * g_named / max(g_n, 1):.0f} %)"
        )
    print(
        f"false sets outside the sets (walking {res['walk_h'] * 60:.1f} min, standing): {len(fs)}"
        f" ({len(bad)} squat/deadlift, {sum(f['reps'] for f in fs)} reps): "
        + (", ".join(f"{f['exercise']} x{f['reps']}" for f in fs) or "-")
    )
    compare: dict[str, Any] = {}
    if not args.no_compare:
        feats = {**res["features"], **real_features()}
        keys = ("depth_deg", "rise_cm", "true_rise_cm", "impact_g", "slow_sway_deg", "duration_s")
        print(
            "per-rep features the pipeline measured (p10 / median / p90), model and real CMU files"
            " (true_rise_cm: the model's own sensor height change over the same span):"
        )
        print(f"  {'class':<40} {'reps':>4}" + "".join(f" | {k:^20}" for k in keys))
        for key in sorted(feats):
            reps = feats[key]
            cols = {k: [r[k] for r in reps if k in r] for k in keys}
            print(f"  {key:<40} {len(reps):>4}" + "".join(f" | {spread(v)}" for v in cols.values()))
            compare[key] = {k: list(np.percentile(v, [10, 50, 90])) for k, v in cols.items() if v}
    cpu = time.process_time() - t0
    print(f"({cpu:.0f} s CPU)")
    write_results(
        "independent",
        {
            "seed": args.seed,
            "easy": args.easy,
            "sets": n,
            "exact": exact,
            "named": named,
            "totals": totals,
            "per_class": per_class,
            "per_rate": per_rate,
            "per_start": per_start,
            "false_sets": fs,
            "walking_h": res["walk_h"],
            "features": compare,
            "sessions": res["sessions"],
            "cpu_s": cpu,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
