"""Shared test configuration: tests under tests/integration/ need the real stack."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# Unit tests import Airflow: keep its home (airflow.cfg, logs) out of the user's ~/airflow, and
# let DAG files import the plugins folder as Airflow does.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="pilot-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
PLUGINS_DIR = Path(__file__).resolve().parents[1] / "plugins"
if str(PLUGINS_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGINS_DIR))

INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)
