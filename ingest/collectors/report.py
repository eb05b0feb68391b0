"""What a collector run did: lines read, produced, rejected (by reason), time and throughput."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pilot.errors import PilotError


class ReconcileError(PilotError):
    """The counts of a run do not add up (read != produced + rejected): a bug, never expected."""


@dataclass
class CollectReport:
    collector: str
    read: int = 0
    produced: int = 0
    rejected: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    files: list[dict[str, Any]] = field(default_factory=list)
    resent: int = 0  # records sent again because Kafka had not confirmed them (possible duplicates)

    def reject(self, reason: str) -> None:
        self.read += 1
        self.rejected += 1
        self.reasons[reason] += 1

    def add(self, other: CollectReport) -> None:
        self.read += other.read
        self.produced += other.produced
        self.rejected += other.rejected
        self.bytes_read += other.bytes_read
        self.resent += other.resent
        self.reasons.update(other.reasons)
        self.files.extend(other.files)

    def check(self) -> CollectReport:
        """Raise :class:`ReconcileError` unless read = produced + rejected (and reasons add up)."""
        if self.read != self.produced + self.rejected or sum(self.reasons.values()) != self.rejected:
            raise ReconcileError(
                f"{self.collector}: counts do not add up: read {self.read:,} != produced "
                f"{self.produced:,} + rejected {self.rejected:,} (reasons {dict(self.reasons)})")
        return self

    @property
    def lines_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "collector": self.collector, "read": self.read, "produced": self.produced,
            "rejected": self.rejected, "reasons": dict(sorted(self.reasons.items())),
            "resent": self.resent, "bytes": self.bytes_read, "seconds": round(self.seconds, 3),
            "lines_per_s": round(self.lines_per_second, 1), "mb_per_s": round(self.mb_per_second, 3),
            "files": self.files,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=1, ensure_ascii=False)

    def describe(self) -> str:
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(self.reasons.items())) or "none"
        lines = [
            f"{self.collector}: read {self.read:,} = produced {self.produced:,} + rejected "
            f"{self.rejected:,} (reasons: {reasons})",
            f"  {self.seconds:.2f} s, {self.lines_per_second:,.0f} lines/s, {self.mb_per_second:.2f} MB/s"
            + (f"; {self.resent:,} records resent after Kafka failures" if self.resent else ""),
        ]
        lines += [_describe_source(f) for f in self.files]
        return "\n".join(lines)


def _describe_source(entry: dict[str, Any]) -> str:
    """One line per source: a spool file, or a live producer's share of a day."""
    if "file" not in entry:
        if entry.get("already_collected"):
            return f"  {entry['source']}: produced already up to event {entry['resumed_at']:,}"
        return f"  {entry['source']}: started at event {entry['resumed_at']:,} of the day"
    if entry.get("already_collected"):
        totals = entry.get("file_totals", {})
        return (f"  {entry['file']}: collected already (produced {totals.get('produced', 0):,}, "
                f"rejected {totals.get('rejected', 0):,}) -> {entry.get('done', '')}")
    return (f"  {entry['file']}: read {entry['read']:,}, produced {entry['produced']:,}, rejected "
            f"{entry['rejected']:,} -> {entry.get('done', '')}").rstrip(" ->")
