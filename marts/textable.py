"""Query results as a readable text table (aware of double-width Hangul) or as CSV."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def width(text: str) -> int:
    """Terminal columns of a string: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, size: int, right: bool) -> str:
    gap = " " * (size - width(text))
    return gap + text if right else text + gap


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    texts = [[cell(v) for v in row] for row in rows]
    sizes = [width(c) for c in columns]
    for row in texts:
        sizes = [max(s, width(t)) for s, t in zip(sizes, row, strict=True)]
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float | Decimal) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]
    rule = "+" + "+".join("-" * (s + 2) for s in sizes) + "+"
    header = " | ".join(_pad(c, s, False) for c, s in zip(columns, sizes, strict=True))
    lines = [rule, f"| {header} |", rule]
    for row in texts:
        lines.append("| " + " | ".join(
            _pad(t, s, n) for t, s, n in zip(row, sizes, numeric, strict=True)) + " |")
    lines.append(rule)
    return "\n".join(lines)


def format_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else cell(v) for v in row])
    return out.getvalue()
