"""The host name Airflow records for a task instance (``[core] hostname_callable``): under the
CeleryExecutor each of the stack's workers runs on the same machine, so the name says which worker
ran the task (``worker1@host``); elsewhere it is the machine's name."""

from __future__ import annotations

import os


def hostname() -> str:
    from airflow.utils.net import getfqdn  # Airflow's default name of the machine

    machine = getfqdn()
    worker = os.environ.get("PILOT_AIRFLOW_WORKER_NAME")
    return f"{worker}@{machine}" if worker else machine
