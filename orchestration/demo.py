"""`pilot demo` (what `make demo` runs): the stack up, then the end-to-end DAG through the real
scheduler for a simulated day, then a summary of what every stage did."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from orchestration.airflow_api import AirflowClient, ApiConflict
from orchestration.pipeline import RunSpec
from pilot.settings import Settings

DAG_ID = "smartcar_pilot"
MARTS_DAG_ID = "smartcar_marts"
ANALYSIS_DAG_ID = "smartcar_analysis"


def say(msg: str) -> None:
    print(msg, flush=True)


def trigger_run(s: Settings, spec: RunSpec, client: AirflowClient | None = None) -> tuple[AirflowClient, str]:
    """Trigger the end-to-end DAG for `spec` (logical date = the business date) and return its run id."""
    client = client or AirflowClient(s)
    client.wait_for_dag(DAG_ID)
    client.unpause(DAG_ID)
    client.wait_for_dag(MARTS_DAG_ID)
    client.unpause(MARTS_DAG_ID)  # the run waits for the marts its load starts
    run_id = f"demo__{spec.date}_c{spec.cars}_s{spec.seed}__{time.strftime('%Y%m%dT%H%M%S')}"
    logical = f"{spec.date[:4]}-{spec.date[4:6]}-{spec.date[6:]}T00:00:00Z"
    conf = {"date": spec.date, "cars": spec.cars, "seed": spec.seed, "rate": spec.rate}
    try:
        client.trigger(DAG_ID, conf, run_id=run_id, logical_date=logical)
    except ApiConflict:
        # Airflow keeps one run per logical date; the date is in the run's params anyway, so a
        # rerun of the same day (every task is idempotent) is a run without a logical date.
        say(f"  a run for logical date {spec.date} exists already; starting another one for the "
            f"same day without a logical date")
        client.trigger(DAG_ID, conf, run_id=run_id, logical_date=None)
    return client, run_id


def task_log_path(s: Settings, run_id: str, task_id: str, try_number: int) -> Path:
    return (s.path("airflow", "logs") / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
            / f"attempt={max(try_number, 1)}.log")


def report_failure(s: Settings, client: AirflowClient, run_id: str) -> None:
    failed = [ti for ti in client.task_instances(DAG_ID, run_id)
              if ti.get("state") in {"failed", "upstream_failed"}]
    for ti in failed:
        if ti["state"] == "failed":
            say(f"  FAILED task {ti['task_id']} (try {ti.get('try_number')}); its log: "
                f"{task_log_path(s, run_id, ti['task_id'], int(ti.get('try_number') or 1))}")
    skipped = [ti["task_id"] for ti in failed if ti["state"] == "upstream_failed"]
    if skipped:
        say(f"  not run because of that: {', '.join(skipped)}")


def run_demo(s: Settings, args: argparse.Namespace) -> int:
    from stack import manager

    spec = RunSpec(date=args.date, cars=args.cars, seed=args.seed, rate=getattr(args, "rate", 0) or 0)
    say("== 1/4 bringing the stack up (the first start formats storage; a minute or two)")
    states = manager.up(s)
    say(manager.format_table(states))
    say(f"\n== 2/4 running DAG {DAG_ID} for {spec.date}, {spec.cars} cars, seed {spec.seed} "
        f"through the Airflow scheduler")
    started = time.monotonic()
    client = AirflowClient(s)
    client.wait_for_dag(ANALYSIS_DAG_ID)
    client.unpause(ANALYSIS_DAG_ID)  # it runs by itself once the day's marts are published
    known = {r["dag_run_id"] for r in client.runs(ANALYSIS_DAG_ID)}
    client, run_id = trigger_run(s, spec, client)
    say(f"  run {run_id}: follow it at {s.airflow_url}/dags/{DAG_ID}/runs/{run_id}")
    run = client.wait_for_run(DAG_ID, run_id, timeout=args.timeout, progress=say)
    elapsed = time.monotonic() - started
    if run["state"] != "success":
        say(f"\nThe run ended {run['state']} after {elapsed:.0f} s.")
        report_failure(s, client, run_id)
        return 1
    say(f"  finished in {elapsed:.0f} s")
    say("\n== 3/4 summary")
    summary = client.xcom(DAG_ID, run_id, "summary")
    if isinstance(summary, str):
        import json

        summary = json.loads(summary)
    say(format_summary(summary))
    say(f"\n== 4/4 analysis: DAG {ANALYSIS_DAG_ID} started by the published marts (Spark MLlib jobs)")
    analysis = wait_for_analysis(client, known, spec.date, args.timeout, say)
    if analysis is None or analysis["state"] != "success":
        say(f"  the analysis run ended {analysis['state'] if analysis else 'not at all'}; see "
            f"{s.airflow_url}/dags/{ANALYSIS_DAG_ID}")
        return 1
    from analysis.headlines import headlines
    from marts.hive import HiveSession

    with HiveSession(s) as hive:
        found = headlines(hive, s.hive_database, spec.date)
    cars = list(found["recommendations (ALS)"])
    if cars:
        wait_for_model(s, spec.date)
        found["a prediction of model-api"] = predict_style(s, cars[0], spec.date)
    say(format_summary(found))
    say(how_to_query(s))
    return 0


def predict_style(s: Settings, car: str, date: str) -> dict[str, Any]:
    """What the prediction service answers for one car's day (its REST API, as a user calls it)."""
    import json
    import urllib.error
    import urllib.request

    body = json.dumps({"car_number": car, "date": date}).encode()
    request = urllib.request.Request(  # noqa: S310 - the stack's own http URL from the settings
        f"{s.model_api_url}/smartcar/predict", data=body, method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - as above
            got = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return {"POST /smartcar/predict": f"{error.code}: {json.loads(error.read()).get('detail')}"}
    except OSError as error:
        return {"POST /smartcar/predict": f"model-api not reachable at {s.model_api_url} ({error})"}
    probabilities = ", ".join(f"{k} {v:.2f}" for k, v in got["probabilities"].items())
    return {"car": f"{car} on {date}", "style": got["class"], "probabilities": probabilities,
            "model": got["model_version"]}


def wait_for_analysis(client: AirflowClient, known: set[str], date: str, timeout: float,
                      progress: Any) -> dict[str, Any] | None:
    """The analysis run that covers ``date`` among those started after the demo's trigger, once it
    has finished (an earlier day's run may come first: one run at a time); a failed one at once."""
    deadline = time.monotonic() + timeout
    finished: set[str] = set()
    while time.monotonic() < deadline:
        fresh = [r for r in reversed(client.runs(ANALYSIS_DAG_ID))
                 if r["dag_run_id"] not in known | finished]
        for candidate in fresh:
            run = client.wait_for_run(ANALYSIS_DAG_ID, candidate["dag_run_id"],
                                      timeout=max(deadline - time.monotonic(), 1), progress=progress)
            finished.add(candidate["dag_run_id"])
            built = client.xcom(ANALYSIS_DAG_ID, candidate["dag_run_id"], "build_analysis_tables") or {}
            if run["state"] != "success" or date in built:
                return run
        time.sleep(5)
    return None


def wait_for_model(s: Settings, date: str, timeout: float = 60) -> None:
    """Until model-api serves a model of ``date`` (it re-reads the published models periodically)."""
    import json
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{s.model_api_url}/health", timeout=5) as answer:  # noqa: S310
                if str(json.loads(answer.read()).get("model_version") or "").endswith(f"-{date}"):
                    return
        except OSError:
            pass
        time.sleep(1)


def format_summary(summary: dict[str, Any]) -> str:
    lines = []
    # sections are numbered: XCom JSON does not keep key order
    for section, values in sorted(summary.items()):
        lines.append(f"{section}:")
        if isinstance(values, dict):
            width = max((len(str(k)) for k in values), default=0)
            lines += [f"  {str(k).ljust(width)}  {v}" for k, v in values.items()]
        elif isinstance(values, list):
            lines += [f"  {v}" for v in values] or ["  (none)"]
        else:
            lines.append(f"  {values}")
    return "\n".join(lines)


def how_to_query(s: Settings) -> str:
    from stack.services.hive import spark_home

    beeline = spark_home() / "bin" / "beeline"
    example = "SELECT car_number, checks FROM managed_smartcar_emergency_check_info LIMIT 10"
    return "\n".join([
        "",
        "Query the marts with Hive SQL:",
        f'  pilot sql "{example}"',
        f"  {beeline} -u jdbc:hive2://{s.hive_host}:{s.hive_port} -n {s.hive_user} -e 'SHOW TABLES'",
        f"Airflow UI: {s.airflow_url}/  login: {s.airflow_admin_user} / {s.airflow_admin_password}",
        "Stop everything: pilot stack down",
    ])
