"""Driving style (calm / normal / wild) from one day of a car's driving: a Spark MLlib multilayer
perceptron, as the classic pilot's 3-class network (DOMAIN "Analysis").

Features per adult car of the drive mart: the symptom mart's pedal averages and z-scores and its
sharp-turn share, the share of turn signals that disagree with the wheel, the overspeed windows
(the alert rule: mean speed over a window above the threshold) and speed statistics. Labels are the
simulator's ground truth. 30 % of the cars (at least one, by a seeded hash of the car number) are
held out; accuracy on them is measured next to always predicting the training cars' most common
style.

The trained network is published as JSON (:mod:`analysis.style_model`), which the prediction
service (``model-api``) evaluates without Spark.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from analysis.model_output import ModelOutput
from analysis.model_tables import STYLE_FEATURES
from analysis.style_model import CLASSES, FEATURES, StyleModel, model_from_spark
from marts.catalog import get_mart
from pilot.dates import Day
from pilot.errors import PilotError

DRIVE_MART = get_mart("drive").name
SYMPTOM_MART = get_mart("symptom").name
TRAIN_SHARE = 0.7
SEED = 42
HIDDEN = 8
ITERATIONS = 300


def car_features(spark: Any, database: str, day: Day, window_seconds: int, threshold: float) -> Any:
    """car_number and :data:`FEATURES` for every car of the day's drive and symptom marts."""
    from pyspark.sql import functions as F

    for mart in (DRIVE_MART, SYMPTOM_MART):
        if not spark.catalog.tableExists(f"{database}.{mart}") or spark.table(f"{database}.{mart}").where(
                F.col("biz_date") == day.text).isEmpty():
            raise PilotError(f"the style model reads {database}.{mart} of {day}, which is not built; run "
                             f"`pilot marts build --date {day}`")
    drive = spark.table(f"{database}.{DRIVE_MART}").where(F.col("biz_date") == day.text)
    turning = F.col("steer_angle") != "F"
    disagree = (turning & (F.substring("steer_angle", 1, 1) != F.col("direct_light"))) | (
        ~turning & (F.col("direct_light") != "N"))
    stats = drive.groupBy("car_number").agg(
        F.avg("speed").alias("speed_mean"), F.stddev_pop("speed").alias("speed_std"),
        F.max("speed").cast("double").alias("speed_max"),
        F.percentile_approx("speed", 0.9).cast("double").alias("speed_p90"),
        F.avg(disagree.cast("double")).alias("signal_disagree_share"))
    seconds = (F.substring("r_date", 9, 2).cast("int") * 3600 + F.substring("r_date", 11, 2).cast("int") * 60
               + F.substring("r_date", 13, 2).cast("int"))
    windows = (drive.groupBy("car_number", F.floor(seconds / window_seconds).alias("window"))
               .agg(F.avg("speed").alias("mean"))
               .groupBy("car_number").agg(F.sum((F.col("mean") > threshold).cast("double"))
                                          .alias("overspeed_windows")))
    symptom = (spark.table(f"{database}.{SYMPTOM_MART}").where(F.col("biz_date") == day.text)
               .select("car_number", *(F.col(c).cast("double").alias(c) for c in (
                   "avg_speed_pedal", "speed_pedal_z", "avg_break_pedal", "break_pedal_z",
                   "sharp_turn_share"))))
    return symptom.join(stats, "car_number").join(windows, "car_number").select("car_number", *FEATURES)


def held_out(cars: list[str]) -> list[str]:
    """The test cars: 30 % of the cars, at least one, in the order of a seeded hash of their numbers
    (so reruns hold out the same cars)."""
    import zlib

    count = max(1, round((1 - TRAIN_SHARE) * len(cars)))
    return sorted(cars, key=lambda car: (zlib.crc32(f"{SEED}:{car}".encode()), car))[:count]


