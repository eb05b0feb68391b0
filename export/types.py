"""Target column types and the conversion of mart text values into them.

Each PostgreSQL column type (as ``format_type`` prints it) gets a converter from the Hive text
value to a *canonical* text: the exact text PostgreSQL prints for the stored value with the
rendering of :func:`sql_text` (used by the checksum), so source and target checksums agree.
Types with a canonical text form also get a regular expression that accepts only values already
in canonical form; lines matching it need no per-value work.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from pilot.errors import PilotError

_SAFE = r"[^\t\n\r\\\x00]"  # characters that need no escaping in COPY text format
INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}
INT_PATTERNS = {  # canonical integers whose digit count surely fits the type
    "smallint": r"0|-?[1-9][0-9]{0,3}",
    "integer": r"0|-?[1-9][0-9]{0,8}",
    "bigint": r"0|-?[1-9][0-9]{0,17}",
}
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_TYPE_RE = re.compile(
    r"(?P<name>smallint|integer|bigint|numeric|double precision|boolean|date|text"
    r"|character varying|character)(?:\((?P<args>[0-9, ]+)\))?"
)


class UnsupportedType(PilotError):
    """A target column type the exporter cannot convert into."""


class ConversionError(ValueError):
    """A value that does not convert to its column's type (the message says why)."""


Converter = Callable[[str], str]


@dataclass(frozen=True)
class ColumnType:
    name: str  # smallint, integer, bigint, numeric, double precision, boolean, date, text, varchar, char
    length: int | None = None  # varchar/char length
    precision: int | None = None  # numeric precision
    scale: int | None = None  # numeric scale

    @classmethod
    def parse(cls, text: str) -> ColumnType:
        match = _TYPE_RE.fullmatch(text.strip().lower())
        if match is None:
            raise UnsupportedType(f"column type {text!r} is not supported by the exporter")
        name, args = match.group("name"), match.group("args")
        numbers = [int(a) for a in args.split(",")] if args else []
        if name == "character varying":
            return cls("varchar", length=numbers[0] if numbers else None)
        if name == "character":
            return cls("char", length=numbers[0] if numbers else 1)
        if name == "numeric":
            if numbers:
                return cls("numeric", precision=numbers[0], scale=numbers[1] if len(numbers) > 1 else 0)
            return cls("numeric")
        return cls(name)

    @property
    def is_float(self) -> bool:
        return self.name == "double precision"

    def fast_pattern(self) -> str | None:
        """A regex (text) matching exactly the canonical values of this type, or None.

        The pattern may be a bare alternation: callers wrap it in a group (flat alternations with
        the NULL marker are measurably faster than nested groups)."""
        if self.name in INT_PATTERNS:
            return INT_PATTERNS[self.name]
        if self.name == "boolean":
            return "true|false"
        if self.name in ("varchar", "text"):
            return f"{_SAFE}*" if self.length is None else f"{_SAFE}{{0,{self.length}}}"
        if self.name == "char" and self.length:
            return f"(?:{_SAFE}{{0,{self.length - 1}}}[^\\t\\n\\r\\\\\\x00 ])?"
        if self.name == "numeric" and self.precision and self.scale:
            whole = self.precision - self.scale
            digits = "0" if whole <= 0 else f"(?:0|[1-9][0-9]{{0,{whole - 1}}})"
            return f"(?:-(?=[0-9.]*[1-9]))?{digits}\\.[0-9]{{{self.scale}}}"
        return None  # dates, floats, unconstrained numerics: converted value by value

    def converter(self) -> Converter:
        if self.name in INT_RANGES:
            return _integer(INT_RANGES[self.name], self.name)
        if self.name == "numeric":
            return _numeric(self.precision, self.scale)
        if self.is_float:
            return _float
        if self.name == "boolean":
            return _boolean
        if self.name == "date":
            return _date
        if self.name in ("varchar", "text"):
            return _string(self.length, strip=False)
        if self.name == "char":
            return _string(self.length, strip=True)
        raise UnsupportedType(f"column type {self.name} is not supported by the exporter")

    def sql_text(self) -> str:
        """SQL template (``{}`` = the column) rendering a value as its canonical text."""
        if self.name == "date":
            return "to_char({}, 'YYYY-MM-DD')"
        if self.is_float:
            return "({})::numeric::text"
        if self.name in ("varchar", "text"):
            return "{}"
        return "({})::text"


def _integer(limit: int, name: str) -> Converter:
    def convert(value: str) -> str:
        text = value.strip()
        if _INT_TEXT.fullmatch(text) is None:
            raise ConversionError(f"{value!r} is not an integer")
        number = int(text)
        if not -limit <= number < limit:
            raise ConversionError(f"{number} is out of range for {name}")
        return str(number)
    return convert


def _decimal(value: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise ConversionError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ConversionError(f"{value!r} is not a finite number")
    return number


def _zero_unsigned(number: Decimal, text: str) -> str:
    return text[1:] if number == 0 and text.startswith("-") else text


def _numeric(precision: int | None, scale: int | None) -> Converter:
    if precision is None:
        def unconstrained(value: str) -> str:
            number = _decimal(value)
            return _zero_unsigned(number, format(number, "f"))
        return unconstrained
    places = scale or 0
    quantum = Decimal(1).scaleb(-places)

    def convert(value: str) -> str:
        try:
            number = _decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise ConversionError(f"{value!r} does not fit numeric({precision},{places})") from None
        whole = max(number.adjusted() + 1, 0) if number else 0
        if whole > precision - places:
            raise ConversionError(f"{value!r} does not fit numeric({precision},{places})")
        return _zero_unsigned(number, format(number, "f"))
    return convert


def float_copy_text(value: str) -> str:
    """What is sent to COPY for a float column: the value at full precision."""
    return repr(float(value.strip()))


def _float(value: str) -> str:
    try:
        number = float(value.strip())
    except ValueError:
        raise ConversionError(f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConversionError(f"{value!r} is not a finite number")
    if number == 0:
        return "0"
    # The canonical text is PostgreSQL's float8::numeric::text: 15 significant digits (DBL_DIG).
    return format(Decimal(format(number, ".15g")), "f")


_TRUE = frozenset(("t", "true", "y", "yes", "on", "1"))
_FALSE = frozenset(("f", "false", "n", "no", "off", "0"))


def _boolean(value: str) -> str:
    text = value.strip().lower()
    if text in _TRUE:
        return "true"
    if text in _FALSE:
        return "false"
    raise ConversionError(f"{value!r} is not a boolean")


@lru_cache(maxsize=4096)
def _date(value: str) -> str:
    text = value.strip()
    try:
        if len(text) == 8 and text.isdigit():
            day = dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        else:
            day = dt.date.fromisoformat(text)
    except ValueError:
        raise ConversionError(f"{value!r} is not a date (yyyyMMdd or yyyy-MM-dd)") from None
    return day.isoformat()


def _string(length: int | None, strip: bool) -> Converter:
    def convert(value: str) -> str:
        if "\x00" in value:
            raise ConversionError("text contains a NUL character")
        text = value.rstrip(" ") if strip else value
        if length is not None and len(text) > length:
            raise ConversionError(f"{value!r} is longer than {length} characters")
        return text
    return convert
