"""The thigh's motion during a workout: joint-angle tracks, hip path and the ground truth.

Two layers build the motion:

* **Key poses** (:class:`Timeline`): every rep, transition and fidget is a list of poses held
  still at given times; between two poses every channel follows a minimum-jerk curve (zero
  velocity and acceleration at both ends), the shape of voluntary human movement. Channels:
  ``pitch`` (flexion of the sensor's thigh), ``support`` (flexion of the weight-bearing thigh,
  which sets the hip's height through the leg chain), ``abd`` (abduction, knee out), ``yaw``
  (rotation about the vertical), ``shank`` (shank lean as a fraction of thigh flexion) and
  ``hip_dx``/``hip_dz`` (extra hip displacement: kneeling, lying down, standing on a step).
* **Rhythms and noise** added on top, per time span: gait cycles (walking, running, stairs) with
  heel-strike impacts, side-to-side wobble and tremor in single-leg work, postural sway,
  muscle shake in holds, and soft-tissue vibration of the strapped sensor.

Everything is evaluated on the whole sample grid at once with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import butter, sosfilt

from firmware_sim.workout import CORE, SINGLE_LEG, Body, Step, Workout
from tracker.pipeline.exercises import BY_NAME

FloatArray = npt.NDArray[np.float64]

CHANNELS = ("pitch", "support", "abd", "yaw", "shank", "hip_dx", "hip_dz")
_STANDING = {"pitch": 0.0, "support": 0.0, "abd": 0.0, "yaw": 0.0, "shank": 0.5, "hip_dx": 0.0, "hip_dz": 0.0}

ACTIVITY_KIND = {
    "stand": "standing",
    "rest": "rest",
    "fidget": "fidget",
    "walk": "walking",
    "run": "running",
    "stairs_up": "stairs",
    "stairs_down": "stairs",
    "sit": "sit_stand",
    "step_up": "step_up",
}

# Thigh pitch over one gait cycle (phase 0 = heel strike of the sensor's leg), degrees.
# Walking after Winter's normative thigh angles; running, stairs from the same literature.
_GAIT: dict[str, dict[str, Any]] = {
    "walk": {
        "period_s": 1.08,
        "phase": [0.0, 0.12, 0.55, 0.62, 0.86, 1.0],
        "pitch": [26.0, 22.0, -15.0, -10.0, 32.0, 26.0],
        "bounce_m": 0.022,
        "impact_g": 0.75,
        "abd_deg": 3.0,
        "yaw_deg": 6.0,
    },
    "run": {
        "period_s": 0.70,
        "phase": [0.0, 0.1, 0.38, 0.5, 0.8, 0.92, 1.0],
        "pitch": [28.0, 22.0, -16.0, -10.0, 50.0, 40.0, 28.0],
        "bounce_m": 0.045,
        "impact_g": 2.6,
        "abd_deg": 4.0,
        "yaw_deg": 8.0,
    },
    "stairs_up": {
        "period_s": 1.25,
        "phase": [0.0, 0.15, 0.55, 0.65, 0.88, 1.0],
        "pitch": [58.0, 52.0, 2.0, 6.0, 64.0, 58.0],
        "bounce_m": 0.03,
        "impact_g": 0.5,
        "abd_deg": 3.0,
        "yaw_deg": 5.0,
    },
    "stairs_down": {
        "period_s": 1.15,
        "phase": [0.0, 0.25, 0.5, 0.62, 0.85, 1.0],
        "pitch": [8.0, 30.0, 36.0, 18.0, 14.0, 8.0],
        "bounce_m": 0.03,
        "impact_g": 1.4,
        "abd_deg": 3.0,
        "yaw_deg": 5.0,
    },
}


@dataclass
class RepTruth:
    n: int
    t_start: float
    t_bottom: float
    t_end: float
    depth_deg: float = 0.0


@dataclass
class SetTruth:
    index: int
    exercise: str
    leg: str
    sensor_on: str
    start: float
    end: float = 0.0
    wobble: dict[str, float] = field(default_factory=dict)
    reps: list[RepTruth] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Job:
    kind: str
    t0: float
    t1: float
    params: dict[str, Any] = field(default_factory=dict)


class Timeline:
    """Lays a workout out in time: key poses, rhythm/noise jobs and the truth."""

    def __init__(self, rng: np.random.Generator, sensor_leg: str) -> None:
        self.rng = rng
        self.sensor_leg = sensor_leg
        self.t = 0.0
        self.state = dict(_STANDING)
        self.knot_t: list[float] = [0.0]
        self.knot_v: list[list[float]] = [[self.state[c] for c in CHANNELS]]
        self.jobs: list[Job] = []
        self.sets: list[SetTruth] = []
        self.activities: list[dict[str, Any]] = []
        self.wobble_events: list[dict[str, Any]] = []
        self.balance_losses: list[dict[str, Any]] = []
        self.body = Body()

    # --- key poses ------------------------------------------------------------------------

    def move(self, duration_s: float, **target: float) -> None:
        """Reach ``target`` (other channels unchanged) after ``duration_s``, with zero velocity."""
        self.t += max(duration_s, 0.02)
        self.state.update(target)
        self.knot_t.append(self.t)
        self.knot_v.append([self.state[c] for c in CHANNELS])

    def hold(self, duration_s: float) -> None:
        if duration_s > 0.02:
            self.move(duration_s)

    def vary(self, value: float, spread: float) -> float:
        return float(value * (1.0 + spread * self.rng.standard_normal()))

    # --- steps ------------------------------------------------------------------------------

    def add_workout(self, workout: Workout) -> None:
        self.body = workout.body
        first = workout.steps[0]
        if first.activity == "squat" and first.start == "seated":
            self._start_seated(first.resolved_depth())
        # a session that starts with a walk (run, stairs) starts mid-stride: no standing first
        self.hold(0.02 if first.activity in _GAIT else 1.0)
        for step in workout.steps:
            if step.is_exercise:
                self.add_set(step)
            else:
                self.add_activity(step)
            if step.rest_s > 0:
                self.add_rest(step.rest_s)
        self.hold(1.0)

    def add_rest(self, duration_s: float) -> None:
        start = self.t
        self._stand_with_fidgets(duration_s, fidget_every_s=9.0)
        self.activities.append({"kind": "rest", "start_s": start, "end_s": self.t})

    def _stand_with_fidgets(self, duration_s: float, fidget_every_s: float) -> None:
        end = self.t + duration_s
        while self.t < end - 0.5:
            gap = float(self.rng.exponential(fidget_every_s))
            if self.t + gap + 2.5 > end:
                self.hold(end - self.t)
                break
            self.hold(gap)
            self._fidget()
        self.hold(end - self.t)

    def _fidget(self) -> None:
        kind = self.rng.choice(["shift", "step", "knee", "turn"], p=[0.35, 0.3, 0.2, 0.15])
        r = self.rng
        if kind == "shift":  # weight shift onto the other leg and back
            self.move(r.uniform(0.5, 0.9), abd=r.uniform(-4, 4), pitch=r.uniform(-3, 4), support=0.0)
            self.hold(r.uniform(0.5, 2.0))
            self.move(r.uniform(0.5, 0.9), abd=0.0, pitch=0.0)
        elif kind == "step":  # a small step or shuffle of this foot
            self.move(r.uniform(0.25, 0.4), pitch=r.uniform(8, 22), yaw=r.uniform(-8, 8))
            self.move(r.uniform(0.25, 0.4), pitch=r.uniform(-4, 3))
            self.move(0.3, pitch=0.0, yaw=0.0)
        elif kind == "knee":  # bend the knee / bounce
            self.move(r.uniform(0.4, 0.7), pitch=r.uniform(5, 15), support=r.uniform(4, 12))
            self.move(r.uniform(0.4, 0.7), pitch=0.0, support=0.0)
        else:  # turn to look around
            self.move(r.uniform(0.6, 1.0), yaw=r.uniform(-25, 25), abd=r.uniform(-2, 2))
            self.hold(r.uniform(0.5, 1.5))
            self.move(r.uniform(0.6, 1.0), yaw=0.0, abd=0.0)

    def add_activity(self, step: Step) -> None:
        start = self.t
        kind = ACTIVITY_KIND.get(step.activity, step.activity)
        d = step.duration_s
        if step.activity in ("stand", "rest"):
            self._stand_with_fidgets(d, fidget_every_s=25.0)
        elif step.activity == "fidget":
            self._stand_with_fidgets(d, fidget_every_s=1.5)
        elif step.activity in _GAIT:
            self.jobs.append(
                Job("gait", self.t, self.t + d, {"kind": step.activity, "speed": step.speed or 1.0})
            )
            self.hold(d)
        elif step.activity == "sit":
            self._sit(d)
        elif step.activity == "step_up":
            self._step_ups(d)
        self.activities.append({"kind": kind, "start_s": start, "end_s": self.t})

    def _sit(self, duration_s: float) -> None:
        r = self.rng
        down = r.uniform(1.3, 2.0)
        up = r.uniform(1.2, 1.8)
        self.move(down, pitch=r.uniform(80, 95), support=88.0, shank=0.15, hip_dx=-0.05)
        seated_end = self.t + max(duration_s - down - up, 1.0)
        while self.t < seated_end - 3.0:
            self.hold(min(float(r.exponential(6.0)), seated_end - self.t - 2.0))
            if r.random() < 0.5:  # shift on the chair / cross legs a little
                self.move(
                    r.uniform(0.5, 1.0), pitch=self.state["pitch"] + r.uniform(-8, 8), abd=r.uniform(-6, 6)
                )
            else:  # a bout of leg bouncing
                b = r.uniform(1.5, 3.0)
                self.jobs.append(
                    Job("bounce", self.t, self.t + b, {"hz": r.uniform(3.5, 5.5), "deg": r.uniform(1, 3)})
                )
                self.hold(b)
        self.hold(seated_end - self.t)
        self.move(up, **{k: v for k, v in _STANDING.items()})

    def _step_ups(self, duration_s: float) -> None:
        end = self.t + duration_s
        lead_is_sensor = True
        r = self.rng
        while self.t < end - 3.0:
            if lead_is_sensor:
                self.move(r.uniform(0.55, 0.75), pitch=r.uniform(55, 66), support=0.0)
                self.jobs.append(Job("impact", self.t, self.t + 0.2, {"g": r.uniform(0.5, 0.9)}))
                self.move(r.uniform(0.6, 0.8), pitch=r.uniform(0, 4), support=0.0, hip_dz=0.30)
                self.hold(r.uniform(0.3, 0.6))
                self.move(r.uniform(0.5, 0.7), pitch=r.uniform(15, 25), hip_dz=0.0)
                self.jobs.append(Job("impact", self.t, self.t + 0.2, {"g": r.uniform(0.6, 1.0)}))
                self.move(0.4, pitch=0.0)
            else:
                self.move(r.uniform(0.4, 0.6), pitch=-8.0)
                self.move(r.uniform(0.5, 0.7), pitch=r.uniform(12, 18), hip_dz=0.30)
                self.move(0.4, pitch=0.0)
                self.hold(r.uniform(0.3, 0.6))
                self.move(r.uniform(0.5, 0.7), pitch=-8.0, hip_dz=0.0)
                self.move(0.4, pitch=0.0)
            self.hold(r.uniform(0.2, 0.6))
            lead_is_sensor = not lead_is_sensor
        self.hold(end - self.t)

    # --- exercise sets ----------------------------------------------------------------------

    def add_set(self, step: Step) -> None:
        r = self.rng
        ex = step.activity
        working = step.leg
        if step.sensor_on:
            other = "right" if self.sensor_leg == "left" else "left"
            working = self.sensor_leg if step.sensor_on == "standing" else other
        if ex in SINGLE_LEG or (ex == "lunge" and working in ("left", "right")):
            sensor_on = "standing" if working == self.sensor_leg else "free"
        else:
            sensor_on = "both"
        wobble = {
            "amplitude_deg": step.resolved_wobble()
            if ex in SINGLE_LEG
            else min(step.resolved_wobble(), 1.0) or 0.6,
            "frequency_hz": step.wobble_hz,
            "tremor_deg": step.tremor_deg,
        }
        st = SetTruth(len(self.sets) + 1, ex, working, sensor_on, self.t, wobble=wobble)
        self.sets.append(st)
        if step.start == "seated":
            self._seated_set(step, st)
            return
        lead_in = r.uniform(0.8, 1.5)
        self.hold(lead_in if step.start == "standing" else 0.1 * lead_in)  # moving: straight in
        if ex in CORE:
            self._core_set(step, st)
        else:
            self._rep_set(step, st, sensor_on)
        lead_out = r.uniform(0.6, 1.2)
        self.hold(lead_out if step.start == "standing" else 0.1 * lead_out)  # moving: straight on
        st.end = self.t

    def _rep_set(self, step: Step, st: SetTruth, sensor_on: str) -> None:
        r = self.rng
        ex = step.activity
        depth0 = step.resolved_depth()
        down0, pause0, up0 = step.resolved_tempo()
        free_pose: dict[str, float] = {}
        if ex == "single_leg_squat" and sensor_on == "free":
            if step.free_leg == "knee":
                free_pose = {"pitch": r.uniform(35, 45), "abd": r.uniform(35, 50), "yaw": r.uniform(20, 35)}
            elif step.free_leg == "front":
                free_pose = {"pitch": r.uniform(40, 60), "abd": r.uniform(0, 8), "yaw": 0.0}
            else:
                free_pose = {"pitch": r.uniform(25, 35), "abd": r.uniform(0, 6), "yaw": 0.0}
        elif ex == "single_leg_deadlift" and sensor_on == "free":
            free_pose = {"pitch": -r.uniform(3, 8), "abd": 0.0, "yaw": 0.0}
        if free_pose:
            self.move(r.uniform(0.8, 1.2), **free_pose)
            self.hold(r.uniform(0.5, 1.0))
        elif ex in SINGLE_LEG:
            self.move(0.8, support=r.uniform(2, 6), pitch=self.state["pitch"])
            self.hold(0.5)
        sim = BY_NAME[ex].sim if ex in BY_NAME else None
        self.state["shank"] = 0.4 if sim is None else sim.shank
        losses = (
            set(
                r.choice(
                    np.arange(1, step.reps), size=min(step.balance_losses, step.reps - 1), replace=False
                ).tolist()
            )
            if step.reps > 1
            else set()
        )
        lead_sensor = True
        for n in range(1, step.reps + 1):
            frac = (n - 1) / max(step.reps - 1, 1)
            slow = 1.0 + step.fatigue * frac**2
            shallow = 1.0 - 0.5 * step.fatigue * frac**2
            depth = self.vary(depth0, step.variability * 0.7) * shallow
            down = self.vary(down0, step.variability) * slow
            pause = max(self.vary(pause0, step.variability * 2), 0.0) * slow
            up = self.vary(up0, step.variability) * slow
            base = dict(self.state)
            t_start = self.t
            bottom = self._rep_bottom(ex, depth, sensor_on, base, step, lead_sensor)
            self.move(down, **bottom)
            t_bottom = self.t + pause / 2
            self.hold(pause)
            if ex == "lunge":  # push back: the leading thigh rises as its foot leaves the floor
                self.move(up * 0.55, pitch=50.0 if self.state["pitch"] > 40 else -15.0, support=40.0)
                self.move(up * 0.45, **{k: base[k] for k in ("pitch", "support", "abd", "yaw")})
                self.jobs.append(Job("impact", self.t, self.t + 0.2, {"g": self.rng.uniform(0.4, 0.8)}))
            else:
                self.move(up, **{k: base[k] for k in ("pitch", "support", "abd", "yaw")})
            st.reps.append(RepTruth(n, t_start, t_bottom, self.t))
            if step.leg == "both" and ex == "lunge":
                lead_sensor = not lead_sensor
            if n in losses:
                self._balance_loss(st, sensor_on, base)
            if n < step.reps:
                self.hold(max(self.vary(0.35 if ex == "squat" else 0.6, 0.3), 0.05) * slow)
        if free_pose or ex in SINGLE_LEG:
            self.move(r.uniform(0.7, 1.0), pitch=0.0, support=0.0, abd=0.0, yaw=0.0)
        self.state["shank"] = 0.5
        self.jobs.append(
            Job(
                "wobble",
                st.start,
                self.t,
                {**st.wobble, "fatigue": step.fatigue, "single_leg": ex in SINGLE_LEG, "set": st.index},
            )
        )

    # --- sets from a chair or box (the 30-second chair-stand test, box squats) ----------------

    @staticmethod
    def _seat_pose(seat_deg: float) -> dict[str, float]:
        """Seated: both thighs near horizontal, the shanks upright, the hip back over the seat."""
        return {
            "pitch": seat_deg,
            "support": seat_deg,
            "shank": 0.15,
            "hip_dx": -0.05,
            "abd": 0.0,
            "yaw": 0.0,
        }

    def _start_seated(self, seat_deg: float) -> None:
        """The session begins on the seat (no standing first)."""
        self.state.update(self._seat_pose(seat_deg))
        self.knot_v[0] = [self.state[c] for c in CHANNELS]

    def _seated_set(self, step: Step, st: SetTruth) -> None:
        """Reps from a seat: stand up, sit straight back down, repeat; the set ends seated.

        The count is the number of times the athlete stands up (as the chair-stand test counts):
        rep 1 is the first rise from the seat (it starts at its bottom), rep n the sit-down after
        stand n-1 and the rise to stand n. The last sit-down ends the set and is no rep."""
        r = self.rng
        seat0 = step.resolved_depth()
        if self.state["pitch"] < 0.5 * seat0:  # standing: sit down and get ready first (no rep)
            self.move(r.uniform(1.3, 2.0), **self._seat_pose(self.vary(seat0, 0.03)))
            self.hold(r.uniform(5.0, 10.0))
        else:
            self.hold(r.uniform(1.0, 2.0))
        st.start = self.t
        down0, pause0, up0 = step.resolved_tempo()
        sat_s, seat_mid_s = self.t, self.t
        for n in range(1, step.reps + 1):
            slow = 1.0 + step.fatigue * ((n - 1) / max(step.reps - 1, 1)) ** 2
            t_rise = self.t
            self.move(self.vary(up0, step.variability) * slow, **_STANDING)
            if n == 1:
                st.reps.append(RepTruth(n, t_rise, t_rise, self.t))
            else:
                st.reps.append(RepTruth(n, sat_s, seat_mid_s, self.t))
            self.hold(max(self.vary(0.15, 0.5), 0.02))  # barely a moment upright
            sat_s = self.t
            self.move(self.vary(down0, step.variability) * slow, **self._seat_pose(self.vary(seat0, 0.03)))
            # sitting back onto the seat: a soft landing
            self.jobs.append(Job("impact", self.t, self.t + 0.2, {"g": r.uniform(0.05, 0.2)}))
            pause = max(self.vary(pause0, step.variability * 2), 0.0) * slow
            seat_mid_s = self.t + pause / 2
            self.hold(pause)
        self.hold(r.uniform(5.0, 8.0))  # stays seated after the set
        st.end = self.t
        self.jobs.append(
            Job(
                "wobble",
                st.start,
                self.t,
                {**st.wobble, "fatigue": step.fatigue, "single_leg": False, "set": st.index},
            )
        )
        start = self.t
        self.move(r.uniform(1.2, 1.8), **_STANDING)  # an ordinary stand-up before what comes next
        self.hold(r.uniform(0.8, 1.5))
        self.activities.append({"kind": "sit_stand", "start_s": start, "end_s": self.t})

    def _rep_bottom(
        self, ex: str, depth: float, sensor_on: str, base: dict[str, float], step: Step, lead_sensor: bool
    ) -> dict[str, float]:
        if ex == "single_leg_squat":
            if sensor_on == "free":
                k = {"knee": 0.45, "hover": 0.5, "front": 0.6}[step.free_leg]
                return {"support": depth, "pitch": base["pitch"] + k * depth, "abd": base["abd"] * 0.9}
            return {"support": depth, "pitch": depth}
        if ex == "single_leg_deadlift":
            stand = step.hinge_deg * depth / step.resolved_depth() if step.hinge_deg else 0.25 * depth
            if sensor_on == "free":
                return {"support": stand, "pitch": -depth, "yaw": self.rng.uniform(5, 15)}
            return {"support": stand, "pitch": stand}
        if ex == "lunge":
            front = sensor_on == "standing" or (sensor_on == "both" and lead_sensor)
            if front:
                self.move(self.rng.uniform(0.3, 0.45), pitch=45.0, support=0.0)
                self.jobs.append(Job("impact", self.t, self.t + 0.2, {"g": self.rng.uniform(1.0, 1.6)}))
                self.move(0.25, pitch=28.0)
                return {"support": depth, "pitch": depth}
            self.move(self.rng.uniform(0.25, 0.35), pitch=-16.0, support=20.0)
            self.jobs.append(Job("impact", self.t, self.t + 0.2, {"g": self.rng.uniform(0.5, 1.0)}))
            return {"support": depth, "pitch": self.rng.uniform(8, 20)}
        return {"support": depth, "pitch": depth}

    def _balance_loss(self, st: SetTruth, sensor_on: str, base: dict[str, float]) -> None:
        """The free foot touches down to catch the balance, then goes back up."""
        r = self.rng
        self.balance_losses.append({"t_s": self.t + 0.15, "set_index": st.index})
        self.wobble_events.append(
            {"t_start_s": self.t - 0.6, "t_end_s": self.t + 1.2, "set_index": st.index, "balance_loss": True}
        )
        if sensor_on == "free":
            self.move(r.uniform(0.25, 0.4), pitch=r.uniform(-3, 4), abd=r.uniform(0, 4), yaw=0.0)
            self.jobs.append(Job("impact", self.t, self.t + 0.2, {"g": r.uniform(0.4, 0.8)}))
        else:
            self.move(r.uniform(0.2, 0.3), abd=r.choice([-1.0, 1.0]) * r.uniform(5, 9))
        self.hold(r.uniform(0.5, 1.2))
        self.move(r.uniform(0.5, 0.8), **{k: base[k] for k in ("pitch", "support", "abd", "yaw")})
        self.hold(r.uniform(0.4, 0.8))

    def _core_set(self, step: Step, st: SetTruth) -> None:
        r = self.rng
        ex = step.activity
        if ex == "plank":
            self.move(1.2, hip_dz=-0.45, support=0.0, shank=0.0)  # kneel
            self.move(1.6, pitch=-r.uniform(80, 88), hip_dz=-0.62)
            self.hold(0.5)
            t0 = self.t
            self.hold(step.duration_s)
            self.jobs.append(
                Job("shake", t0, self.t, {"deg": step.tremor_deg + 0.3, "fatigue": step.fatigue})
            )
            self.move(1.5, pitch=0.0, hip_dz=-0.45)
            self.move(1.3, hip_dz=0.0, shank=0.5)
            return
        # Lie on the back with the knees up (thigh pitch beyond 90: knee above the hip).
        self.move(1.5, pitch=70.0, support=70.0, hip_dz=-0.45, shank=0.1)
        self.move(1.5, pitch=r.uniform(125, 135), support=0.0, hip_dz=-0.8, shank=0.0)
        self.hold(0.8)
        base = self.state["pitch"]
        depth0 = step.resolved_depth()
        down0, pause0, up0 = step.resolved_tempo()
        for n in range(1, step.reps + 1):
            t_start = self.t
            depth = self.vary(depth0, step.variability)
            if ex == "bicycle":  # this knee to the chest, then the leg out straight
                self.move(self.vary(down0, step.variability), pitch=min(base + depth * 0.7, 172.0))
                t_bottom = self.t
                self.move(self.vary(up0, step.variability), pitch=base - depth * 0.4)
                self.move(self.vary(up0, step.variability) * 0.5, pitch=base)
            else:  # crunch: knees drawn in as the trunk curls
                self.move(self.vary(down0, step.variability), pitch=min(base + depth, 172.0), hip_dz=-0.78)
                t_bottom = self.t + pause0 / 2
                self.hold(pause0)
                self.move(self.vary(up0, step.variability), pitch=base, hip_dz=-0.8)
            st.reps.append(RepTruth(n, t_start, t_bottom, self.t))
            self.hold(max(self.vary(0.25, 0.3), 0.05))
        self.move(1.5, pitch=70.0, support=70.0, hip_dz=-0.45, shank=0.1)
        self.move(1.5, pitch=0.0, support=0.0, hip_dz=0.0, shank=0.5)


# --- evaluating the timeline on the sample grid -------------------------------------------------


def min_jerk(t: FloatArray, knot_t: FloatArray, knot_v: FloatArray) -> FloatArray:
    """Minimum-jerk interpolation between still key poses; ``knot_v`` is (K, C), returns (N, C)."""
    idx = np.clip(np.searchsorted(knot_t, t, side="right") - 1, 0, len(knot_t) - 2)
    t0 = knot_t[idx]
    span = knot_t[idx + 1] - t0
    s = np.clip((t - t0) / np.where(span > 0, span, 1.0), 0.0, 1.0)
    # Half minimum-jerk, half cubic: real reps have a flatter speed profile than pure minimum jerk
    # (peak/mean speed about 1.7 rather than 1.9; bench/realism.py).
    h = 0.5 * s * s * s * (10.0 - 15.0 * s + 6.0 * s * s) + 0.5 * s * s * (3.0 - 2.0 * s)
    return knot_v[idx] + (knot_v[idx + 1] - knot_v[idx]) * h[:, None]


def band_noise(
    rng: np.random.Generator, n: int, rate_hz: float, lo_hz: float, hi_hz: float, cols: int = 1
) -> FloatArray:
    """Unit-RMS Gaussian noise band-limited to [lo, hi] Hz (the band is clipped below Nyquist)."""
    nyq = rate_hz / 2
    hi = min(hi_hz, 0.45 * rate_hz)
    lo = min(lo_hz, 0.5 * hi)
    x = rng.standard_normal((n + int(rate_hz * 4), cols))
    sos = butter(4, [lo / nyq, hi / nyq], btype="band", output="sos")
    y = sosfilt(sos, x, axis=0)[int(rate_hz * 4) :]
    sd = y.std(axis=0)
    return y / np.where(sd > 0, sd, 1.0)


def smoothstep_window(t: FloatArray, t0: float, t1: float, ramp_s: float) -> FloatArray:
    a = np.clip((t - t0) / ramp_s, 0, 1)
    b = np.clip((t1 - t) / ramp_s, 0, 1)
    w = np.minimum(a, b)
    return w * w * (3 - 2 * w)


@dataclass
class MotionTracks:
    """The sensor thigh's motion on the sample grid (true time)."""

    pitch_deg: FloatArray  # flexion, with every rhythm and noise
    pitch_base_deg: FloatArray  # key poses only (defines the truth's depth)
    abd_deg: FloatArray  # abduction, knee out
    yaw_deg: FloatArray
    bone_deg: FloatArray  # (N, 3) pitch, abd, yaw of the femur without skin/tremor rotation
    hip_m: FloatArray  # (N, 3) world
    extra_accel_thigh_g: FloatArray  # (N, 3): impacts and soft-tissue vibration


