"""Simulated thigh signals against real bodies (the CMU thigh recordings, read in place)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from firmware_sim.realism import FIGURES, cycle_figures, real_figures, sim_figures, summarise

# Figures where the simulated median must lie inside the real recordings' range (docs/simulator.md).
CHECKED = ("angle_range_deg", "peak_rate_dps", "acc_min_g", "acc_max_g", "acc_centroid_hz", "duration_s")


@pytest.mark.parametrize("movement", ["squat", "walking"])
def test_simulated_figures_fall_inside_the_real_range(real_data_dir: Path, movement: str) -> None:
    real = summarise(real_figures(real_data_dir, movement))
    sim = summarise(sim_figures(movement, range(4)))
    assert sim["duration_s"]["n"] >= 12  # enough cycles were found to judge
    outside = {
        k: (round(sim[k]["median"], 2), round(real[k]["min"], 2), round(real[k]["max"], 2))
        for k in CHECKED
        if not real[k]["min"] <= sim[k]["median"] <= real[k]["max"]
    }
    assert not outside, f"simulated median outside the real range (median, real min, real max): {outside}"


def test_figures_tell_squats_from_walking() -> None:
    """The figures are not blind: squats and walking differ where bodies differ."""
    squat = summarise(sim_figures("squat", range(2)))
    walk = summarise(sim_figures("walking", range(2)))
    assert squat["angle_range_deg"]["median"] > walk["angle_range_deg"]["median"] + 30
    assert squat["duration_s"]["median"] > walk["duration_s"]["median"] + 0.5
    assert walk["acc_max_g"]["median"] > squat["acc_max_g"]["median"] + 0.3


def test_cycle_figures_of_a_known_swing() -> None:
    rate = 100.0
    t = np.arange(int(12 * rate)) / rate
    pitch = np.radians(40.0) * (1 - np.cos(2 * np.pi * 0.5 * t)) / 2  # 0..40 deg, 2 s cycles
    pitch[: int(2 * rate)] = 0.0  # stand still first
    acc = np.column_stack([np.sin(pitch), np.zeros_like(t), np.cos(pitch)])
    gyro = np.column_stack([np.zeros_like(t), -np.degrees(np.gradient(pitch, 1 / rate)), np.zeros_like(t)])
    cycles = cycle_figures(t, acc, gyro)
    assert len(cycles) == 5
    assert set(FIGURES) <= set(cycles[0])
    assert np.median([c["angle_range_deg"] for c in cycles]) == pytest.approx(40, abs=2)
    assert np.median([c["peak_rate_dps"] for c in cycles]) == pytest.approx(40 * np.pi * 0.5, rel=0.05)
