"""A small client of the Airflow 3 REST API: log in, unpause, trigger, follow a run."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pilot.errors import PilotError, ServiceUnavailable
from pilot.settings import Settings

TERMINAL_RUN_STATES = {"success", "failed"}


class ApiConflict(PilotError):
    """HTTP 409: the object exists already (e.g. a DAG run for that logical date)."""


@dataclass
class AirflowClient:
    settings: Settings
    token: str = ""

    @property
    def base(self) -> str:
        return self.settings.airflow_url

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 auth: bool = True, timeout: float = 30) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            if not self.token:
                self.login()
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method,  # noqa: S310
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - settings URL
                payload = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            if exc.code == 401 and auth:
                self.token = ""
            error = ApiConflict if exc.code == 409 else PilotError
            raise error(f"Airflow API {method} {path} answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ServiceUnavailable("Airflow API server", self.base, str(exc)) from exc
        return json.loads(payload) if payload else None

    def login(self) -> None:
        s = self.settings
        result = self._request("POST", "/auth/token", {"username": s.airflow_admin_user,
                                                        "password": s.airflow_admin_password}, auth=False)
        self.token = result["access_token"]

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Wait until the dag-processor has parsed `dag_id` (new DAG files take a few seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._request("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}")
            except PilotError as exc:
                if "404" not in str(exc) or time.monotonic() > deadline:
                    errors = self.import_errors()
                    hint = f" Import errors: {errors}" if errors else ""
                    raise PilotError(f"DAG {dag_id} is not known to Airflow.{hint}") from exc
            time.sleep(2)

    def import_errors(self) -> list[str]:
        result = self._request("GET", "/api/v2/importErrors")
        return [f"{e.get('filename')}: {e.get('stack_trace', '')[-300:]}"
                for e in result.get("import_errors", [])]

    def unpause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{urllib.parse.quote(dag_id)}", {"is_paused": False})

    def pause(self, dag_id: str) -> None:
        self._request("PATCH", f"/api/v2/dags/{urllib.parse.quote(dag_id)}", {"is_paused": True})

    def trigger(self, dag_id: str, conf: dict[str, Any], run_id: str | None = None,
                logical_date: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"conf": conf, "logical_date": logical_date}
        if run_id:
            body["dag_run_id"] = run_id
        return self._request("POST", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns", body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns/"
                                    f"{urllib.parse.quote(run_id, safe='')}")

    def runs(self, dag_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The DAG's most recent runs, newest first."""
        result = self._request("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns"
                                      f"?limit={int(limit)}&order_by=-run_after")
        runs = list(result.get("dag_runs", []))
        return sorted(runs, key=lambda r: str(r.get("run_after") or r.get("queued_at") or ""), reverse=True)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        result = self._request("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns/"
                                      f"{urllib.parse.quote(run_id, safe='')}/taskInstances?limit=200")
        return result.get("task_instances", [])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        result = self._request("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns/"
                                      f"{urllib.parse.quote(run_id, safe='')}/taskInstances/"
                                      f"{urllib.parse.quote(task_id)}/xcomEntries/{urllib.parse.quote(key)}")
        return result.get("value")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float,
                     progress: Callable[[str], None] | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            run = self.run(dag_id, run_id)
            tis = self.task_instances(dag_id, run_id)
            summary = ", ".join(f"{n} {s}" for s, n in sorted(_count_states(tis).items()))
            if progress and summary != last:
                progress(f"  run {run['state']}: {summary}")
                last = summary
            if run["state"] in TERMINAL_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise PilotError(f"DAG run {dag_id}/{run_id} still {run['state']} after {timeout:.0f} s "
                                 f"({summary}); see the Airflow UI at {self.base}/")
            time.sleep(3)


def _count_states(tis: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ti in tis:
        state = ti.get("state") or "queued"
        counts[state] = counts.get(state, 0) + 1
    return counts