def labelled(features: Any, styles: Mapping[str, str]) -> Any:
    from pyspark.sql import functions as F

    spark = features.sparkSession
    pairs = [(car, float(CLASSES.index(s))) for car, s in styles.items() if s in CLASSES]
    known = spark.createDataFrame(pairs, "car_number string, label double")
    return features.join(known, "car_number").withColumn("style", F.element_at(
        F.array(*map(F.lit, CLASSES)), F.col("label").cast("int") + 1))


def run(spark: Any, database: str, day: Day, styles: Mapping[str, str] | None,
        window_seconds: int, threshold: float) -> tuple[ModelOutput, StyleModel]:
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import MultilayerPerceptronClassifier
    from pyspark.ml.feature import StandardScaler, VectorAssembler
    from pyspark.sql import functions as F

    if not styles:
        raise PilotError("the style model learns from the simulator's ground truth (each car's driver "
                         "style): give it with --truth (the DAG finds the run's own)")
    data = labelled(car_features(spark, database, day, window_seconds, threshold), styles).cache()
    cars = [r.car_number for r in data.select("car_number").collect()]
    if len(cars) < 2:
        raise PilotError(f"the style model needs at least 2 adult cars with driving on {day}, "
                         f"found {len(cars)}")
    test_cars = held_out(cars)
    data = data.withColumn("split", F.when(F.col("car_number").isin(test_cars), "test")
                           .otherwise("train")).cache()
    train = data.where("split = 'train'")
    pipeline = Pipeline(stages=[
        VectorAssembler(inputCols=list(FEATURES), outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features", withMean=True, withStd=True),
        MultilayerPerceptronClassifier(layers=[len(FEATURES), HIDDEN, len(CLASSES)], seed=SEED,
                                       maxIter=ITERATIONS, labelCol="label", featuresCol="features"),
    ])
    started = time.perf_counter()
    fitted = pipeline.fit(train)
    fit_seconds = time.perf_counter() - started
    model = model_from_spark(fitted.stages[1], fitted.stages[2], day)
    scored = fitted.transform(data)
    rows = scored.select("car_number", *FEATURES, "style", "split", "prediction", "probability").collect()
    table_rows = []
    for r in rows:
        probabilities = [float(p) for p in r.probability.toArray()]
        own = model.predict({f: float(r[f]) for f in FEATURES})
        if any(abs(a - b) > 1e-6 for a, b in zip(own.probabilities, probabilities, strict=True)):
            raise PilotError(f"the published network disagrees with Spark's for {r.car_number}: "
                             f"{own.probabilities} vs {probabilities}")
        table_rows.append((r.car_number, *(float(r[f]) for f in FEATURES), r.style, r.split,
                           CLASSES[int(r.prediction)], *probabilities, model.version))
    out = ModelOutput("style")
    out.tables[STYLE_FEATURES] = spark.createDataFrame(table_rows, STYLE_FEATURES_SCHEMA)
    test = [r for r in table_rows if r[len(FEATURES) + 2] == "test"]
    train_styles = [r[len(FEATURES) + 1] for r in table_rows if r[len(FEATURES) + 2] == "train"]
    majority = max(CLASSES, key=lambda c: (train_styles.count(c), -CLASSES.index(c)))
    accuracy = sum(r[len(FEATURES) + 1] == r[len(FEATURES) + 3] for r in test) / len(test)
    baseline = sum(r[len(FEATURES) + 1] == majority for r in test) / len(test)
    out.metric("mlp", "train_cars", len(train_styles))
    out.metric("mlp", "test_cars", len(test))
    out.metric("mlp", "accuracy", accuracy)
    out.metric("majority_class", "accuracy", baseline)
    out.summary = {"model_version": model.version, "accuracy": accuracy, "majority_accuracy": baseline,
                   "majority_class": majority, "fit_seconds": round(fit_seconds, 2)}
    return out, model


STYLE_FEATURES_SCHEMA = ("car_number string, " + ", ".join(f"{f} double" for f in FEATURES)
                         + ", style string, split string, predicted string, "
                         + ", ".join(f"p_{c} double" for c in CLASSES) + ", model_version string")
