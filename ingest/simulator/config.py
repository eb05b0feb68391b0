"""Knobs of the simulator; defaults give rows in every mart and some overspeed alerts on a 100-car day."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


def _knob(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class SimulatorConfig:
    day_seconds: int = _knob(86_400, "simulated seconds per day (shorten for quick tests)")
    status_interval: int = _knob(4, "seconds between two status lines of a car")
    drive_interval: int = _knob(2, "seconds between two driving events of a car")
    tire_failure_rate: float = _knob(0.03, "probability that a given tyre fails during a day")
    light_failure_rate: float = _knob(0.015, "probability that a given light fails during a day")
    engine_failure_rate: float = _knob(0.05, "probability that a car's engine fails during a day")
    brake_failure_rate: float = _knob(0.05, "probability that a car's brake fails during a day")
    battery_failure_rate: float = _knob(
        0.25, "probability that a battery fails during a day (only early failures pull the day "
        "average below 30)",
    )
    wild_share: float = _knob(0.10, "share of wild drivers (rounded to a whole number of cars)")
    calm_share: float = _knob(0.10, "share of calm drivers who never steer sharply")
    minor_share: float = _knob(0.05, "share of car owners under 18 in the car master")
    overspeed_share: float = _knob(0.20, "share of normal drivers prone to overspeed episodes")
    overspeed_episodes: float = _knob(2.0, "mean overspeed episodes per prone car and day (wild: x2)")
    overspeed_minutes: int = _knob(8, "longest overspeed episode in minutes (shortest: 2)")
    congested_share: float = _knob(0.20, "share of the 60 areas that are congested all day")

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("invalid simulator config: " + "; ".join(problems))

    def problems(self) -> list[str]:
        found: list[str] = []
        for name in ("status_interval", "drive_interval"):
            value = getattr(self, name)
            if not 1 <= value <= 3600 or self.day_seconds % value:
                found.append(f"{name}={value} must be 1..3600 and divide day_seconds")
        if not 60 <= self.day_seconds <= 86_400:
            found.append(f"day_seconds={self.day_seconds} must be 60..86400")
        for name in (
            "tire_failure_rate", "light_failure_rate", "engine_failure_rate", "brake_failure_rate",
            "battery_failure_rate", "wild_share", "calm_share", "minor_share", "overspeed_share",
            "congested_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                found.append(f"{name}={value} must be within 0..1")
        if self.wild_share + self.calm_share > 1.0:
            found.append("wild_share + calm_share must not exceed 1")
        if not 0.0 <= self.overspeed_episodes <= 50.0:
            found.append(f"overspeed_episodes={self.overspeed_episodes} must be within 0..50")
        if not 2 <= self.overspeed_minutes <= 120:
            found.append(f"overspeed_minutes={self.overspeed_minutes} must be 2..120")
        return found

    def with_overrides(self, **overrides: Any) -> SimulatorConfig:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def knob_help() -> dict[str, tuple[type, Any, str]]:
    """Name -> (type, default, help) of every knob, for command-line flags."""
    types = {"int": int, "float": float}
    return {
        f.name: (types[str(f.type)], f.default, f.metadata["help"]) for f in fields(SimulatorConfig)
    }
