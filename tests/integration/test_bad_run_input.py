"""Bad run input through the real Airflow: the trigger form's schema rejects what it can see, and
the plan task fails at once, without retries, on what only the parser can see."""

from __future__ import annotations

import uuid

import pytest

from orchestration.airflow_api import AirflowClient
from orchestration.demo import DAG_ID
from pilot.errors import PilotError
from pilot.settings import Settings


@pytest.fixture(scope="module")
def client(stack: Settings) -> AirflowClient:
    client = AirflowClient(stack)
    client.wait_for_dag(DAG_ID)
    client.unpause(DAG_ID)
    return client


def test_a_month_13_is_rejected_by_the_trigger_itself(client: AirflowClient) -> None:
    run_id = f"bad_month__{uuid.uuid4().hex[:8]}"
    with pytest.raises(PilotError, match="400"):
        client.trigger(DAG_ID, {"date": "20201345", "cars": 1, "seed": 1}, run_id=run_id)


def test_a_date_that_is_no_day_fails_the_plan_once_without_retries(client: AirflowClient) -> None:
    run_id = f"bad_day__{uuid.uuid4().hex[:8]}"
    client.trigger(DAG_ID, {"date": "20200230", "cars": 1, "seed": 1}, run_id=run_id)
    run = client.wait_for_run(DAG_ID, run_id, timeout=300)
    assert run["state"] == "failed"
    plan = next(ti for ti in client.task_instances(DAG_ID, run_id) if ti["task_id"] == "plan")
    assert plan["state"] == "failed" and plan["try_number"] == 1, plan
    assert not [ti["task_id"] for ti in client.task_instances(DAG_ID, run_id)
                if ti["state"] == "success"]
