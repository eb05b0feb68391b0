"""The published driving-style network: standardisation plus a feed-forward net, evaluated in
plain Python (the prediction service needs no Spark), saved as JSON.

Spark MLlib's multilayer perceptron keeps all weights in one vector, layer after layer: for a layer
of ``n`` inputs and ``m`` outputs an ``m x n`` matrix in column-major order, then ``m`` biases;
hidden layers apply the logistic function, the last one softmax.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

CLASSES = ("calm", "normal", "wild")
FEATURES = ("avg_speed_pedal", "speed_pedal_z", "avg_break_pedal", "break_pedal_z", "sharp_turn_share",
            "signal_disagree_share", "overspeed_windows", "speed_mean", "speed_std", "speed_max",
            "speed_p90")


MODELS_ROOT = "/user/hive/warehouse/_models"  # on HDFS, beside the audited builds
KEPT_VERSIONS = 5


def models_dir(database: str) -> str:
    """Where the style models trained on a Hive database's marts are published (HDFS)."""
    return f"{MODELS_ROOT}/{database}/style"


class InvalidFeatures(ValueError):
    """The features given for a prediction are missing, unknown or not finite numbers."""


@dataclass(frozen=True)
class Prediction:
    style: str
    probabilities: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"class": self.style, "probabilities": dict(zip(CLASSES, self.probabilities, strict=True))}


@dataclass(frozen=True)
class StyleModel:
    version: str  # sortable: style-<trained at, UTC>-<business date>
    biz_date: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    layers: tuple[int, ...]
    weights: tuple[float, ...]
    classes: tuple[str, ...] = CLASSES

    def vector(self, values: Mapping[str, Any]) -> list[float]:
        missing = [f for f in self.features if f not in values]
        unknown = sorted(set(values) - set(self.features))
        if missing or unknown:
            raise InvalidFeatures(f"features missing: {missing or 'none'}; unknown: {unknown or 'none'}; "
                                  f"expected exactly: {list(self.features)}")
        out = []
        for name in self.features:
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidFeatures(f"feature {name} must be a finite number, got {value!r}")
            out.append(float(value))
        return out

    def predict(self, values: Mapping[str, Any]) -> Prediction:
        x = [(v - m) / s if s > 0 else 0.0 for v, m, s in zip(self.vector(values), self.mean, self.std,
                                                              strict=True)]
        offset = 0
        for index, (n, m) in enumerate(pairwise(self.layers)):
            w = self.weights
            y = [sum(w[offset + j * m + i] * x[j] for j in range(n)) + w[offset + n * m + i]
                 for i in range(m)]
            offset += n * m + m
            if index < len(self.layers) - 2:
                x = [1.0 / (1.0 + math.exp(-v)) for v in y]
            else:
                top = max(y)
                exps = [math.exp(v - top) for v in y]
                x = [e / sum(exps) for e in exps]
        best = max(range(len(x)), key=lambda i: x[i])
        return Prediction(self.classes[best], tuple(x))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> StyleModel:
        data = json.loads(text)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def new_version(biz_date: str) -> str:
    return f"style-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{biz_date}"


def model_from_spark(scaler: Any, mlp: Any, day: Any) -> StyleModel:
    """The fitted StandardScalerModel and MultilayerPerceptronClassificationModel as a StyleModel."""
    layers: Sequence[int] = mlp.getLayers()
    return StyleModel(version=new_version(day.text), biz_date=day.text, features=FEATURES,
                      mean=tuple(float(v) for v in scaler.mean.toArray()),
                      std=tuple(float(v) for v in scaler.std.toArray()),
                      layers=tuple(int(v) for v in layers),
                      weights=tuple(float(v) for v in mlp.weights.toArray()))


def publish(client: Any, database: str, model: StyleModel) -> str:
    """Write the model under a temporary name, rename it into place (readers never see half a
    file), keep the newest :data:`KEPT_VERSIONS`; returns its HDFS path."""
    folder = models_dir(database)
    client.makedirs(folder)
    final = f"{folder}/{model.version}.json"
    temporary = f"{folder}/_{model.version}.json.tmp"
    client.write(temporary, model.to_json().encode("utf-8"), overwrite=True)
    client.rename(temporary, final)
    versions = sorted(n for n in client.list(folder) if n.startswith("style-") and n.endswith(".json"))
    for name in versions[:-KEPT_VERSIONS]:
        client.delete(f"{folder}/{name}")
    return final


def latest_version(client: Any, database: str) -> str | None:
    """The newest published version's file name, or None."""
    try:
        names = client.list(models_dir(database))
    except Exception:  # the folder does not exist before the first model
        return None
    versions = sorted(n for n in names if n.startswith("style-") and n.endswith(".json"))
    return versions[-1] if versions else None


def load(client: Any, database: str, name: str) -> StyleModel:
    with client.read(f"{models_dir(database)}/{name}") as reader:
        return StyleModel.from_json(reader.read().decode("utf-8"))
