"""Tuning knobs of the signal pipeline, with the reasons for their defaults (docs/pipeline.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    """Every threshold the pipeline uses. Defaults are tuned on real and simulated bodies."""

    # --- sampling -------------------------------------------------------------------------
    rate_probe_samples: int = 16  # samples used to measure the sample rate before anything else
    max_gap_s: float = 0.5  # a longer hole in t_s restarts the orientation filters

    # --- automatic mounting (no calibration) -----------------------------------------------
    still_gyro_dps: float = 12.0  # quiet standing: angular rate below this ...
    still_accel_g: float = 0.15  # ... and specific force this close to its low-passed value
    still_s: float = 0.8  # ... for this long gives the thigh axis (in one run, or in pieces ...
    still_piece_s: float = 0.15  # ... of at least this long, e.g. the pauses at the top of reps ...
    still_pose_deg: float = 10.0  # ... in one pose: their directions within this)
    # ... and when found in pieces, a pose this much nearer the mean direction of the movement
    # before it (at least this long: walking swings about standing) is standing instead
    walk_pose_margin_deg: float = 4.0
    walk_pose_min_s: float = 3.0
    axis_rotation_deg: float = 60.0  # rotation out of the thigh axis needed to find the sagittal plane
    axis_dominance: float = 4.0  # without a 30-deg tilt, its axis must carry this times the next one
    sign_tilt_deg: float = 30.0  # the first tilt this large tells forward from backward
    # without a gyroscope the forward side is where the specific force tilts this far: beyond
    # the backward tilt (up to ~21 deg on real squats) that a quick flexion's start gives it;
    # the same as sign_tilt_deg, the gyroscope path's forward test
    axis_tilt_deg: float = 30.0
    # a session that starts seated (docs/pipeline.md, "Sets that start seated"): the first movement
    # is followed until it turns back this far (or the thigh is still, or this long) ...
    seat_turn_deg: float = 5.0
    seat_settle_s: float = 3.0
    seat_tilt_deg: float = 70.0  # ... and if it turned the thigh this far from the still pose ...
    seat_rise_m: float = 0.05  # ... while the sensor rose this much, the still pose was a seat
    seat_window_s: float = 2.5  # (the rise is followed this long after a still moment)
    max_buffer_s: float = 120.0  # samples kept while the mounting is still unknown

    # --- orientation ----------------------------------------------------------------------
    fusion_tau_s: float = 0.25  # complementary filter: gyro below, accelerometer above this time
    accel_lowpass_hz: float = 3.0  # accelerometer-only angle smoothing (no gyroscope)
    height_tau_s: float = 1.5  # leak of the vertical velocity and height integrators
    # the jolt (impact) every *_impact_g threshold reads: |specific force| low-passed at this
    # frequency (at most 0.35 x the sample rate) ... and its change over this long
    jolt_lowpass_hz: float = 8.0
    jolt_window_s: float = 0.08

    # --- reps -----------------------------------------------------------------------------
    rep_start_deg: float = 7.0  # leaving standing: thigh this far from its standing angle
    rep_rest_deg: float = 6.5  # the standing angle is re-learnt only this close to it ...
    rebase_upright_deg: float = 3.0  # ... and, before a flexion, this close to the pause's lowest so far
    rep_end_fraction: float = 0.25  # back up: below this fraction of the rep's depth ...
    rep_end_deg: float = 5.0  # ... or this many degrees, whichever is larger
    min_depth_deg: float = 10.0
    # ... but a slow flexion this deep (the standing band's edge) is a rep that must repeat: a
    # shallow single-leg deadlift on the standing leg, a shallow slow squat (docs/pipeline.md)
    repeat_min_depth_deg: float = 7.0
    repeat_min_s: float = 1.25  # ... lasting this long (fidgets and knee bends are quicker) ...
    repeat_set_reps: int = 3  # ... and a set of such reps opens at this many (announced together)
    stand_window_s: float = 0.6  # depth: from the mean pitch of the last window this long ...
    stand_range_deg: float = 4.0  # ... where the thigh moved less than this (chained reps: half as long)
    stand_lookback_s: float = 2.0  # ... from this long before it left standing, in the rep's upper half
    rebound_deg: float = 10.0  # rising again this far above the lowest point since the peak ...
    rebound_fraction: float = 0.3  # ... (or this fraction of the depth) ends a rep without standing up,
    rebound_min_deg: float = 25.0  # ... when that lowest point is this far from standing (a parked leg)
    park_s: float = 0.5  # a free leg lifted and held this still (single-leg squat, sensor on it) ...
    park_band_deg: float = 5.0  # ... within this range of pitch ...
    park_drift_deg: float = 2.0  # ... ending within this of where it began (held, not creeping) ...
    park_min_deg: float = 15.0  # ... between these flexions from standing ...
    park_max_deg: float = 60.0
    park_within_s: float = 3.0  # ... soon after leaving standing, then flexing again: reps from there
    park_rise_s: float = 2.0  # ... (the flexing again starts at most this long after that)
    park_max_impact_g: float = 0.55  # ... and no foot strike on the way (a lunge steps forward)
    # a plateau as far behind standing is a split stance (the back leg of a split squat): reps
    # are flexions from it; it is left quiet near standing this long, or this far in front of it
    stance_within_s: float = 8.0  # (the stance's plateau ends this soon after leaving standing)
    stance_exit_s: float = 1.0
    stance_exit_fwd_deg: float = 15.0
    rearm_at_standing: bool = True  # True: after a rep, wait for the standing band before the next
    min_extension_deg: float = 35.0  # backward swings (free leg of a single-leg deadlift) go far
    min_rep_s: float = 1.25
    # ... but with a gyroscope a deep flexion from standing may be quicker (a bouncy half squat
    # takes 0.9-1.2 s from leaving standing to back up); such a rep opens a set only with two more
    # (a sit and a quick stand-up are two): docs/pipeline.md, "An independent thigh model"
    quick_rep_deg: float = 40.0
    quick_rep_s: float = 0.85
    max_rep_s: float = 12.0
    max_bottom_s: float = 4.0  # a longer hold at depth is sitting or a hold, not a rep
    quiet_dps: float = 12.0  # angular rate of a quiet thigh ...
    standing_quiet_s: float = 0.25  # ... held this long re-learns the standing angle
    settle_dps: float = 40.0  # near standing, the thigh turns around slower than this between reps ...
    pre_quiet_s: float = 1.5  # ... at most this long before the next rep starts (walking never does)
    rebase_s: float = 1.5  # after a hold, quiet this long re-learns the standing angle ...
    stand_max_deg: float = 25.0  # ... if the thigh is this close to vertical (not seated, not lying)
    # a set from a chair or box (docs/pipeline.md, "Sets that start seated"): the thigh still on a
    # seat (at least this far from vertical), then turning around near vertical, stood up; that rise
    # is the set's first rep when it is quick and a rep starts soon after it (a chair-stand set)
    seat_min_deg: float = 45.0
    rise_max_s: float = 4.0  # ... a rise from the seat this quick at most ...
    rise_next_s: float = 2.0  # ... and the next rep starts within this of standing up (no pause up)
    seat_match_deg: float = 15.0  # ... lowering the sensor to within this of the seat's pitch
    max_thigh_pitch_deg: float = 125.0  # no squat takes the thigh this far: knees to the chest, lying
    max_rise_dps: float = 150.0  # walking/stairs lift the thigh faster than anyone squats down
    max_impact_g: float = 5.0  # heel strikes: jolts larger than this (running reads 2.4-3.2)
    knee_lift_m: float = 0.015  # the sensor rising this much while the thigh flexes: a step, not a rep
    knee_lift_max_s: float = 2.0  # ... when it is quick (stepping is; a slow hinge is not)

    # --- exercise -------------------------------------------------------------------------
    # (squats, deadlifts and their single-leg forms are named by the model of naming.py; these
    # two depths are the first-rep test's: a shallow flexion, a deep one)
    deadlift_max_deg: float = 35.0  # thigh flexion below this: a hinge-like first rep
    squat_min_deg: float = 78.0  # at or above this: a deep (squat-like) first rep
    lunge_impact_g: float = 0.7  # a rep with a foot strike this large is a lunge (a step) ...
    lunge_step_impact_g: float = 0.5  # ... or this large while the sensor rose (leg lifted to step)

    # --- sets -----------------------------------------------------------------------------
    set_rest_s: float = 10.0  # no rep for this long ends a set
    min_relative_depth: float = 0.55  # within a set, a rep at least this fraction of the usual depth
    min_set_reps: int = 2  # a lone rep-like movement is no set (its rep is announced with the second) ...
    # ... unless its shape is unambiguous: then the first rep of a set is announced at once
    first_max_impact_g: float = 0.7  # no jolt (steps, stairs, landing on a seat)
    first_min_s: float = 1.45  # not quick (sitting down on a step, stepping up and back are)
    # ... and a flexion not slower than a rep of a set: sitting down and standing up again reads
    # as one 7-s rep (real HuGaDB sit/stand at 25 Hz); a free leg's slow backward swing may take 7 s
    first_max_s: float = 6.0
    first_hinge_min_s: float = 2.0  # a shallow flexion (hinge) or a backward swing lasts this long
    first_slow_s: float = 2.5  # ... a slower, not so deep one may read a rising sensor (height drifts)
    first_max_extension_deg: float = 90.0  # a backward swing deeper than this is a run's back kick
    first_max_speed_ratio: float = 3.3  # peak thigh speed (deg/s) per degree of depth: stepping is jerkier

    # --- balance loss ---------------------------------------------------------------------
    # the jolt (``ThighAngles.impact_g``, the same at any sample rate) this large in a single-leg
    # set ... (a free foot dropped to the floor from a knee hold: 0.5 g and up; from a hover:
    # 0.30-0.50 g; single-leg reps and the moves between them near the standing pose at most
    # 0.375 g, at 25-200 Hz; docs/pipeline.md, "Balance losses") ...
    balance_loss_g: float = 0.4
    # ... with the thigh within this of the standing pose (pitch): the foot is on the floor. A jolt
    # with the thigh further out is the rep's own motion (a free leg swung or held: up to 0.52 g)
    balance_loss_pitch_deg: float = 15.0
    balance_loss_window_s: float = 3.0  # ... within this long after a rep ended: the free foot touched down
    balance_loss_gap_s: float = 2.0  # one event per touchdown

    # --- wobble ---------------------------------------------------------------------------
    sway_highpass_hz: float = 1.0  # sway = thigh angles above this frequency
    wobble_ratio: float = 2.0  # a wobble event when the level exceeds this times the baseline ...
    wobble_min_deg: float = 1.5  # ... and this absolute RMS
