"""Status-health classification with a Spark MLlib random forest (DOMAIN "Analysis").

Input: the label table ``analysis_status_health`` of the day (every status record, its 14
features and the rule's label). A random forest learns the label from the features on a 70 % split
(fixed seed) and is scored on the other 30 %: accuracy, and precision, recall and F1 of the class
``abnormal``, with the confusion matrix, go to the metrics table; what the forest weighs most goes
to ``analysis_health_feature_importance``.
"""

from __future__ import annotations

import time
from typing import Any

from analysis.model_output import ModelOutput
from analysis.model_tables import HEALTH_IMPORTANCE, STATUS_HEALTH
from pilot.dates import Day
from pilot.errors import PilotError

NUMERIC = ("car_capacity", "car_year", "tire_fl", "tire_fr", "tire_bl", "tire_br", "battery")
CATEGORICAL = ("car_model", "light_fl", "light_fr", "light_bl", "light_br", "engine", "break")
FEATURES = NUMERIC + CATEGORICAL  # the 14 of DOMAIN "Analysis"
POSITIVE = "abnormal"
TRAIN_SHARE = 0.7
SEED = 42
TREES = 20
DEPTH = 8


def labelled(spark: Any, database: str, day: Day) -> Any:
    from pyspark.sql import functions as F

    return (spark.table(f"{database}.{STATUS_HEALTH}").where(F.col("biz_date") == day.text)
            .select(*FEATURES, (F.col("label") == POSITIVE).cast("double").alias("target")))


def forest_pipeline() -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import RandomForestClassifier
    from pyspark.ml.feature import StringIndexer, VectorAssembler

    indexed = [f"{c}_index" for c in CATEGORICAL]
    indexer = StringIndexer(inputCols=list(CATEGORICAL), outputCols=indexed, handleInvalid="keep",
                            stringOrderType="alphabetAsc")
    assembler = VectorAssembler(inputCols=[*NUMERIC, *indexed], outputCol="features")
    forest = RandomForestClassifier(labelCol="target", featuresCol="features", numTrees=TREES, maxDepth=DEPTH,
                                    seed=SEED, maxBins=32)
    return Pipeline(stages=[indexer, assembler, forest])


def confusion(predictions: Any) -> dict[str, int]:
    """true/false positives/negatives of the class ``abnormal``."""
    from pyspark.sql import functions as F

    row = predictions.agg(
        F.sum(((F.col("target") == 1) & (F.col("prediction") == 1)).cast("long")).alias("tp"),
        F.sum(((F.col("target") == 0) & (F.col("prediction") == 1)).cast("long")).alias("fp"),
        F.sum(((F.col("target") == 1) & (F.col("prediction") == 0)).cast("long")).alias("fn"),
        F.sum(((F.col("target") == 0) & (F.col("prediction") == 0)).cast("long")).alias("tn"),
    ).first()
    return {k: int(row[k] or 0) for k in ("tp", "fp", "fn", "tn")}


def scores(c: dict[str, int]) -> dict[str, float]:
    total = sum(c.values())
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": (c["tp"] + c["tn"]) / total if total else 0.0,
            "precision": precision, "recall": recall, "f1": f1}


def run(spark: Any, database: str, day: Day) -> ModelOutput:
    data = labelled(spark, database, day)
    train, test = data.randomSplit([TRAIN_SHARE, 1 - TRAIN_SHARE], seed=SEED)
    train = train.cache()
    rows = train.count()
    if rows == 0:
        raise PilotError(f"{database}.{STATUS_HEALTH} has no rows for {day}; build the analysis tables "
                         f"first (`pilot analysis explore --date {day}`)")
    started = time.perf_counter()
    model = forest_pipeline().fit(train)
    fit_seconds = time.perf_counter() - started
    counts = confusion(model.transform(test))
    out = ModelOutput("classify")
    out.metric("random_forest", "train_rows", rows)
    out.metric("random_forest", "test_rows", sum(counts.values()))
    for name, value in scores(counts).items():
        out.metric("random_forest", name, value)
    for name, value in counts.items():
        out.metric("random_forest", f"confusion_{name}", value)
    importances = model.stages[-1].featureImportances.toArray()
    frame = spark.createDataFrame([(name, float(v)) for name, v in zip(FEATURES, importances, strict=True)],
                                  "feature string, importance double")
    out.tables[HEALTH_IMPORTANCE] = frame
    out.summary = {"metrics": {f"{m}.{k}": v for m, k, v in out.metrics},
                   "fit_seconds": round(fit_seconds, 2),
                   "top_features": sorted(zip(FEATURES, map(float, importances), strict=True),
                                          key=lambda p: -p[1])[:3]}
    return out
