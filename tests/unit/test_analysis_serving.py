"""The prediction service and the published network, with a fake HDFS and feature store."""

from __future__ import annotations

import io
import math
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from analysis.serving import create_app
from analysis.style_model import CLASSES, FEATURES, InvalidFeatures, StyleModel, models_dir, publish
from pilot.settings import load_settings


def network(version: str, seed: int = 1) -> StyleModel:
    gen = np.random.default_rng(seed)
    layers = (len(FEATURES), 4, 3)
    count = sum(n * m + m for n, m in pairwise(layers))
    return StyleModel(version=version, biz_date="20200322", features=FEATURES,
                      mean=tuple(gen.normal(size=len(FEATURES))),
                      std=(*gen.uniform(0.5, 2, len(FEATURES) - 1), 0.0),
                      layers=layers, weights=tuple(gen.normal(size=count)))


def numpy_forward(model: StyleModel, x: np.ndarray) -> np.ndarray:
    """Spark's layout: per layer an (out x in) column-major matrix, then the biases."""
    std = np.array(model.std)
    z = np.where(std > 0, (x - np.array(model.mean)) / np.where(std > 0, std, 1), 0.0)
    w, offset = np.array(model.weights), 0
    for index, (n, m) in enumerate(pairwise(model.layers)):
        matrix = w[offset:offset + n * m].reshape((m, n), order="F")
        bias = w[offset + n * m:offset + n * m + m]
        offset += n * m + m
        z = matrix @ z + bias
        last = index == len(model.layers) - 2
        z = np.exp(z - z.max()) / np.exp(z - z.max()).sum() if last else 1 / (1 + np.exp(-z))
    return z


def test_the_forward_pass_follows_sparks_weight_layout() -> None:
    model = network("style-1")
    x = np.random.default_rng(3).normal(size=len(FEATURES))
    got = model.predict(dict(zip(FEATURES, x.tolist(), strict=True)))
    assert got.probabilities == pytest.approx(tuple(numpy_forward(model, x)))
    assert got.style == CLASSES[int(np.argmax(numpy_forward(model, x)))]
    assert math.fsum(got.probabilities) == pytest.approx(1.0)
    assert StyleModel.from_json(model.to_json()) == model


def test_features_are_checked_by_name_and_value() -> None:
    model = network("style-1")
    good = dict.fromkeys(FEATURES, 1.0)
    with pytest.raises(InvalidFeatures, match="missing"):
        model.predict({k: v for k, v in good.items() if k != "speed_max"})
    with pytest.raises(InvalidFeatures, match="unknown"):
        model.predict({**good, "colour": 1.0})
    for bad in ("fast", float("nan"), True, None):
        with pytest.raises(InvalidFeatures, match="finite number"):
            model.predict({**good, "speed_max": bad})


class FakeHdfs:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def makedirs(self, path: str) -> None:
        pass

    def write(self, path: str, data: bytes, overwrite: bool = False) -> None:
        self.files[path] = data

    def rename(self, source: str, target: str) -> None:
        self.files[target] = self.files.pop(source)

    def delete(self, path: str) -> None:
        self.files.pop(path, None)

    def list(self, folder: str) -> list[str]:
        names = [p.rsplit("/", 1)[1] for p in self.files if p.rsplit("/", 1)[0] == folder]
        if not names:
            raise FileNotFoundError(folder)
        return names

    @contextmanager
    def read(self, path: str):
        yield io.BytesIO(self.files[path])


class FakeStore:
    def __init__(self) -> None:
        self.rows = {("A0001", "20200322"): dict.fromkeys(FEATURES, 0.5)}

    def features(self, car: str, date: str):
        return self.rows.get((car, date))

    def close(self) -> None:
        pass


@pytest.fixture
def setup(tmp_path: Path):
    s = load_settings({"PILOT_VAR_DIR": str(tmp_path / "var"), "PILOT_MODEL_API_RELOAD_SECONDS": "3600"},
                      env_file=tmp_path / ".env")
    return s, FakeHdfs(), FakeStore()


def test_no_model_yet_is_a_503_and_health_says_so(setup) -> None:
    s, hdfs, store = setup
    with TestClient(create_app(s, hdfs, store)) as api:
        assert api.get("/health").json()["status"] == "no_model"
        answer = api.post("/smartcar/predict", json={"features": dict.fromkeys(FEATURES, 1.0)})
        assert answer.status_code == 503 and "no style model" in answer.json()["detail"]


def test_predictions_by_features_or_by_car_name_the_model_version(setup) -> None:
    s, hdfs, store = setup
    model = network("style-20261204T000000-20200322")
    publish(hdfs, s.hive_database, model)
    with TestClient(create_app(s, hdfs, store)) as api:
        assert api.get("/health").json() == {"status": "ok", "model_version": model.version, "error": None}
        values = dict.fromkeys(FEATURES, 2.0)
        by_features = api.post("/smartcar/predict", json={"features": values}).json()
        expected = model.predict(values)
        assert by_features["class"] == expected.style and by_features["model_version"] == model.version
        assert list(by_features["probabilities"].values()) == pytest.approx(expected.probabilities)
        by_car = api.post("/smartcar/predict", json={"car_number": "A0001", "date": "20200322"}).json()
        assert by_car["class"] == model.predict(store.rows[("A0001", "20200322")]).style
        assert by_car["features"] == store.rows[("A0001", "20200322")]


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({}, 422, "either"),
    ({"features": {"speed_max": 1.0}, "car_number": "A0001", "date": "20200322"}, 422, "not both"),
    ({"features": {"speed_max": 1.0}}, 422, "missing"),
    ({"car_number": "a1", "date": "20200322"}, 422, "car_number"),
    ({"car_number": "A0001", "date": "2020-03-22"}, 422, "yyyyMMdd"),
    ({"car_number": "A0002", "date": "20200322"}, 404, "no driving features"),
    ({"features": {}, "colour": "red"}, 422, "extra"),
])
def test_bad_requests_get_a_4xx_with_the_reason(setup, body: dict, status: int, reason: str) -> None:
    s, hdfs, store = setup
    publish(hdfs, s.hive_database, network("style-1"))
    with TestClient(create_app(s, hdfs, store)) as api:
        answer = api.post("/smartcar/predict", json=body)
        assert answer.status_code == status
        assert reason in str(answer.json()["detail"])


def test_a_newer_published_model_replaces_the_served_one(setup) -> None:
    s, hdfs, store = setup
    publish(hdfs, s.hive_database, network("style-20261204T000000-20200322"))
    app = create_app(s, hdfs, store)
    with TestClient(app) as api:
        publish(hdfs, s.hive_database, network("style-20261204T010000-20200323", seed=2))
        assert app.state.holder.refresh() is True
        assert api.get("/health").json()["model_version"] == "style-20261204T010000-20200323"
        assert app.state.holder.refresh() is False  # nothing newer
    assert sorted(hdfs.files) == [f"{models_dir(s.hive_database)}/style-20261204T000000-20200322.json",
                                  f"{models_dir(s.hive_database)}/style-20261204T010000-20200323.json"]
