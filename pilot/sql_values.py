"""Validated values for the named parameters of SQL files (dates, months, numbers, identifiers,
HDFS locations): the value types every stage that binds SQL shares.

Nothing reaches a ``.sql`` file as a raw string: every value is first turned into one of the
``Sql*`` types below, whose constructor checks it against a strict pattern. The binder
(:mod:`marts.sqlfile`) only accepts these types, so an unchecked string cannot be spliced in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pilot.dates import Day, Month
from pilot.errors import InvalidInput

IDENTIFIER_RE = re.compile(r"[a-z_][a-z0-9_]*")
# An HDFS location: optional hdfs://host:port prefix, then an absolute path of safe characters.
LOCATION_RE = re.compile(r"(?:hdfs://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)?/[A-Za-z0-9_./=-]*")


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class SqlDate:
    """A ``yyyyMMdd`` date; rendered as its 8 digits (the .sql file supplies the quotes)."""

    value: str

    def __post_init__(self) -> None:
        Day.parse(self.value)

    @classmethod
    def of(cls, day: Day) -> SqlDate:
        return cls(day.text)

    def render(self) -> str:
        return self.value


@dataclass(frozen=True)
class SqlMonth:
    """A ``yyyyMM`` month; rendered as its 6 digits."""

    value: str

    def __post_init__(self) -> None:
        Month.parse(self.value, "month")

    def render(self) -> str:
        return self.value


@dataclass(frozen=True)
class SqlNumber:
    """A finite number (threshold); rendered as a plain decimal literal."""

    value: float

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise InvalidInput(f"threshold must be a number, got {self.value!r}")
        if not math.isfinite(self.value):
            raise InvalidInput(f"threshold must be finite, got {self.value!r}")

    def render(self) -> str:
        text = repr(float(self.value))
        if "e" in text or "E" in text:  # keep literals plain decimals (no exponent)
            text = f"{float(self.value):.17f}".rstrip("0").rstrip(".") or "0"
        return text


@dataclass(frozen=True)
class SqlIdentifier:
    """A database, table or column name from the allow-list pattern ``^[a-z_][a-z0-9_]*$``."""

    value: str

    def __post_init__(self) -> None:
        text = _text("identifier", self.value)
        if IDENTIFIER_RE.fullmatch(text) is None or len(text) > 128:
            raise InvalidInput(f"{text!r} is not an allowed identifier (^[a-z_][a-z0-9_]*$)")

    def render(self) -> str:
        return self.value


@dataclass(frozen=True)
class SqlLocation:
    """An HDFS directory (``hdfs://host:port/path`` or ``/path``) without quotes or spaces."""

    value: str

    def __post_init__(self) -> None:
        text = _text("location", self.value)
        if LOCATION_RE.fullmatch(text) is None or ".." in text.split("/"):
            raise InvalidInput(f"{text!r} is not an allowed HDFS location")

    def render(self) -> str:
        return self.value


SqlValue = SqlDate | SqlMonth | SqlNumber | SqlIdentifier | SqlLocation


def threshold(name: str, value: object, low: float | None = None, high: float | None = None) -> SqlNumber:
    """A numeric threshold from text or a number, optionally within [low, high]."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    number = SqlNumber(value)  # type: ignore[arg-type]
    if (low is not None and number.value < low) or (high is not None and number.value > high):
        raise InvalidInput(f"{name}={number.value} must be within {low}..{high}")
    return number