def render(tl: Timeline, t: FloatArray, rate_hz: float, rng: np.random.Generator) -> MotionTracks:
    """Evaluate a laid-out timeline at the sample times ``t`` (true seconds)."""
    n = t.shape[0]
    kt = np.asarray(tl.knot_t)
    kv = np.asarray(tl.knot_v)
    base = min_jerk(t, kt, kv)
    ch = {c: base[:, i].copy() for i, c in enumerate(CHANNELS)}
    pitch_base = ch["pitch"].copy()
    hip = np.zeros((n, 3))
    extra = np.zeros((n, 3))
    tremor = np.zeros((n, 3))  # fast small rotations (tremor, shake): the femur does not follow them
    dt = 1.0 / rate_hz

    # Postural sway everywhere (body over the ankles), slow and small: quiet standing then reads
    # about 0.4-0.7 deg/s of gyro (bias removed, 1-s windows), as the quietest seconds of the real
    # strapped thigh sensors do (HuGaDB, CMU: 0.43-0.52 deg/s); 0.35 deg read 0.84-1.5 deg/s.
    sway = band_noise(rng, n, rate_hz, 0.05, 0.8, 4)
    ch["pitch"] += 0.15 * sway[:, 0]
    ch["abd"] += 0.15 * sway[:, 1]
    hip[:, 0] += 0.004 * sway[:, 2]
    hip[:, 1] += 0.004 * sway[:, 3]

    for job in tl.jobs:
        i0 = int(np.searchsorted(t, job.t0))
        i1 = int(np.searchsorted(t, job.t1))
        if i1 - i0 < 2:
            continue
        ts = t[i0:i1]
        m = i1 - i0
        p = job.params
        if job.kind == "gait":
            _gait(ch, hip, extra, i0, i1, ts, p, rate_hz, rng)
        elif job.kind == "wobble":
            win = smoothstep_window(ts, job.t0, job.t1, 1.0)
            prog = (ts - job.t0) / max(job.t1 - job.t0, 1e-9)
            amp = p["amplitude_deg"] * (1.0 + 0.8 * p["fatigue"] * prog)
            # Narrow-band sway: a sinusoid whose phase and amplitude wander.
            phase = (
                2
                * np.pi
                * np.cumsum(p["frequency_hz"] * (1 + 0.15 * band_noise(rng, m, rate_hz, 0.05, 0.5)[:, 0]))
                * dt
            )
            env = 1.0 + 0.35 * band_noise(rng, m, rate_hz, 0.05, 0.4)[:, 0]
            events = _wobble_bursts(tl, job, ts, rng) if p["single_leg"] else np.ones(m)
            sway_deg = amp * env * events * np.sin(phase + rng.uniform(0, 2 * np.pi)) * win
            ch["abd"][i0:i1] += sway_deg
            ch["pitch"][i0:i1] += 0.3 * sway_deg
            ch["yaw"][i0:i1] += 0.5 * sway_deg
            hip[i0:i1, 1] += 0.004 * sway_deg
            trem_deg = p["tremor_deg"] * (1.0 if p["single_leg"] else 0.2)
            trem = band_noise(rng, m, rate_hz, 6.0, 11.0, 3) * (trem_deg * win)[:, None]
            tremor[i0:i1] += trem * np.array([0.6, 1.0, 0.6])
        elif job.kind == "shake":
            win = smoothstep_window(ts, job.t0, job.t1, 1.0)
            prog = (ts - job.t0) / max(job.t1 - job.t0, 1e-9)
            trem = (
                band_noise(rng, m, rate_hz, 5.0, 10.0, 3)
                * (p["deg"] * (1 + 2 * p["fatigue"] * prog) * win)[:, None]
            )
            tremor[i0:i1, :2] += trem[:, :2]
            hip[i0:i1, 2] += 0.002 * band_noise(rng, m, rate_hz, 0.1, 1.0)[:, 0] * win
        elif job.kind == "bounce":
            win = smoothstep_window(ts, job.t0, job.t1, 0.4)
            ch["pitch"][i0:i1] += p["deg"] * win * np.sin(2 * np.pi * p["hz"] * (ts - job.t0))
        elif job.kind == "impact":
            _add_impacts(extra, np.array([i0]), np.array([p["g"]]), rate_hz)

    # The leg chain: the weight-bearing thigh and its shank set the hip above a planted foot.
    s = np.radians(ch["support"])
    k = ch["shank"]
    thigh_m, shank_m = tl.body.thigh_m, tl.body.shank_m
    hip[:, 0] += shank_m * np.sin(k * s) - thigh_m * np.sin(s) + ch["hip_dx"]
    hip[:, 2] += shank_m * np.cos(k * s) + thigh_m * np.cos(s) + ch["hip_dz"]

    # Moving legs are not rigid hinges and a strapped sensor is not bolted to the bone: it rocks on
    # the muscle (2-6 Hz) and rings on the skin (4-10 Hz), more the faster the leg moves. These turn
    # the sensor about its own spot, not about the hip. The real recordings show both
    # (docs/simulator.md, "Realism").
    rate = np.abs(np.gradient(ch["pitch"], dt)) + 0.5 * np.abs(np.gradient(ch["abd"], dt))
    intensity = sosfilt(butter(1, min(2.0, 0.2 * rate_hz) / (rate_hz / 2), output="sos"), rate)
    intensity = np.clip(intensity / 100.0, 0.0, 3.0)
    bone = np.column_stack([ch["pitch"], ch["abd"], ch["yaw"]])
    tremor += band_noise(rng, n, rate_hz, 2.0, 6.0, 3) * intensity[:, None] * np.array([0.4, 1.0, 1.0])
    tissue = band_noise(rng, n, rate_hz, 4.0, 12.0, 6) * intensity[:, None]
    extra += tissue[:, :3] * np.array([0.09, 0.07, 0.07])
    tremor += tissue[:, 3:] * np.array([0.1, 0.2, 0.2])
    ch["pitch"] += tremor[:, 0]
    ch["abd"] += tremor[:, 1]
    ch["yaw"] += tremor[:, 2]

    sign = 1.0 if tl.sensor_leg == "left" else -1.0
    hip[:, 1] *= sign
    bone[:, 1:] *= sign
    return MotionTracks(ch["pitch"], pitch_base, sign * ch["abd"], sign * ch["yaw"], bone, hip, extra)


