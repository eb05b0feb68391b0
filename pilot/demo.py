"""`pilot demo` (what `make demo` runs): the stack up, then the end-to-end pipeline."""

from __future__ import annotations

import argparse

from pilot.settings import Settings


def run_demo(s: Settings, args: argparse.Namespace) -> int:
    from stack import manager

    print("Bringing the stack up (first start formats storage and takes a minute or two)...")
    states = manager.up(s)
    print(manager.format_table(states))
    print(f"\nAirflow UI: {s.airflow_url}/  login: {s.airflow_admin_user} / {s.airflow_admin_password}")
    print(f"Hive SQL:   beeline -u jdbc:hive2://{s.hive_host}:{s.hive_port} -n {s.hive_user}")
    print("Stop with:  pilot stack down")
    return 0
