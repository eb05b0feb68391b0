"""The marts' session interface (execute, query, scalar) over a Spark session with Hive support.

A Spark analysis job publishes its tables with the marts' write-audit-publish runner, through the
Hive metastore it shares with the Hive SQL endpoint, exactly as a mart build does through PyHive.
"""

from __future__ import annotations

from typing import Any

from marts.hive import HiveQueryError, Result, short_error


def _failed(verb: str, statement: str, exc: Exception) -> HiveQueryError:
    first = statement.strip().splitlines()[0][:120]
    return HiveQueryError(f"Spark {verb} `{first}...`: {short_error(str(exc))}")


class SparkSqlSession:
    def __init__(self, spark: Any) -> None:
        self._spark = spark

    def _frame(self, statement: str) -> Any:
        try:
            return self._spark.sql(statement)
        except Exception as exc:  # AnalysisException, ParseException, Py4JJavaError
            raise _failed("rejected", statement, exc) from exc

    def execute(self, statement: str) -> None:
        self.query(statement)

    def query(self, statement: str, max_rows: int | None = None) -> Result:
        frame = self._frame(statement)
        try:
            rows = (frame.limit(max_rows) if max_rows else frame).collect()
        except Exception as exc:
            raise _failed("failed running", statement, exc) from exc
        return Result(list(frame.columns), [tuple(row) for row in rows])

    def scalar(self, statement: str) -> Any:
        rows = self.query(statement, 1).rows
        return rows[0][0] if rows else None

    def close(self) -> None:
        """The job owns the Spark session and stops it."""
