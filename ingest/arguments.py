"""Number arguments of the ingest commands: parse, check the range, say in one line what is wrong."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

N = TypeVar("N", int, float)


def number(kind: Callable[[str], N], *, at_least: N | None = None, at_most: N | None = None,
           positive: bool = False, name: str = "") -> Callable[[str], N]:
    """An argparse ``type``: ``kind(text)`` within the bounds (inclusive; ``positive``: above 0)."""
    label = f"{name} " if name else ""
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{label}must be {noun}, got {text!r}") from None
        if positive and not value > 0:
            problem = "must be positive"
        elif at_least is not None and at_most is not None and not at_least <= value <= at_most:
            problem = f"must be {at_least}..{at_most}"
        elif at_least is not None and value < at_least:
            problem = "must not be negative" if at_least == 0 else f"must be at least {at_least}"
        else:
            return value
        raise argparse.ArgumentTypeError(f"{label}{problem}, got {value}")

    return parse
