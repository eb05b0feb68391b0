"""Data-quality gates: the named checks of ``sql/hive/checks/<mart>.sql`` run after each build.

Every check query returns the offending rows; a gate passes when it returns none. A failing gate
raises :class:`GateFailed` naming the mart, the check and up to ten offending rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from marts import sqlfile
from marts.catalog import Mart
from pilot.errors import PilotError
from pilot.sql_values import SqlValue

SHOWN_ROWS = 10


class Querier(Protocol):
    def query(self, statement: str, max_rows: int | None = None) -> Any: ...


@dataclass(frozen=True)
class GateResult:
    mart: str
    check: str
    description: str
    offending: list[tuple[Any, ...]]
    columns: list[str]

    @property
    def passed(self) -> bool:
        return not self.offending


class GateFailed(PilotError):
    def __init__(self, result: GateResult, partition: str) -> None:
        self.result = result
        rows = result.offending[:SHOWN_ROWS]
        more = " (and more)" if len(result.offending) > SHOWN_ROWS else ""
        shown = "; ".join(
            ", ".join(f"{c}={v}" for c, v in zip(result.columns, r, strict=False)) for r in rows)
        super().__init__(
            f"data-quality gate {result.mart}.{result.check} failed for {partition}: "
            f"{result.description or result.check}; {len(rows)} offending row(s){more}: {shown}")


def run_gates(hive: Querier, mart: Mart, params: Mapping[str, SqlValue]) -> list[GateResult]:
    """Run every check of a mart; returns all results (callers decide what failing means)."""
    results: list[GateResult] = []
    for check in sqlfile.checks(mart.checks_file, params):
        result = hive.query(check.sql, SHOWN_ROWS + 1)
        results.append(GateResult(mart.name, check.name, check.description, list(result.rows),
                                  list(result.columns)))
    return results


def enforce(results: list[GateResult], partition: str) -> None:
    for result in results:
        if not result.passed:
            raise GateFailed(result, partition)
