"""Benchmark: the Spark MLlib jobs on a 100-car day next to scikit-learn on pandas frames of the same
data, and the prediction service's latency next to a bare FastAPI endpoint.

Simulates a full 100-car day (seed 42), uploads it in the loader's layout to a private HDFS folder,
builds the marts and the label table in a private Hive database (``pilot_bench_models``), then:

* runs each job as the DAG does (``spark-submit``), reporting the fit alone and the whole job;
* fits what a user would write first in scikit-learn on the same rows, read with pandas from the
  same files (NMF for the factorisation, RandomForestClassifier, KMeans with silhouette_score,
  MLPClassifier), with the same sizes (rank, trees and depth, k range, hidden layer);
* serves the trained style model with the project's service and a bare FastAPI app that returns a
  constant, each under uvicorn, and sends them the same sequential requests over one keep-alive
  connection (latency) and from 4 threads with a connection each (throughput).

Replaces the ``## Models`` section of BENCHMARKS.md. Needs the stack (``pilot stack up``).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import add_report_options, command_line, publish  # noqa: E402 - bench/ is the script's folder

from analysis.exploration import build_explorations  # noqa: E402
from analysis.style_model import FEATURES  # noqa: E402
from analysis.training import run_job  # noqa: E402
from marts import runner  # noqa: E402
from marts.hive import HiveSession  # noqa: E402
from pilot.settings import get_settings  # noqa: E402
from tests.oracles import exploration as explore_oracle  # noqa: E402
from tests.oracles import marts as marts_oracle  # noqa: E402
from tests.support.devdata import drop_prepared, prepare_day  # noqa: E402

SECTION = "## Models"
DATABASE = "pilot_bench_models"
DATE = "20200322"
REQUESTS = 3000
WARMUP = 300
THREADS = 4
BARE_APP = """
from fastapi import FastAPI
app = FastAPI()

@app.post("/smartcar/predict")
def predict(body: dict) -> dict:
    return {"class": "normal", "probabilities": {"calm": 0.1, "normal": 0.8, "wild": 0.1}}
