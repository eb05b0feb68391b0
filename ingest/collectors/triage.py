"""Sorting a batch of raw lines: valid records to their topic, rejected ones to the dead-letter topic."""

from __future__ import annotations

from ingest.collectors.delivery import Records
from ingest.collectors.report import CollectReport
from ingest.collectors.validate import Builder, Record, dead_letter
from ingest.records import Rejected


def triage(lines: list[bytes], first_line: int, build: Builder, source: str, report: CollectReport,
           topic: str, dlq_topic: str) -> Records:
    """``build`` each line (``first_line`` is the number of the line before the first one) and
    count it in ``report``; valid records go to ``topic``, dead letters to ``dlq_topic``."""
    good: list[Record] = []
    bad: list[Record] = []
    for number, raw in enumerate(lines, first_line + 1):
        report.bytes_read += len(raw) + 1
        try:
            good.append(build(raw))
        except Rejected as exc:
            bad.append(dead_letter(source, exc, raw, number))
            report.reasons[exc.reason] += 1
    report.read += len(lines)
    report.produced += len(good)
    report.rejected += len(bad)
    records: Records = {}
    if good:
        records[topic] = good
    if bad:
        records[dlq_topic] = bad
    return records
