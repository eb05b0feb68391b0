"""Item recommendation with Spark MLlib ALS on the month's purchase mart (DOMAIN "Analysis").

The classic pilot factorised the car x item matrix. On a fleet of about a hundred cars a month
holds a few dozen purchases per car, too few for car-level factors to be better than chance (see
README "Analysis"). Taste follows the profile, so ALS factorises the *segment* x item matrix
instead: a segment is an age band and a car model, its rating of an item the item's share of the
segment's purchases. Each adult car gets the 3 best-scored items of its segment that it did not
buy that month. The baseline recommends the month's most popular items the car did not buy.

Quality is the share of recommendations that name one of the car's favourite items (the
simulator's ground truth), precision@3, for both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.model_output import ModelOutput, age_band_column
from analysis.model_tables import BUYLIST_MART, RECOMMENDATIONS
from pilot.dates import Day

TOP_K = 3
ALS_RANK = 20
ALS_REG = 0.001
ALS_ITERATIONS = 10
SEED = 42


def purchases(spark: Any, database: str, day: Day) -> Any:
    """The month's purchases of adult cars with each car's segment (age band / car model)."""
    from pyspark.sql import functions as F

    frame = spark.table(f"{database}.{BUYLIST_MART}").where(F.col("biz_month") == day.month.text)
    return frame.select("car_number", "item", "score",
                        F.concat_ws("/", age_band_column(F.col("age")), F.col("car_model")).alias("segment"))


def segment_ratings(bought: Any) -> Any:
    """segment, item, rating: the item's share of the segment's purchases."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    counts = bought.groupBy("segment", "item").agg(F.count("*").alias("purchases"))
    total = F.sum("purchases").over(Window.partitionBy("segment"))
    return counts.withColumn("rating", F.col("purchases") / total)


def _top_unbought(scored: Any, bought_pairs: Any, score: str) -> Any:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    fresh = scored.join(bought_pairs, ["car_number", "item"], "left_anti")
    order = Window.partitionBy("car_number").orderBy(F.desc(score), F.asc("item"))
    return (fresh.withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= TOP_K)
            .withColumn("score", F.col(score).cast("double")))


def als_recommendations(bought: Any) -> Any:
    """car_number, rank, item, score, segment: ALS on the segment x item shares."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ratings = segment_ratings(bought)
    segments = ratings.select("segment").distinct().withColumn(
        "segment_id", F.dense_rank().over(Window.orderBy("segment")))
    items = bought.select("item").distinct().withColumn(
        "item_id", F.dense_rank().over(Window.orderBy("item")))
    train = ratings.join(segments, "segment").join(items, "item")
    model = ALS(userCol="segment_id", itemCol="item_id", ratingCol="rating", rank=ALS_RANK, regParam=ALS_REG,
                maxIter=ALS_ITERATIONS, seed=SEED, nonnegative=True, coldStartStrategy="drop").fit(train)
    cars = bought.select("car_number", "segment").distinct()
    candidates = cars.join(segments, "segment").crossJoin(items)
    scored = model.transform(candidates)
    pairs = bought.select("car_number", "item").distinct()
    return _top_unbought(scored, pairs, "prediction").select("car_number", "rank", "item", "score", "segment")


def popularity_recommendations(bought: Any) -> Any:
    """The baseline: the month's most bought items (by cars buying them) that the car has not bought."""
    from pyspark.sql import functions as F

    popularity = bought.groupBy("item").agg(F.countDistinct("car_number").alias("buyers"))
    cars = bought.select("car_number", "segment").distinct()
    pairs = bought.select("car_number", "item").distinct()
    return _top_unbought(cars.crossJoin(popularity), pairs, "buyers").select(
        "car_number", "rank", "item", "score", "segment")


def precision_at_k(recommended: Sequence[tuple[str, str]], favourites: Mapping[str, Sequence[str]]) -> float:
    """Share of (car, item) recommendations naming one of that car's favourites."""
    if not recommended:
        return 0.0
    hits = sum(1 for car, item in recommended if item in set(favourites.get(car) or ()))
    return hits / len(recommended)


def run(spark: Any, database: str, day: Day, favourites: Mapping[str, Sequence[str]] | None) -> ModelOutput:
    bought = purchases(spark, database, day).cache()
    buyers = bought.select("car_number").distinct().count()
    out = ModelOutput("recommend", summary={"month": day.month.text, "cars": buyers})
    if buyers == 0:
        from pilot.errors import PilotError

        raise PilotError(f"{database}.{BUYLIST_MART} has no purchases of month {day.month.text}; build "
                         f"the purchase mart first (`pilot marts build --date {day} --mart buylist`)")
    started = time.perf_counter()
    als = als_recommendations(bought).cache()
    out.metric("als", "recommendations", als.count())  # the count runs the training
    out.summary["fit_seconds"] = round(time.perf_counter() - started, 2)
    out.tables[RECOMMENDATIONS] = als
    out.metric("als", "cars", buyers)
    if favourites is not None:
        baseline = popularity_recommendations(bought)
        pick = [(r.car_number, r.item) for r in als.select("car_number", "item").collect()]
        base = [(r.car_number, r.item) for r in baseline.select("car_number", "item").collect()]
        out.metric("als", f"precision_at_{TOP_K}", precision_at_k(pick, favourites))
        out.metric("popularity", f"precision_at_{TOP_K}", precision_at_k(base, favourites))
        out.metric("popularity", "recommendations", len(base))
    out.summary["metrics"] = {f"{m}.{k}": v for m, k, v in out.metrics}
    return out
