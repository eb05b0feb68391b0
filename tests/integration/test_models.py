"""The Spark MLlib jobs on the real stack: each a spark-submit application that reads the marts
through the Hive metastore it shares (in PostgreSQL) with the Hive SQL endpoint, and whose tables
the endpoint then serves. Results are checked against pandas on the same day's files and the
simulator's ground truth (planted taste), not against the jobs' own figures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg2
import pytest
from hdfs import InsecureClient

from analysis.exploration import build_explorations
from analysis.model_tables import MODEL_METRICS, RECOMMENDATIONS, STYLE_FEATURES
from analysis.style_model import CLASSES, FEATURES
from analysis.training import JobFailed, run_job, run_jobs
from export import ExportRequest, run_export
from marts import runner
from marts.hive import HiveSession
from pilot.settings import Settings
from tests.oracles import exploration as explore_oracle
from tests.oracles import marts as marts_oracle
from tests.support.devdata import PreparedDay, drop_prepared, prepare_day

DATE = "20200409"  # unique to this module
MONTH = DATE[:6]
CARS = 100  # taste is planted per age band and model: a hundred cars give the segments a few each


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory, client: InsecureClient, hive: HiveSession
        ) -> Iterator[PreparedDay]:
    tag = uuid.uuid4().hex[:8]
    prepared = prepare_day(tmp_path_factory.mktemp("models"), DATE, f"/tmp/pilot-it/models-{tag}",
                           f"pilot_it_models_{tag}", client, cars=CARS, seed=42, day_seconds=600)
    runner.build_marts(DATE, ["status", "drive", "symptom", "buylist"], config=prepared.config,
                       log=lambda _: None, hive=hive, hdfs_client=client)
    yield prepared
    drop_prepared(hive, client, prepared)


@pytest.fixture(scope="module")
def trained(day: PreparedDay, hive: HiveSession, client: InsecureClient, stack: Settings) -> dict[str, Any]:
    build_explorations(DATE, ["health"], config=day.config, settings=stack, log=lambda _: None, hive=hive,
                       hdfs_client=client)
    truth = day.sim_dir / f"ground_truth_{DATE}.json"
    return run_jobs(["recommend", "classify", "cluster", "style"], DATE, stack, day.config, truth=truth,
                    log=lambda _: None)


def table(hive: HiveSession, day: PreparedDay, name: str) -> pd.DataFrame:
    """A model table's partition as the Hive SQL endpoint (the other Spark process) serves it."""
    result = hive.query(f"SELECT * FROM {day.config.database}.{name} WHERE biz_date = '{DATE}'")
    return pd.DataFrame(result.rows, columns=result.columns)


def metrics(hive: HiveSession, day: PreparedDay) -> dict[tuple[str, str], float]:
    frame = table(hive, day, MODEL_METRICS.name)
    return {(r.model, r.metric): float(r.value) for r in frame.itertuples()}


def popularity_oracle(buys: pd.DataFrame) -> dict[str, list[str]]:
    """car -> the month's 3 items bought by most cars (ties: item order) that it did not buy."""
    buyers = buys.groupby("item")["car_number"].nunique()
    ranked = sorted(buyers.index, key=lambda item: (-buyers[item], item))
    bought = buys.groupby("car_number")["item"].agg(set)
    return {car: [i for i in ranked if i not in items][:3] for car, items in bought.items()}


def hits(recommended: dict[str, list[str]], favourites: dict[str, list[str]]) -> float:
    pairs = [(car, item) for car, items in recommended.items() for item in items]
    return sum(item in favourites[car] for car, item in pairs) / len(pairs)


def test_als_beats_the_popularity_baseline_on_the_planted_taste(trained: dict, hive: HiveSession,
                                                                 day: PreparedDay) -> None:
    buys = marts_oracle.buylist_mart(day.layout_dir, MONTH)
    favourites = {car: f["favourite_items"] for car, f in day.truth["cars"].items()}
    recs = table(hive, day, RECOMMENDATIONS.name).sort_values(["car_number", "rank"])
    als = recs.groupby("car_number")["item"].agg(list).to_dict()
    baseline = popularity_oracle(buys)
    assert set(als) == set(baseline) == set(buys["car_number"]), "every adult buyer gets recommendations"
    als_precision, base_precision = hits(als, favourites), hits(baseline, favourites)
    assert als_precision > base_precision, (als_precision, base_precision)
    found = metrics(hive, day)
    assert found[("als", "precision_at_3")] == pytest.approx(als_precision)
    assert found[("popularity", "precision_at_3")] == pytest.approx(base_precision)


def test_recommendations_name_only_items_not_bought_that_month(trained: dict, hive: HiveSession,
                                                              day: PreparedDay) -> None:
    buys = marts_oracle.buylist_mart(day.layout_dir, MONTH)
    bought = set(zip(buys["car_number"], buys["item"], strict=True))
    recs = table(hive, day, RECOMMENDATIONS.name)
    assert not {(r.car_number, r.item) for r in recs.itertuples()} & bought
    per_car = recs.groupby("car_number")["rank"].agg(sorted)
    unbought = {car: 30 - len(items) for car, items in buys.groupby("car_number")["item"].agg(set).items()}
    for car, ranks in per_car.items():
        assert ranks == list(range(1, min(3, unbought[car]) + 1)), car