"""


def timed(function: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def sklearn_recommend(layout: Path) -> float:
    from sklearn.decomposition import NMF

    buys = marts_oracle.buylist_mart(layout, DATE[:6])
    buys["segment"] = buys["age"].map(explore_oracle.age_band) + "/" + buys["car_model"]
    shares = pd.crosstab(buys["segment"], buys["item"], normalize="index")
    seconds, _ = timed(
        lambda: NMF(n_components=min(20, min(shares.shape)), max_iter=200, random_state=42).fit_transform(
            shares.to_numpy()
        )
    )
    return seconds


def sklearn_classify(layout: Path) -> tuple[float, float]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    status = marts_oracle.status_mart(layout, DATE)
    labels = [label for _, label in explore_oracle.status_health(status).values()]
    frame = status[
        ["car_capacity", "car_year", "tire_fl", "tire_fr", "tire_bl", "tire_br", "battery"]
    ].astype(float)
    for column in ("car_model", "light_fl", "light_fr", "light_bl", "light_br", "engine", "break"):
        frame[column] = status[column].astype("category").cat.codes
    x_train, x_test, y_train, y_test = train_test_split(frame, labels, train_size=0.7, random_state=42)
    forest = RandomForestClassifier(n_estimators=20, max_depth=8, random_state=42, n_jobs=2)
    seconds, _ = timed(lambda: forest.fit(x_train, y_train))
    return seconds, float(forest.score(x_test, y_test))


def sklearn_cluster(layout: Path) -> tuple[float, int]:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    adults = marts_oracle.adults(layout)
    years = int(DATE[:4]) - adults["car_year"]
    profile = pd.DataFrame(
        {
            "capacity": adults["car_capacity"].map(
                lambda cc: "small" if cc < 1500 else "medium" if cc < 2500 else "large"
            ),
            "year": years.map(lambda y: "new" if y < 5 else "normal" if y < 10 else "old"),
            "model": adults["car_model"],
            "sex": adults["sex"],
            "marriage": adults["marriage"],
            "age": adults["age"].map(explore_oracle.age_band),
        }
    )
    encoded = pd.get_dummies(profile).to_numpy(dtype=float)

    def fit() -> int:
        scores = {}
        for k in range(2, 9):
            labels = KMeans(n_clusters=k, random_state=42, n_init=1).fit_predict(encoded)
            scores[k] = silhouette_score(encoded, labels)
        return max(scores, key=lambda k: scores[k])

    seconds, k = timed(fit)
    return seconds, k


def sklearn_style(hive: HiveSession) -> tuple[float, float]:
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    result = hive.query(f"SELECT * FROM {DATABASE}.analysis_style_features WHERE biz_date = '{DATE}'")
    rows = pd.DataFrame(result.rows, columns=result.columns)
    train, test = rows[rows["split"] == "train"], rows[rows["split"] == "test"]
    model = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=42)
    )
    seconds, _ = timed(lambda: model.fit(train[list(FEATURES)].astype(float), train["style"]))
    return seconds, float(model.score(test[list(FEATURES)].astype(float), test["style"]))


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(args: list[str], env: dict[str, str], port: int, cwd: str | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *args,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=cwd,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"uvicorn on port {port} did not start")


def load(port: int, body: bytes, requests: int) -> list[float]:
    """Latencies (s) of ``requests`` POSTs over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        conn.request("POST", "/smartcar/predict", body, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        latencies.append(time.perf_counter() - started)
        if answer.status != 200:
            raise RuntimeError(f"port {port} answered {answer.status}")
    conn.close()
    return latencies


def measure(port: int, body: bytes) -> dict[str, float]:
    load(port, body, WARMUP)
    latencies = np.array(load(port, body, REQUESTS))
    results: list[list[float]] = []
    started = time.perf_counter()
    threads = [
        threading.Thread(target=lambda: results.append(load(port, body, REQUESTS // THREADS)))
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "sequential_rps": REQUESTS / float(latencies.sum()),
        "parallel_rps": sum(len(r) for r in results) / elapsed,
    }


def main() -> int:
    parser = command_line(__doc__)
    add_report_options(parser)
    parser.add_argument("--cars", type=int, default=100)
    args = parser.parse_args()
    s = get_settings()
    from hdfs import InsecureClient

    client = InsecureClient(s.webhdfs_url, user=s.hdfs_user)
    work = Path(tempfile.mkdtemp(prefix="bench-models-"))
    print(f"simulating and uploading a {args.cars}-car day ...", flush=True)
    day = prepare_day(
        work, DATE, "/tmp/pilot-bench/models", DATABASE, client, cars=args.cars, seed=42, day_seconds=86_400
    )
    truth = day.sim_dir / f"ground_truth_{DATE}.json"
    with HiveSession(s) as hive:
        try:
            runner.build_marts(
                DATE,
                ["status", "drive", "symptom", "buylist"],
                config=day.config,
                hive=hive,
                hdfs_client=client,
            )
            build_explorations(DATE, ["health"], config=day.config, settings=s, hive=hive, hdfs_client=client)
            spark: dict[str, dict[str, Any]] = {}
            for job in ("recommend", "classify", "cluster", "style"):
                seconds, summary = timed(
                    lambda job=job: run_job(
                        job, DATE, s, day.config, truth=truth if job in ("recommend", "style") else None
                    )
                )
                spark[job] = {**summary, "job_seconds": seconds}
            print("scikit-learn on pandas ...", flush=True)
            sk_recommend = sklearn_recommend(day.layout_dir)
            sk_classify, sk_accuracy = sklearn_classify(day.layout_dir)
            sk_cluster, sk_k = sklearn_cluster(day.layout_dir)
            sk_style, sk_style_accuracy = sklearn_style(hive)
            print("serving ...", flush=True)
            env = {**os.environ, "PILOT_HIVE_DATABASE": DATABASE, "PILOT_MODEL_API_RELOAD_SECONDS": "3600"}
            features = hive.query(
                f"SELECT {', '.join(FEATURES)} FROM {DATABASE}.analysis_style_features "
                f"WHERE biz_date = '{DATE}' LIMIT 1"
            ).rows[0]
            body = json.dumps({"features": dict(zip(FEATURES, map(float, features), strict=True))}).encode()
            with tempfile.TemporaryDirectory() as bare_dir:
                Path(bare_dir, "bare_app.py").write_text(BARE_APP, encoding="utf-8")
                api_port, bare_port = free_port(), free_port()
                api = serve(["--factory", "analysis.serving:create_app"], env, api_port)
                bare = serve(["bare_app:app"], env, bare_port, cwd=bare_dir)
                try:
                    served, ceiling = measure(api_port, body), measure(bare_port, body)
                finally:
                    api.terminate()
                    bare.terminate()
        finally:
            drop_prepared(hive, client, day)

    metrics = spark["recommend"]["metrics"]
    rows = [
        (
            "recommendation (ALS, rank 20, segment x item)",
            spark["recommend"],
            sk_recommend,
            "NMF, 20 components",
            f"precision@3 {metrics['als.precision_at_3']:.3f} "
            f"(popularity {metrics['popularity.precision_at_3']:.3f})",
        ),
        (
            "classification (random forest, 20 trees, depth 8)",
            spark["classify"],
            sk_classify,
            "RandomForestClassifier, 2 jobs",
            f"F1 {spark['classify']['metrics']['random_forest.f1']:.3f}, accuracy "
            f"{spark['classify']['metrics']['random_forest.accuracy']:.4f} (scikit-learn {sk_accuracy:.4f})",
        ),
        (
            "clustering (k-means, k = 2..8 by silhouette)",
            spark["cluster"],
            sk_cluster,
            "KMeans + silhouette_score",
            f"k {spark['cluster']['k']} (scikit-learn {sk_k})",
        ),
        (
            "driving style (MLP 11-8-3)",
            spark["style"],
            sk_style,
            "MLPClassifier",
            f"held-out accuracy {spark['style']['accuracy']:.2f} "
            f"(majority {spark['style']['majority_accuracy']:.2f}; scikit-learn {sk_style_accuracy:.2f})",
        ),
    ]
    lines = [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} cores), `python bench/bench_models.py` with the stack running: "
        f"a {args.cars}-car day ({DATE}, seed 42).",
        "",
        "Training: the fit alone inside the Spark job, the whole job (`spark-submit`: JVM start, "
        "reading the marts through the metastore, fit, publishing the tables write-audit-publish), "
        "and scikit-learn fitting the same rows from a pandas frame (reading not timed).",
        "",
        "| model | Spark fit | Spark job | scikit-learn fit | scikit-learn | quality |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, job, sk_seconds, sk_name, quality in rows:
        lines.append(
            f"| {name} | {job['fit_seconds']:.1f} s | {job['job_seconds']:.1f} s | {sk_seconds:.2f} s "
            f"| {sk_name} "
            f"| {quality} |"
        )
    lines += [
        "",
        f"Prediction service (`model-api`, the style network in plain Python) and a bare FastAPI "
        f"endpoint that returns a constant, both under uvicorn (one worker): {REQUESTS} sequential "
        f"POSTs over one keep-alive connection after {WARMUP} warm-up ones, then {THREADS} threads "
        f"with a keep-alive connection each.",
        "",
        "| endpoint | p50 | p99 | requests/s (1 connection) | requests/s (4 connections) |",
        "|---|---:|---:|---:|---:|",
        f"| model-api `POST /smartcar/predict` (features) | {served['p50_ms']:.2f} ms "
        f"| {served['p99_ms']:.2f} ms | {served['sequential_rps']:,.0f} | {served['parallel_rps']:,.0f} |",
        f"| bare FastAPI constant | {ceiling['p50_ms']:.2f} ms | {ceiling['p99_ms']:.2f} ms "
        f"| {ceiling['sequential_rps']:,.0f} | {ceiling['parallel_rps']:,.0f} |",
        "",
        f"Goals: p99 under 20 ms ({verdict(served['p99_ms'] < 20)}: {served['p99_ms']:.1f} ms); at "
        f"least half the bare endpoint's requests/s "
        f"({verdict(served['parallel_rps'] >= ceiling['parallel_rps'] / 2)}: "
        f"{served['parallel_rps'] / ceiling['parallel_rps']:.2f}x with 4 connections, "
        f"{served['sequential_rps'] / ceiling['sequential_rps']:.2f}x with one).",
    ]
    publish("\n".join(lines), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