def _wobble_bursts(tl: Timeline, job: Job, ts: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Moments of bigger sway in a single-leg set; each is a truth wobble event."""
    gain = np.ones_like(ts)
    span = job.t1 - job.t0
    for _ in range(int(rng.integers(1, 3)) if span > 8 else 0):
        c = float(rng.uniform(job.t0 + 2.0, job.t1 - 2.0))
        w = float(rng.uniform(0.8, 1.6))
        g = float(rng.uniform(1.8, 2.8))
        gain += (g - 1.0) * np.exp(-0.5 * ((ts - c) / (w / 2.5)) ** 2)
        tl.wobble_events.append(
            {
                "t_start_s": c - w / 2,
                "t_end_s": c + w / 2,
                "set_index": job.params["set"],
                "amplitude_deg": round(job.params["amplitude_deg"] * g, 2),
                "balance_loss": False,
            }
        )
    return gain


def _add_impacts(extra: FloatArray, idx: npt.NDArray[np.int64], amp_g: FloatArray, rate_hz: float) -> None:
    """Foot-strike shocks: a damped ~15 Hz ring, mostly along the thigh's long axis."""
    kt = np.arange(int(0.2 * rate_hz)) / rate_hz
    kernel = np.exp(-kt / 0.03) * np.sin(2 * np.pi * 12.0 * kt + 0.6)
    train = np.zeros(extra.shape[0])
    np.add.at(train, np.clip(idx, 0, extra.shape[0] - 1), amp_g)
    ring = np.convolve(train, kernel)[: extra.shape[0]]
    extra[:, 2] += ring
    extra[:, 0] += 0.35 * ring


def _gait(
    ch: dict[str, FloatArray],
    hip: FloatArray,
    extra: FloatArray,
    i0: int,
    i1: int,
    ts: FloatArray,
    p: dict[str, Any],
    rate_hz: float,
    rng: np.random.Generator,
) -> None:
    g = _GAIT[p["kind"]]
    speed = float(p["speed"])
    m = i1 - i0
    period = g["period_s"] / speed**0.5 * (1 + 0.025 * band_noise(rng, m, rate_hz, 0.02, 0.3)[:, 0])
    phase = np.cumsum(1.0 / period) / rate_hz
    ramp = min(0.9 * g["period_s"], 0.4 * (ts[-1] - ts[0]))
    win = smoothstep_window(ts, ts[0], ts[-1], ramp)
    amp = (0.85 + 0.15 * speed) * (1 + 0.04 * rng.standard_normal())
    prof = np.interp(phase % 1.0, g["phase"], g["pitch"], period=1.0)
    k = max(int(0.06 * rate_hz), 1)
    prof = np.convolve(
        np.pad(prof, k, mode="edge"), np.hanning(2 * k + 1) / np.hanning(2 * k + 1).sum(), "same"
    )[k:-k]
    ch["pitch"][i0:i1] += amp * prof * win
    ch["abd"][i0:i1] += g["abd_deg"] * np.sin(2 * np.pi * phase + 0.5) * win
    ch["yaw"][i0:i1] += g["yaw_deg"] * np.sin(2 * np.pi * phase) * win
    hip[i0:i1, 2] += -g["bounce_m"] * np.cos(4 * np.pi * phase) * win
    hip[i0:i1, 1] += 0.02 * np.sin(2 * np.pi * phase) * win
    hip[i0:i1, 0] += 0.015 * np.sin(4 * np.pi * phase) * win
    # Heel strikes: this leg at phase 0, the other leg at phase 0.5 (felt less).
    whole = np.floor(phase)
    own = np.flatnonzero(np.diff(whole) > 0) + 1
    other = np.flatnonzero(np.diff(np.floor(phase + 0.5)) > 0) + 1
    idx = np.concatenate([own, other])
    amps = np.concatenate([np.full(own.size, g["impact_g"]), np.full(other.size, 0.3 * g["impact_g"])])
    amps = amps * speed * win[idx] * rng.uniform(0.7, 1.3, idx.size)
    _add_impacts(extra[i0:i1], idx, amps, rate_hz)


def set_depths(tl: Timeline, t: FloatArray, pitch_base: FloatArray) -> None:
    """Fill each rep's depth: the extreme change of the (noise-free) thigh pitch from the rep's start."""
    for st in tl.sets:
        for rep in st.reps:
            i0 = int(np.searchsorted(t, rep.t_start))
            i1 = max(int(np.searchsorted(t, rep.t_end)), i0 + 1)
            # a rise from a seat starts at its bottom: its depth is measured from where it ends
            ref = min(i1 - 1 if rep.t_bottom == rep.t_start else i0, pitch_base.shape[0] - 1)
            seg = pitch_base[i0:i1] - pitch_base[ref]
            if seg.size == 0:
                continue
            j = int(np.argmax(np.abs(seg)))
            rep.depth_deg = float(seg[j])
