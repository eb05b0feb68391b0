"""The run's dates as values: a day (``yyyyMMdd``) and a month (``yyyyMM``).

A date enters as text at the edge (a CLI argument, a DAG param, a run spec), is parsed here once,
and travels down as a :class:`Day` or :class:`Month`. These are the only validators of the two
formats; a bad string is rejected with a message that names the field and the expected form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pilot.errors import InvalidInput

# The shape of a yyyyMMdd day as a JSON-schema pattern (for forms such as Airflow's trigger form,
# which can reject month 13 or day 32 before a run exists). Day.parse stays the validator: only
# it knows that 20200230 is not a day.
DAY_PATTERN = r"[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"


def _digits(value: object, length: int, name: str, form: str, example: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text {form}, got {type(value).__name__}")
    if not (len(value) == length and value.isascii() and value.isdigit()):
        raise InvalidInput(f"{name} must be {form} ({length} digits, e.g. {example}), got {value!r}")
    return value


@dataclass(frozen=True, order=True)
class Day:
    """A calendar day; ``str(day)`` is its ``yyyyMMdd`` text."""

    date: dt.date

    @classmethod
    def parse(cls, text: object, name: str = "date") -> Day:
        digits = _digits(text, 8, name, "yyyyMMdd", "20200322")
        try:
            return cls(dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:])))
        except ValueError:
            raise InvalidInput(f"{name} {digits!r} is not a real calendar date (yyyyMMdd)") from None

    @classmethod
    def of(cls, value: Day | str, name: str = "date") -> Day:
        """``value`` itself when it is a Day already (parsed at the edge), else parsed."""
        return value if isinstance(value, Day) else cls.parse(value, name)

    @property
    def text(self) -> str:
        return self.date.strftime("%Y%m%d")

    @property
    def month(self) -> Month:
        return Month(self.date.year, self.date.month)

    @property
    def iso(self) -> str:
        return self.date.isoformat()

    def plus(self, days: int) -> Day:
        return Day(self.date + dt.timedelta(days=days))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; ``str(month)`` is its ``yyyyMM`` text."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not (1 <= self.year <= 9999 and 1 <= self.number <= 12):
            raise InvalidInput(f"month must be a real month, got {self.year:04d}-{self.number:02d}")

    @classmethod
    def parse(cls, text: object, name: str = "month") -> Month:
        digits = _digits(text, 6, name, "yyyyMM", "202003")
        if not 1 <= int(digits[4:]) <= 12:
            raise InvalidInput(f"{name} must be yyyyMM with a month 01-12, got {digits!r}")
        return cls(int(digits[:4]), int(digits[4:]))

    @classmethod
    def of(cls, value: Month | str, name: str = "month") -> Month:
        return value if isinstance(value, Month) else cls.parse(value, name)

    @property
    def text(self) -> str:
        return f"{self.year:04d}{self.number:02d}"

    def __str__(self) -> str:
        return self.text
