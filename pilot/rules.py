"""The domain rules' numbers, read once from the settings: the loaders' overspeed windows, the marts'
checks and symptoms and the simulator's ground truth all apply this one value
(``PILOT_OVERSPEED_SPEED_KMH`` and the like reach all three)."""

from __future__ import annotations

from dataclasses import dataclass

from pilot.settings import Settings

ADULT_AGE = 18  # the marts count adult car owners only


@dataclass(frozen=True)
class Thresholds:
    window_seconds: int  # overspeed: event-time tumbling windows of this length, aligned to midnight
    speed_threshold: float  # overspeed: a window's mean speed strictly above this (km/h)
    tire_threshold: float  # Tire Check fails below this day average
    battery_threshold: float  # Battery Check fails below this day average
    z_threshold: float  # pedal symptom: |z| of the day average strictly above this
    sharp_share_threshold: float  # sharp-turn symptom: share of sharp steering strictly above this
    adult_age: int = ADULT_AGE

    def __post_init__(self) -> None:
        if self.window_seconds < 1:
            raise ValueError(f"the overspeed window must be at least 1 second, got {self.window_seconds}")

    @classmethod
    def from_settings(cls, s: Settings) -> Thresholds:
        return cls(
            window_seconds=s.overspeed_window_seconds,
            speed_threshold=s.overspeed_speed_kmh,
            tire_threshold=s.tire_threshold,
            battery_threshold=s.battery_threshold,
            z_threshold=s.symptom_z_threshold,
            sharp_share_threshold=s.sharp_turn_share_threshold,
        )
