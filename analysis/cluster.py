"""Car clustering with Spark MLlib k-means on the adult car master's profile (DOMAIN "Analysis").

The profile: capacity band (small below 1500 cc, medium below 2500, large), year band against the
run's year (new 0-4 years, normal 5-9, old 10+), model, sex, marriage and age band, one-hot
encoded. k is the one of ``K_RANGE`` with the best silhouette; each adult car's cluster and a
profile of every cluster (its most common values) are written, the silhouettes to the metrics.
"""

from __future__ import annotations

import time
from typing import Any

from analysis.model_output import ModelOutput, age_band_column
from analysis.model_tables import CAR_CLUSTERS, CLUSTER_PROFILES
from pilot.dates import Day
from pilot.errors import PilotError

PROFILE = ("capacity_band", "year_band", "car_model", "sex", "marriage", "age_band")
K_RANGE = range(2, 9)
SEED = 42


def profiles(spark: Any, database: str, day: Day) -> Any:
    from pyspark.sql import functions as F

    master = spark.table(f"{database}.smartcar_master_over18")
    age = F.lit(int(day.text[:4])) - F.col("car_year")
    return master.select(
        "car_number",
        F.when(F.col("car_capacity") < 1500, "small").when(F.col("car_capacity") < 2500, "medium")
        .otherwise("large").alias("capacity_band"),
        F.when(age < 5, "new").when(age < 10, "normal").otherwise("old").alias("year_band"),
        "car_model", "sex", "marriage",
        age_band_column(F.col("age")).alias("age_band"),
    )


def encoder() -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import OneHotEncoder, StringIndexer, VectorAssembler

    indexed = [f"{c}_index" for c in PROFILE]
    onehot = [f"{c}_onehot" for c in PROFILE]
    return Pipeline(stages=[
        StringIndexer(inputCols=list(PROFILE), outputCols=indexed, stringOrderType="alphabetAsc"),
        OneHotEncoder(inputCols=indexed, outputCols=onehot, dropLast=False),
        VectorAssembler(inputCols=onehot, outputCol="features"),
    ])


def best_k(encoded: Any, cars: int) -> tuple[int, dict[int, float], Any]:
    """(k, silhouette per k tried, the fitted model of the best k)."""
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import ClusteringEvaluator

    evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="cluster", metricName="silhouette")
    tried: dict[int, float] = {}
    models: dict[int, Any] = {}
    for k in K_RANGE:
        if k >= cars:
            break
        model = KMeans(k=k, seed=SEED, featuresCol="features", predictionCol="cluster").fit(encoded)
        tried[k] = float(evaluator.evaluate(model.transform(encoded)))
        models[k] = model
    if not tried:
        raise PilotError(f"k-means needs at least {K_RANGE.start + 1} adult cars, found {cars}")
    k = max(tried, key=lambda key: (tried[key], -key))
    return k, tried, models[k]


def cluster_profiles(assigned: Any) -> Any:
    """cluster, cars, the most common value of each profile feature, and a one-line description."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    sizes = assigned.groupBy("cluster").agg(F.count("*").alias("cars"))
    result = sizes
    parts = []
    for column in PROFILE:
        counts = assigned.groupBy("cluster", column).agg(F.count("*").alias("n"))
        order = Window.partitionBy("cluster").orderBy(F.desc("n"), F.asc(column))
        top = (counts.withColumn("r", F.row_number().over(order)).where("r = 1")
               .select("cluster", column, F.col("n").alias(f"{column}_n")))
        result = result.join(top, "cluster")
        parts.append(F.concat(F.lit(f"{column}="), F.col(column), F.lit(" ("),
                              F.round(F.col(f"{column}_n") * 100 / F.col("cars")).cast("int"), F.lit("%)")))
    return result.select("cluster", "cars", *PROFILE, F.concat_ws(", ", *parts).alias("description"))


def run(spark: Any, database: str, day: Day) -> ModelOutput:
    from pyspark.sql import functions as F

    cars = profiles(spark, database, day).cache()
    count = cars.count()
    encoded = encoder().fit(cars).transform(cars).cache()
    started = time.perf_counter()
    k, tried, model = best_k(encoded, count)
    fit_seconds = time.perf_counter() - started
    assigned = model.transform(encoded).select("car_number", F.col("cluster").cast("int"), *PROFILE).cache()
    out = ModelOutput("cluster")
    out.tables[CAR_CLUSTERS] = assigned.select("car_number", "cluster", *PROFILE)
    profile = cluster_profiles(assigned).cache()
    out.tables[CLUSTER_PROFILES] = profile
    out.metric("kmeans", "cars", count)
    out.metric("kmeans", "k", k)
    out.metric("kmeans", "silhouette", tried[k])
    for tried_k, value in tried.items():
        out.metric("kmeans", f"silhouette_k{tried_k}", value)
    out.summary = {"k": k, "silhouette": tried[k], "fit_seconds": round(fit_seconds, 2),
                   "profiles": [(r.cluster, r.cars, r.description)
                                for r in profile.orderBy("cluster").collect()]}
    return out
