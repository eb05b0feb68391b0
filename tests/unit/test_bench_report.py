"""bench/report.py replaces exactly one section of BENCHMARKS.md."""

from __future__ import annotations

import importlib.util
import re

import pytest

from pilot.settings import REPO_ROOT

_spec = importlib.util.spec_from_file_location("bench_report", REPO_ROOT / "bench" / "report.py")
report = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(report)  # type: ignore[union-attr]

DOC = "# Benchmarks\n\nintro\n\n## A\n\nold a\n\n## B\n\nold b\n| x |\n"


def test_replaces_only_its_section() -> None:
    out = report.replace_section(DOC, "## A\n\nnew a\n")
    assert out == "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nold b\n| x |\n"
    assert report.replace_section(out, "## B\n\nnew b") == (
        "# Benchmarks\n\nintro\n\n## A\n\nnew a\n\n## B\n\nnew b\n")


def test_appends_a_new_section_and_needs_a_heading() -> None:
    assert report.replace_section(DOC, "## C\n\nc").endswith("| x |\n\n## C\n\nc\n")
    with pytest.raises(ValueError):
        report.replace_section(DOC, "no heading")


def test_rewriting_every_section_of_the_real_report_changes_nothing() -> None:
    text = (REPO_ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## .*?(?=^## |\Z)", text, re.S | re.M)
    assert len(sections) >= 6
    for section in sections:
        assert report.replace_section(text, section) == text
