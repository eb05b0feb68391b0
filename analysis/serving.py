"""The prediction service ``model-api``: the driving-style network over REST (FastAPI).

    POST /smartcar/predict  {"features": {...}}  or  {"car_number": "A0001", "date": "20200322"}
                            -> {"class", "probabilities", "model_version", ...}
    GET  /health            -> {"status", "model_version"}

The newest model published on HDFS (:func:`analysis.style_model.publish`) is loaded at start and
re-read whenever a newer version appears (checked every ``PILOT_MODEL_API_RELOAD_SECONDS``). A car's
day is looked up in the PostgreSQL export of ``analysis_style_features``. Bad input gets a 4xx
answer that says what is wrong; no model yet is a 503. The service only reads: it has no write path.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

from analysis.style_model import FEATURES, InvalidFeatures, StyleModel, latest_version, load
from pilot.settings import Settings, get_settings

CAR = re.compile(r"^[A-Z][0-9]{4}$")
DATE = re.compile(r"^[0-9]{8}$")
FEATURE_TABLE = "public.analysis_style_features"  # the exporter's default target of the table
log = logging.getLogger("smartcar.model_api")


class PredictRequest(BaseModel):
    """Either the model's features, or a car number and a date whose exported features to use."""

    model_config = ConfigDict(extra="forbid")
    features: dict[str, Any] | None = None
    car_number: str | None = None
    date: str | None = None


class ModelHolder:
    """The model being served, replaced as a whole when a newer one is published."""

    def __init__(self, settings: Settings, client: Any) -> None:
        self.settings = settings
        self.client = client
        self.model: StyleModel | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """Load the newest published model if it is newer than the one served; True if it was."""
        try:
            name = latest_version(self.client, self.settings.hive_database)
            if name is None or (self.model is not None and f"{self.model.version}.json" >= name):
                return False
            model = load(self.client, self.settings.hive_database, name)
        except Exception as exc:  # HDFS away or a bad file: keep serving what we have
            self.error = f"could not read the published models: {' '.join(str(exc).split())[:300]}"
            log.warning(self.error)
            return False
        with self._lock:
            if self.model is None or model.version > self.model.version:
                self.model = model
                self.error = None
                log.info("serving style model %s", model.version)
                return True
        return False


class FeatureStore:
    """A car's features of a day, from PostgreSQL (a small pool of connections)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: Any = None
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        from psycopg2.pool import ThreadedConnectionPool

        with self._lock:
            if self._pool is None:
                s = self.settings
                self._pool = ThreadedConnectionPool(
                    1, 4, s.postgres_dsn, connect_timeout=s.postgres_connect_timeout_seconds,
                    options="-c statement_timeout=5000 -c default_transaction_read_only=on")
        conn = self._pool.getconn()
        try:
            yield conn
        finally:
            conn.rollback()
            self._pool.putconn(conn)

    def features(self, car: str, date: str) -> dict[str, float] | None:
        from psycopg2 import sql

        query = sql.SQL("SELECT {} FROM {} WHERE car_number = %s AND biz_date = to_date(%s, 'YYYYMMDD')"
                        ).format(
            sql.SQL(", ").join(map(sql.Identifier, FEATURES)),
            sql.Identifier(*FEATURE_TABLE.split(".")))
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute(query, (car, date))
            row = cur.fetchone()
        return None if row is None else {name: float(v) for name, v in zip(FEATURES, row, strict=True)}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.closeall()


def create_app(settings: Settings | None = None, client: Any = None,
               store: FeatureStore | None = None) -> Any:
    """The FastAPI app (``uvicorn --factory analysis.serving:create_app``)."""
    from fastapi import FastAPI, HTTPException

    s = settings or get_settings()
    if client is None:
        from hdfs import InsecureClient

        client = InsecureClient(s.webhdfs_url, user=s.hdfs_user, timeout=10)
    holder = ModelHolder(s, client)
    features_of = store or FeatureStore(s)
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(s.model_api_reload_seconds):
            holder.refresh()

    @asynccontextmanager
    async def lifespan(_: Any) -> Any:
        holder.refresh()
        thread = threading.Thread(target=watch, name="model-reload", daemon=True)
        thread.start()
        yield
        stop.set()
        features_of.close()

    app = FastAPI(title="smartcar-pilot model-api", version="1", lifespan=lifespan,
                  description="Driving style (calm / normal / wild) of a car's day.")

    def serving() -> StyleModel:
        model = holder.model
        if model is None:
            raise HTTPException(503, holder.error or "no style model is published yet: run the analysis "
                                                     "DAG (or `pilot analysis train --job style`)")
        return model

    @app.get("/health")
    def health() -> dict[str, Any]:
        model = holder.model
        return {"status": "ok" if model else "no_model",
                "model_version": model.version if model else None, "error": holder.error}

    @app.post("/smartcar/predict")
    def predict(request: PredictRequest) -> dict[str, Any]:
        by_car = request.car_number is not None or request.date is not None
        if (request.features is None) == (not by_car):
            raise HTTPException(422, "give either `features` (an object of the model's features) or "
                                     "`car_number` and `date`, not both and not neither")
        model = serving()
        if request.features is not None:
            values, answer = request.features, {"input": "features"}
        else:
            car, date = request.car_number or "", request.date or ""
            if not CAR.fullmatch(car):
                raise HTTPException(422, f"car_number must be a letter and 4 digits (A0001), got {car!r}")
            if not DATE.fullmatch(date):
                raise HTTPException(422, f"date must be yyyyMMdd, got {date!r}")
            try:
                found = features_of.features(car, date)
            except Exception as exc:
                raise HTTPException(503, f"PostgreSQL (the car's features) is not reachable: "
                                         f"{' '.join(str(exc).split())[:200]}") from None
            if found is None:
                raise HTTPException(404, f"no driving features of car {car} on {date}: is that day's "
                                         f"analysis exported?")
            values, answer = found, {"input": "car", "car_number": car, "date": date, "features": found}
        try:
            prediction = model.predict(values)
        except InvalidFeatures as exc:
            raise HTTPException(422, str(exc)) from None
        return {"model_version": model.version, **prediction.as_dict(), **answer}

    app.state.holder = holder
    return app
