"""The layer contract (pyproject.toml, [tool.importlinter]) holds: a back-arrow fails the suite."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STAGES = ("ingest", "marts", "export", "stack", "analysis")


def test_import_linter_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # as a user runs it
    result = subprocess.run([str(lint), "--no-cache"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "BROKEN" not in report and "KEPT" in report


def _imported_top_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_dag_files_reach_the_stages_only_through_the_roof() -> None:
    for path in sorted((REPO / "dags").glob("*.py")):
        imported = _imported_top_packages(path)
        assert not imported & set(STAGES), f"{path.name} imports a stage directly: {imported & set(STAGES)}"
        assert imported <= {"__future__", "airflow", "smartcar_plugins", "orchestration"}, path.name


def test_only_the_orchestration_package_imports_more_than_one_stage() -> None:
    for package in (*STAGES, "pilot"):
        for path in sorted((REPO / package).rglob("*.py")) if (REPO / package).is_dir() else []:
            others = (_imported_top_packages(path) & set(STAGES)) - {package}
            assert len(others) <= 1, f"{path.relative_to(REPO)} imports several stages: {sorted(others)}"
            if package == "pilot":
                assert not others, f"{path.relative_to(REPO)}: the ground imports the stage {others}"