def test_the_forest_learns_the_health_label_better_than_the_majority_class(trained: dict, hive: HiveSession,
                                                                            day: PreparedDay) -> None:
    status = marts_oracle.status_mart(day.layout_dir, DATE)
    labels = [label for _, label in explore_oracle.status_health(status).values()]
    majority = max(labels.count("normal"), labels.count("abnormal")) / len(labels)
    assert labels.count("abnormal") > 0, "no abnormal record: the classifier would be untested"
    found = metrics(hive, day)
    rf = {metric: value for (model, metric), value in found.items() if model == "random_forest"}
    assert rf["accuracy"] > majority, (rf["accuracy"], majority)
    tp, fp, fn, tn = (rf[f"confusion_{k}"] for k in ("tp", "fp", "fn", "tn"))
    assert tp + fp + fn + tn == rf["test_rows"] and rf["train_rows"] + rf["test_rows"] == len(labels)
    assert tp + fn == pytest.approx(rf["test_rows"] * labels.count("abnormal") / len(labels), rel=0.15)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert rf["precision"] == pytest.approx(precision) and rf["recall"] == pytest.approx(recall)
    assert rf["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
    importance = table(hive, day, "analysis_health_feature_importance")
    assert len(importance) == 14 and importance["importance"].sum() == pytest.approx(1.0)


def _bands(adults: pd.DataFrame) -> pd.DataFrame:
    years = int(DATE[:4]) - adults["car_year"]
    return pd.DataFrame({
        "car_number": adults["car_number"],
        "capacity_band": adults["car_capacity"].map(
            lambda cc: "small" if cc < 1500 else "medium" if cc < 2500 else "large"),
        "year_band": years.map(lambda y: "new" if y < 5 else "normal" if y < 10 else "old"),
        "car_model": adults["car_model"], "sex": adults["sex"], "marriage": adults["marriage"],
        "age_band": adults["age"].map(explore_oracle.age_band),
    })


def test_every_adult_car_has_one_cluster_and_profiles_are_its_modes(trained: dict, hive: HiveSession,
                                                                    day: PreparedDay) -> None:
    expected = _bands(marts_oracle.adults(day.layout_dir)).set_index("car_number").sort_index()
    clusters = table(hive, day, "analysis_car_clusters").set_index("car_number").sort_index()
    assert list(clusters.index) == list(expected.index)
    profile_columns = list(expected.columns)
    pd.testing.assert_frame_equal(clusters[profile_columns], expected, check_dtype=False)
    profiles = table(hive, day, "analysis_cluster_profiles").set_index("cluster")
    sizes = clusters.groupby("cluster").size()
    assert profiles["cars"].astype(int).to_dict() == sizes.to_dict()
    for cluster, members in clusters.groupby("cluster"):
        for column in profile_columns:
            counts = members[column].value_counts()
            top = sorted(counts[counts == counts.max()].index)[0]
            assert profiles.loc[cluster, column] == top, (cluster, column)
    found = metrics(hive, day)
    tried = {int(metric.removeprefix("silhouette_k")): value for (model, metric), value in found.items()
             if model == "kmeans" and metric.startswith("silhouette_k")}
    assert found[("kmeans", "k")] == len(sizes) == max(tried, key=lambda k: (tried[k], -k))
    assert found[("kmeans", "silhouette")] == max(tried.values())


def test_a_job_on_a_date_without_marts_names_what_to_build(day: PreparedDay, stack: Settings) -> None:
    with pytest.raises(JobFailed, match="pilot marts build"):
        run_job("recommend", "20200109", stack, day.config, log=lambda _: None)


def test_metrics_and_recommendations_export_to_postgres(trained: dict, hive: HiveSession, day: PreparedDay,
                                                        stack: Settings) -> None:
    schema = f"it_models_{uuid.uuid4().hex[:8]}"
    try:
        for model_table in (MODEL_METRICS, RECOMMENDATIONS):
            result = run_export(ExportRequest(mart=model_table, biz_date=DATE, database=day.config.database,
                                              target=f"{schema}.{model_table.name}"),
                                stack, log=lambda _: None)
            assert result.rows == len(table(hive, day, model_table.name)) > 0
        with psycopg2.connect(stack.postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT model, metric, value FROM {schema}.analysis_model_metrics")
            exported = {(m, k): float(v) for m, k, v in cur.fetchall()}
        assert exported == pytest.approx(metrics(hive, day))
    finally:
        with psycopg2.connect(stack.postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_the_style_network_beats_the_majority_class_on_held_out_cars(trained: dict, hive: HiveSession,
                                                                     day: PreparedDay) -> None:
    styles = {car: f["driver"]["style"] for car, f in day.truth["cars"].items()}
    rows = table(hive, day, STYLE_FEATURES.name)
    adults = set(marts_oracle.drive_mart(day.layout_dir, DATE)["car_number"])
    assert set(rows["car_number"]) == adults
    assert (rows["style"] == rows["car_number"].map(styles)).all(), "labels are the ground truth's"
    test, train = rows[rows["split"] == "test"], rows[rows["split"] == "train"]
    assert len(test) >= 0.2 * len(rows) and not set(test["car_number"]) & set(train["car_number"])
    majority = train["style"].value_counts().idxmax()
    accuracy = (test["predicted"] == test["style"]).mean()
    baseline = (test["style"] == majority).mean()
    assert accuracy > baseline, (accuracy, baseline)
    found = metrics(hive, day)
    assert found[("mlp", "accuracy")] == pytest.approx(accuracy)
    assert found[("majority_class", "accuracy")] == pytest.approx(baseline)
    # the features are the day's: e.g. the sharp-turn share equals the symptom oracle's
    symptom = marts_oracle.symptom_mart(marts_oracle.drive_mart(day.layout_dir, DATE)).set_index("car_number")
    shares = rows.set_index("car_number")["sharp_turn_share"]
    assert shares.to_dict() == pytest.approx(symptom["sharp_turn_share"].astype(float).to_dict(), abs=1e-6)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def model_api(trained: dict, hive: HiveSession, day: PreparedDay, stack: Settings) -> Iterator[str]:
    """The service, as `pilot stack` runs it, serving the models of this module's database; the
    day's features exported to the table it reads."""
    result = run_export(ExportRequest(mart=STYLE_FEATURES, biz_date=DATE, database=day.config.database),
                        stack, log=lambda _: None)
    assert result.rows > 0
    port = free_port()
    env = {**os.environ, "PILOT_HIVE_DATABASE": day.config.database, "PILOT_MODEL_API_PORT": str(port),
           "PILOT_MODEL_API_RELOAD_SECONDS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "analysis.serving:create_app",
                             "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if call(url, "GET", "/health")[1]["status"] == "ok":
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("model-api did not serve a model within 60 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        with psycopg2.connect(stack.postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS public.analysis_style_features_{DATE}")


def call(url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    import json
    import urllib.error

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_service_answers_what_the_trained_model_predicted(model_api: str, trained: dict,
                                                               hive: HiveSession, day: PreparedDay) -> None:
    rows = table(hive, day, STYLE_FEATURES.name)
    version = trained["style"]["model_version"]
    assert call(model_api, "GET", "/health")[1]["model_version"] == version
    for row in rows.itertuples():
        status, by_car = call(model_api, "POST", "/smartcar/predict",
                              {"car_number": row.car_number, "date": DATE})
        assert status == 200, by_car
        assert by_car["class"] == row.predicted and by_car["model_version"] == version
        assert [by_car["probabilities"][c] for c in CLASSES] == pytest.approx(
            [row.p_calm, row.p_normal, row.p_wild], abs=1e-9)
        features = {f: float(getattr(row, f)) for f in FEATURES}
        status, by_features = call(model_api, "POST", "/smartcar/predict", {"features": features})
        assert status == 200 and by_features["class"] == row.predicted


def test_the_service_refuses_bad_requests_with_a_reason(model_api: str) -> None:
    for body, status in (({"car_number": "A0001"}, 422), ({"features": {"speed_max": "fast"}}, 422),
                         ({"car_number": "Z9999", "date": DATE}, 404), ({"nonsense": 1}, 422)):
        got, answer = call(model_api, "POST", "/smartcar/predict", body)
        assert got == status and answer["detail"], (body, got, answer)


def test_a_rerun_replaces_its_rows_keeps_the_other_models_and_the_service_reloads(
        model_api: str, day: PreparedDay, hive: HiveSession, stack: Settings) -> None:
    before_rows = table(hive, day, STYLE_FEATURES.name).drop(columns="model_version")
    before = metrics(hive, day)
    assert {model for model, _ in before} == {"als", "popularity", "random_forest", "kmeans", "mlp",
                                              "majority_class"}
    served = call(model_api, "GET", "/health")[1]["model_version"]
    again = run_job("style", DATE, stack, day.config, truth=day.sim_dir / f"ground_truth_{DATE}.json",
                    log=lambda _: None)
    assert again["model_version"] > served
    after_rows = table(hive, day, STYLE_FEATURES.name)
    assert set(after_rows["model_version"]) == {again["model_version"]}
    columns = list(before_rows.columns)
    pd.testing.assert_frame_equal(  # the same network again (seeded), published anew, no duplicate
        before_rows.sort_values("car_number").reset_index(drop=True),
        after_rows[columns].sort_values("car_number").reset_index(drop=True))
    assert metrics(hive, day) == pytest.approx(before)
    deadline = time.monotonic() + 30
    while call(model_api, "GET", "/health")[1]["model_version"] != again["model_version"]:
        assert time.monotonic() < deadline, "the service kept the older model"
        time.sleep(0.5)
