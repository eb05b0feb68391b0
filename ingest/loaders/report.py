"""What a loader run did: counts that must add up, latency percentiles, the run reports, progress lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ingest.loaders.windows import WindowStats
from ingest.progress import Tick


@dataclass
class TopicCounts:
    """consumed = written + rejected (``duplicates`` and ``late`` are informational subsets)."""

    consumed: int = 0
    written: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def reconciles(self) -> bool:
        return self.consumed == self.written + self.rejected

    def as_dict(self) -> dict[str, object]:
        return {"consumed": self.consumed, "written": self.written, "rejected": self.rejected,
                "reasons": dict(self.reasons)}

    def reasons_text(self) -> str:
        """`` (reason n, ...)`` of the rejects, or nothing when there were none."""
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items()))
        return f" ({reasons})" if reasons else ""


class Latencies:
    """Reservoir of latency samples (seconds) with percentiles; keeps at most ``cap`` samples."""

    def __init__(self, cap: int = 200_000) -> None:
        self.cap = cap
        self.samples: list[float] = []
        self.seen = 0

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.samples) < self.cap:
            self.samples.append(value)
        else:  # deterministic thinning: keep every k-th once full
            slot = self.seen % self.cap
            if self.seen % 7 == 0:
                self.samples[slot] = value

    def percentile(self, q: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
        return ordered[index]

    def summary(self) -> dict[str, float | int | None]:
        return {"n": self.seen, "p50": self.percentile(50), "p99": self.percentile(99),
                "max": max(self.samples) if self.samples else None}


@dataclass
class BatchReport:
    topics: dict[str, TopicCounts] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    skipped_in_hdfs: int = 0  # records already covered by a final file (never written twice)

    def reconciles(self) -> bool:
        return all(c.reconciles() for c in self.topics.values())

    def describe(self) -> str:
        lines = []
        for topic, c in self.topics.items():
            lines.append(f"  {topic:<16} consumed {c.consumed:>10,} = written {c.written:>10,} + rejected "
                         f"{c.rejected:>8,}{c.reasons_text()}")
        rate = sum(c.consumed for c in self.topics.values()) / max(self.seconds, 1e-9)
        lines.append(f"  {self.files} file(s), {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s "
                     f"({rate:,.0f} records/s)" + (f"; {self.skipped_in_hdfs:,} already in HDFS"
                                                   if self.skipped_in_hdfs else ""))
        return "\n".join(lines)


@dataclass
class RealtimeReport:
    counts: TopicCounts = field(default_factory=TopicCounts)
    windows: WindowStats = field(default_factory=WindowStats)
    alerts: int = 0
    dead_letters_sent: int = 0
    dead_letters_replayed: int = 0  # rejected again after a restart; their DLQ record exists already
    seconds: float = 0.0
    put_latency: Latencies = field(default_factory=Latencies)
    alert_latency: Latencies = field(default_factory=Latencies)

    def describe(self) -> str:
        c, w = self.counts, self.windows
        rate = c.consumed / max(self.seconds, 1e-9)
        lines = [
            f"  consumed {c.consumed:,} = written to HBase {c.written:,} + rejected {c.rejected:,}"
            f"{c.reasons_text()}",
            f"  windows: {w.windowed:,} events windowed, {w.duplicates:,} duplicate timestamps, "
            f"{w.late:,} late (window already closed); {w.closed:,} windows closed, {w.alerts:,} alerts",
            f"  {rate:,.0f} events/s over {self.seconds:.1f} s",
        ]
        for name, lat in (("produce->HBase", self.put_latency), ("window close->Redis", self.alert_latency)):
            summary = lat.summary()
            if summary["n"]:
                lines.append(f"  latency {name}: p50 {summary['p50'] * 1000:.0f} ms, "
                             f"p99 {summary['p99'] * 1000:.0f} ms (n={summary['n']:,})")
        return "\n".join(lines)


def progress_line(loader: str, tick: Tick, lag: int | None, details: str) -> str:
    """A loader's periodic line: events/s since the previous line, total, consumer lag, details."""
    behind = "?" if lag is None else f"{lag:,}"
    return f"{loader}: {tick.recent:,.0f} events/s, {tick.count:,} total; lag {behind}, {details}"
