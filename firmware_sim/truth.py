"""Ground truth beside every simulated recording (docs/simulator.md, "Ground truth").

The JSON mirrors ``reptrack replay --json`` so a test can compare the two field by field. Times
are session time: seconds from the first sample, on the sensor's clock (as a decoder shows them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GroundTruth:
    workout: str
    seed: int
    duration_s: float
    rate_hz: float
    leg: str
    mounting: dict[str, Any]
    imu_errors: dict[str, Any]
    sets: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    wobble_events: list[dict[str, Any]] = field(default_factory=list)
    balance_losses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_reps(self) -> int:
        return sum(int(s["reps"]) for s in self.sets)

    def reps(self) -> list[dict[str, Any]]:
        """Every rep of the session, in order, each with its set's exercise and working leg."""
        return [
            {**r, "set_index": s["index"], "exercise": s["exercise"], "leg": s["leg"]}
            for s in self.sets
            for r in s["reps_detail"]
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "workout": self.workout,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "rate_hz": self.rate_hz,
            "leg": self.leg,
            "mounting": self.mounting,
            "imu_errors": self.imu_errors,
            "total_reps": self.total_reps,
            "sets": self.sets,
            "activities": self.activities,
            "wobble_events": self.wobble_events,
            "balance_losses": self.balance_losses,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        return cls(
            workout=data["workout"],
            seed=int(data["seed"]),
            duration_s=float(data["duration_s"]),
            rate_hz=float(data["rate_hz"]),
            leg=data["leg"],
            mounting=data["mounting"],
            imu_errors=data["imu_errors"],
            sets=list(data.get("sets", [])),
            activities=list(data.get("activities", [])),
            wobble_events=list(data.get("wobble_events", [])),
            balance_losses=list(data.get("balance_losses", [])),
        )
