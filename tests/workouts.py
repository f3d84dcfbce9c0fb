"""The workouts the tests simulate, written once, by name, with one cached way to simulate them.

A workout is a list of steps, each written here as the TOML a user writes (docs/simulator.md,
"Workout scripts"), so a test can parse it, simulate it, or hand it to ``firmware-sim generate`` /
``reptrack run --sim`` as a file. Steps compose: most pipeline tests start with :data:`WARM_UP`.

    from tests import workouts
    session = workouts.simulated(workouts.STAIRS, seed=6, leg="right")
"""

from __future__ import annotations

import functools
import json

from firmware_sim.session import SimulatedSession, simulate
from firmware_sim.workout import Workout


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string for the plain text used here
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def step(activity: str, **fields: object) -> str:
    """One ``[[step]]`` table: ``step("squat", reps=3, rest_s=15)``."""
    lines = ["[[step]]", f"activity = {_toml_value(activity)}"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"


def stand(duration_s: float) -> str:
    """Quiet standing: where the pipeline learns the standing pose."""
    return step("stand", duration_s=duration_s)


def script(*steps: str, name: str | None = None, description: str | None = None) -> str:
    """A workout script (TOML) from steps, named or not."""
    head = f"name = {_toml_value(name)}\n" if name is not None else ""
    head += f"description = {_toml_value(description)}\n" if description is not None else ""
    return head + "".join(steps)


@functools.cache
def workout(text: str) -> Workout:
    """The parsed workout of a script (parsed once per script)."""
    return Workout.from_toml_str(text)


@functools.cache
def simulated(text: str, seed: int, leg: str = "left", mounting: str = "random") -> SimulatedSession:
    """A script simulated once per (script, seed, leg, mounting) in a test process: tests that
    simulate the same session share it. Treat the result as read-only."""
    return simulate(workout(text), seed=seed, leg=leg, mounting=mounting)


# -- building blocks ------------------------------------------------------------------------------

#: Quiet standing, then three squats: the pipeline finds the thigh axis of a sensor strapped on at
#: any angle in them, before the set a test is about.
WARM_UP = (stand(5), step("squat", reps=3, rest_s=15))


# single-leg deadlifts on the standing leg whose thigh travels only 10 deg (real standing legs
# travel 10-30 deg), with real single-leg sway: the shallow reps that must repeat as a set
SHALLOW_STANDING_LEG_HINGES = step(
    "single_leg_deadlift",
    sensor_on="standing",
    reps=10,
    hinge_deg=10,
    wobble_deg=2.0,
    wobble_hz=0.8,
    rest_s=15,
)


def squat_set(reps: int) -> str:
    """4 s of standing and one set of bodyweight squats with a short rest: the smallest session."""
    return script(stand(4), step("squat", reps=reps, rest_s=3))


# -- named workouts ---------------------------------------------------------------------------

#: Squats, a walk, Romanian deadlifts, sitting down: two sets, and movement that is no set.
SQUATS_WALK_DEADLIFTS_SIT = script(
    stand(5),
    step("squat", reps=6, rest_s=15),
    step("walk", duration_s=15, rest_s=5),
    step("deadlift", reps=5, rest_s=15),
    step("sit", duration_s=12, rest_s=5),
    name="pipeline-test",
)

#: Walking, stairs and sitting down: never a rep.
WALK_STAIRS_SIT = script(
    stand(5), step("walk", duration_s=30), step("stairs_up", duration_s=15), step("sit", duration_s=10)
)

#: Stairs up and down between walks: strides that dip the sensor like a lunge's step.
STAIRS = script(
    stand(6),
    step("walk", duration_s=10, rest_s=5),
    step("stairs_up", duration_s=20),
    step("walk", duration_s=10),
    step("stairs_down", duration_s=20),
)

#: The warm-up, then a single-leg squat set on the left leg and a single-leg deadlift set on the right.
SINGLE_LEG_BOTH_SIDES = script(
    *WARM_UP,
    step("single_leg_squat", leg="left", reps=5, rest_s=15),
    step("single_leg_deadlift", leg="right", reps=5, rest_s=15),
)

#: A plank, crunches and bicycles between two squat sets: core work is never a squat.
CORE_BETWEEN_SQUATS = script(
    stand(5),
    step("squat", reps=4, rest_s=15),
    step("plank", duration_s=20, rest_s=10),
    step("crunch", reps=8, rest_s=10),
    step("bicycle", reps=8, rest_s=15),
    step("squat", reps=4, rest_s=15),
)

#: The warm-up, then single-leg squats with the free foot hovering, touching down once mid-set.
FREE_FOOT_TOUCHES_DOWN = script(
    *WARM_UP,
    step("single_leg_squat", leg="left", reps=8, free_leg="hover", balance_losses=1, rest_s=15),
)

#: Squats to find the mounting, single-leg squats with the sensor on the free leg (held on the
#: standing knee) and a balance loss, then single-leg deadlifts on the free leg.
FREE_LEG_SINGLE_LEG_WORK = script(
    stand(4),
    step("squat", reps=2, rest_s=12),
    step("single_leg_squat", leg="left", reps=5, free_leg="knee", balance_losses=1, rest_s=12),
    step("single_leg_deadlift", leg="left", reps=3, rest_s=12),
)

#: Single-leg deadlifts on the right leg only: a sensor on the left thigh rides the swinging free leg.
FREE_LEG_DEADLIFT = script(
    stand(5), step("single_leg_deadlift", leg="right", reps=8, rest_s=5), name="free-leg-deadlift"
)

#: Two sets of bodyweight squats with a rest between (the live service's end-to-end session).
TWO_SQUAT_SETS = script(
    stand(5),
    step("squat", reps=8, rest_s=20),
    step("squat", reps=6, rest_s=8),
    name="two-sets",
    description="Two short sets of bodyweight squats",
)

#: Squats, Romanian deadlifts and single-leg squats: the sets a calibration must not change.
CALIBRATION_CHECK = script(
    stand(5),
    step("squat", reps=8, rest_s=25),
    step("deadlift", reps=6, rest_s=25),
    step("single_leg_squat", leg="left", reps=6, rest_s=10),
    name="calibration-check",
)

#: Single-leg squats on the right leg, then on the left with the free foot hovering.
SINGLE_LEG_SQUATS_BOTH_LEGS = script(
    stand(4),
    step("single_leg_squat", leg="right", reps=8, rest_s=12),
    step("single_leg_squat", leg="left", reps=8, free_leg="hover", rest_s=3),
)


#: Squats, single-leg squats and single-leg deadlifts on the left leg, a walk and sitting down: worn
#: on the right thigh, every phase of the rep detector (the free leg's park search and rebounds,
#: backward reps) and its rejections (strides, a hold).
EVERY_PHASE = script(
    stand(4),
    step("squat", reps=4, rest_s=12),
    step("single_leg_squat", leg="left", free_leg="knee", reps=4, rest_s=12),
    step("single_leg_deadlift", leg="left", reps=3, rest_s=8),
    step("walk", duration_s=8),
    step("sit", duration_s=16),
    stand(3),
)

#: A walk, single-leg squats on the left leg and bodyweight squats: two sets to follow a plan with.
TWO_SETS = script(
    stand(6),
    step("walk", duration_s=10, rest_s=6),
    step("single_leg_squat", leg="left", reps=5, rest_s=20),
    step("squat", reps=6, rest_s=12),
    name="two-sets",
)

#: Standing still for 4 s, and three squats with nothing before them: the simulator's physics.
STILL_4S = script(stand(4), name="still")
THREE_SQUATS = script(step("squat", reps=3), name="sq")


def free_leg_single_leg_squats(working: str, free_leg: str) -> str:
    """The warm-up, then seven single-leg squats on ``working`` with the free foot ``free_leg``
    (``knee``: resting on the standing knee, ``hover``: held in front)."""
    return script(*WARM_UP, step("single_leg_squat", leg=working, reps=7, free_leg=free_leg, rest_s=12))


def slow_single_leg_deadlifts(leg: str) -> str:
    """The warm-up, then nine slow, deep single-leg deadlifts on ``leg``, wobbling 3 deg."""
    return script(
        *WARM_UP,
        step(
            "single_leg_deadlift",
            leg=leg,
            reps=9,
            depth_deg=68,
            tempo_s=[2.3, 0.7, 1.9],
            wobble_deg=3.0,
            rest_s=12,
        ),
    )
