"""What a Spark analysis job hands back: its tables (as Spark frames), metric rows and a summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marts.catalog import Mart


@dataclass
class ModelOutput:
    model: str  # the job's name (recommend, classify, cluster)
    tables: dict[Mart, Any] = field(default_factory=dict)  # table -> Spark DataFrame of its rows
    metrics: list[tuple[str, str, float]] = field(default_factory=list)  # (model, metric, value)
    summary: dict[str, Any] = field(default_factory=dict)  # JSON-able headline figures

    def metric(self, model: str, name: str, value: float) -> None:
        self.metrics.append((model, name, float(value)))


def age_band_column(age: Any) -> Any:
    """DOMAIN "Analysis" age bands: 18-29, 30-39, 40-49, 50-59, 60+ (a Spark column expression)."""
    from pyspark.sql import functions as F

    return (F.when(age < 30, "18-29").when(age < 40, "30-39").when(age < 50, "40-49")
            .when(age < 60, "50-59").otherwise("60+"))
