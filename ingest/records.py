"""Record layouts of the smart-car domain and strict line parsers (stdlib only).

Every parser takes one raw line (bytes or str, with or without its line ending) and returns the
validated, normalised fields as a tuple of strings, or raises :class:`Rejected` with a stable
``reason`` code. Normalisation: surrounding whitespace and a UTF-8 byte-order mark are removed,
each field is stripped and integers are written without leading zeros. A canonical line (as the
simulator writes it) comes back unchanged.

Reason codes (stable, used by the dead-letter topic and the collectors' reports):

``undecodable``   the bytes are not UTF-8
``empty``         nothing but whitespace
``header``        the line does not start with a digit (file headers, comments)
``field_count``   wrong number of comma-separated fields
``bad_timestamp`` event time is not ``yyyyMMddHHmmss`` or not a real calendar date and clock time
``bad_number``    a numeric field is not a plain non-negative integer
``out_of_range``  a numeric field is outside its range
``bad_domain``    a coded field (car number, light, engine, brake, steering, signal, area) has an
                  unknown value
``unknown_car``   a well-formed car number that is not in ``known_cars``
``inconsistent``  fields contradict each other (brake pressed together with the accelerator)
``bad_wrk_date``  the collection date of a collected status line is not a real ``yyyyMMdd`` date

Ranges: tyre pressure and battery are integers 0–100 (the simulator's and the original pilot's
scale: a percentage of nominal); speed is 0–250 km/h; accelerator 0–5, brake 0–3.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

STATUS_FIELDS: tuple[str, ...] = (
    "reg_date", "car_number",
    "tire_fl", "tire_fr", "tire_bl", "tire_br",
    "light_fl", "light_fr", "light_bl", "light_br",
    "engine", "break", "battery",
)
STATUS_FIELDS_COLLECTED: tuple[str, ...] = (*STATUS_FIELDS, "wrk_date")
DRIVE_FIELDS: tuple[str, ...] = (
    "r_date", "car_number", "speed_pedal", "break_pedal", "steer_angle", "direct_light", "speed",
    "area_number",
)
MASTER_FIELDS: tuple[str, ...] = (
    "car_number", "sex", "age", "marriage", "region", "job", "car_capacity", "car_year", "car_model",
)
BUYLIST_FIELDS: tuple[str, ...] = ("car_number", "item", "score", "month")

TIRE_RANGE = (0, 100)
BATTERY_RANGE = (0, 100)
SPEED_RANGE = (0, 250)
SPEED_PEDAL_RANGE = (0, 5)
BREAK_PEDAL_RANGE = (0, 3)
LIGHT_CODES = ("1", "2")
DEVICE_CODES = ("A", "B", "C")
STEER_CODES = ("F", "L1", "L2", "L3", "R1", "R2", "R3")
SHARP_STEER_CODES = ("L2", "L3", "R2", "R3")
SIGNAL_CODES = ("N", "L", "R")
AREA_LETTERS = "ABCDEF"
CAR_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CARS_PER_LETTER = 100

REASONS: tuple[str, ...] = (
    "undecodable", "empty", "header", "field_count", "bad_timestamp", "bad_number", "out_of_range",
    "bad_domain", "unknown_car", "inconsistent", "bad_wrk_date",
)

CAR_NUMBER_PATTERN = r"[A-Z](?:00(?:0[1-9]|[1-9][0-9])|0100)"
AREA_PATTERN = r"[A-F](?:0[1-9]|10)"
_CAR_RE = re.compile(CAR_NUMBER_PATTERN)
_AREA_RE = re.compile(AREA_PATTERN)
_DIGITS_RE = re.compile(r"[0-9]+")


class Rejected(ValueError):
    """A line that fails validation; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
        self.field = field


Validator = Callable[[str], str]


@lru_cache(maxsize=4096)
def _is_calendar_day(text: str) -> bool:
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return True


def is_valid_date(text: str) -> bool:
    """True for a real calendar date written as ``yyyyMMdd``."""
    return len(text) == 8 and text.isascii() and text.isdigit() and _is_calendar_day(text)


def is_valid_timestamp(text: str) -> bool:
    """True for a real date and clock time written as ``yyyyMMddHHmmss`` (hours 00–23)."""
    if len(text) != 14 or not (text.isascii() and text.isdigit()):
        return False
    return (
        int(text[8:10]) < 24 and int(text[10:12]) < 60 and int(text[12:14]) < 60
        and _is_calendar_day(text[:8])
    )


def _timestamp(name: str) -> Validator:
    def check(value: str) -> str:
        if not is_valid_timestamp(value):
            raise Rejected("bad_timestamp", f"{name}={value!r} is not a real yyyyMMddHHmmss time", name)
        return value
    return check


def _integer(name: str, low: int, high: int) -> Validator:
    def check(value: str) -> str:
        if _DIGITS_RE.fullmatch(value) is None:
            raise Rejected("bad_number", f"{name}={value!r} is not a non-negative integer", name)
        number = int(value)
        if not low <= number <= high:
            raise Rejected("out_of_range", f"{name}={number} outside {low}..{high}", name)
        return str(number)
    return check


def _code(name: str, allowed: Sequence[str]) -> Validator:
    allowed_set = frozenset(allowed)

    def check(value: str) -> str:
        if value not in allowed_set:
            raise Rejected("bad_domain", f"{name}={value!r} not in {'/'.join(allowed)}", name)
        return value
    return check


def _pattern(name: str, regex: re.Pattern[str], what: str) -> Validator:
    def check(value: str) -> str:
        if regex.fullmatch(value) is None:
            raise Rejected("bad_domain", f"{name}={value!r} is not {what}", name)
        return value
    return check


def _wrk_date(value: str) -> str:
    if not is_valid_date(value):
        raise Rejected("bad_wrk_date", f"wrk_date={value!r} is not a real yyyyMMdd date", "wrk_date")
    return value


_car = _pattern("car_number", _CAR_RE, "a car number A0001..Z0100")

_STATUS_SPEC: tuple[Validator, ...] = (
    _timestamp("reg_date"),
    _car,
    *(_integer(name, *TIRE_RANGE) for name in STATUS_FIELDS[2:6]),
    *(_code(name, LIGHT_CODES) for name in STATUS_FIELDS[6:10]),
    _code("engine", DEVICE_CODES),
    _code("break", DEVICE_CODES),
    _integer("battery", *BATTERY_RANGE),
)
_COLLECTED_SPEC: tuple[Validator, ...] = (*_STATUS_SPEC, _wrk_date)
_DRIVE_SPEC: tuple[Validator, ...] = (
    _timestamp("r_date"),
    _car,
    _integer("speed_pedal", *SPEED_PEDAL_RANGE),
    _integer("break_pedal", *BREAK_PEDAL_RANGE),
    _code("steer_angle", STEER_CODES),
    _code("direct_light", SIGNAL_CODES),
    _integer("speed", *SPEED_RANGE),
    _pattern("area_number", _AREA_RE, "an area A01..F10"),
)

_TS = r"[0-9]{8}(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"
_PCT = r"(?:100|[1-9]?[0-9])"
_STATUS_BODY = (
    rf"{_TS},{CAR_NUMBER_PATTERN},{_PCT},{_PCT},{_PCT},{_PCT},[12],[12],[12],[12],[ABC],[ABC],{_PCT}"
)
_STATUS_FAST = re.compile(_STATUS_BODY)
_COLLECTED_FAST = re.compile(rf"{_STATUS_BODY},[0-9]{{8}}")
_SPEED = r"(?:250|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DRIVE_BODY = rf"{_TS},{CAR_NUMBER_PATTERN},(?:0,[0-3]|[1-5],0),(?:F|[LR][123]),[NLR],{_SPEED},{AREA_PATTERN}"
_DRIVE_FAST = re.compile(_DRIVE_BODY)


def _many(line: str) -> re.Pattern[bytes]:
    """Newline-separated lines, each one a full match of ``line`` (bytes)."""
    return re.compile(rf"(?:{line}\n)*{line}".encode("ascii"))


_MANY_COLLECTED = _many(rf"{_STATUS_BODY},[0-9]{{8}}")


def _many_one_day(body: str, wrk_date: bool) -> re.Pattern[bytes]:
    """Like :func:`_many`, and every line has the first line's event date (and, with ``wrk_date``,
    its collection date): back references check that in the same pass, no date lists needed."""
    date = "[0-9]{8}"
    assert body.startswith(date)
    rest = body[len(date):]
    first = rf"(?P<event>{date}){rest}" + (rf",(?P<wrk>{date})" if wrk_date else "")
    later = rf"(?P=event){rest}" + (r",(?P=wrk)" if wrk_date else "")
    return re.compile(rf"{first}(?:\n{later})*+".encode("ascii"))


_ONE_DAY_DRIVE = _many_one_day(_DRIVE_BODY, wrk_date=False)
_ONE_DAY_COLLECTED = _many_one_day(_STATUS_BODY, wrk_date=True)
_LINE_FIRST_DATE = re.compile(rb"^[0-9]{8}", re.M)
_LINE_LAST_DATE = re.compile(rb"[0-9]{8}$", re.M)


def _text(raw: bytes | str) -> str:
    if isinstance(raw, bytes | bytearray | memoryview):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Rejected("undecodable", f"not UTF-8 at byte {exc.start}") from None
    return raw.strip().lstrip("\ufeff").strip()


def _check_car(car: str, known_cars: frozenset[str] | None) -> None:
    if known_cars is not None and car not in known_cars:
        raise Rejected("unknown_car", f"car_number={car!r} is not in the car master", "car_number")


def _parse_slow(
    line: str, spec: Sequence[Validator], known_cars: frozenset[str] | None,
) -> tuple[str, ...]:
    if not line:
        raise Rejected("empty", "blank line")
    if not ("0" <= line[0] <= "9"):
        raise Rejected("header", f"line starts with {line[0]!r}, not a digit")
    parts = line.split(",")
    if len(parts) != len(spec):
        raise Rejected("field_count", f"{len(parts)} fields, expected {len(spec)}")
    fields: list[str] = []
    for index, (check, part) in enumerate(zip(spec, parts, strict=True)):
        fields.append(check(part.strip()))
        if index == 1:
            _check_car(fields[1], known_cars)
    return tuple(fields)


def _parse(
    raw: bytes | str,
    fast: re.Pattern[str],
    spec: Sequence[Validator],
    known_cars: frozenset[str] | None,
    extra_date_at: int | None = None,
) -> tuple[str, ...]:
    line = _text(raw)
    if fast.fullmatch(line) is not None and _is_calendar_day(line[:8]) and (
        extra_date_at is None or _is_calendar_day(line[extra_date_at:])
    ):
        fields = tuple(line.split(","))
        _check_car(fields[1], known_cars)
        return fields
    return _parse_slow(line, spec, known_cars)


def parse_status_line(raw: bytes | str, known_cars: frozenset[str] | None = None) -> tuple[str, ...]:
    """Validate one 13-field status line (``SmartCarStatusInfo``) and return its fields."""
    return _parse(raw, _STATUS_FAST, _STATUS_SPEC, known_cars)


def parse_collected_status_line(
    raw: bytes | str, known_cars: frozenset[str] | None = None,
) -> tuple[str, ...]:
    """Validate a status line with the collection date appended (14 fields, last ``wrk_date``)."""
    return _parse(raw, _COLLECTED_FAST, _COLLECTED_SPEC, known_cars, extra_date_at=-8)


def _check_pedals(fields: tuple[str, ...]) -> tuple[str, ...]:
    if fields[2] != "0" and fields[3] != "0":
        raise Rejected(
            "inconsistent",
            f"break_pedal={fields[3]} while speed_pedal={fields[2]} (brake only without accelerator)",
            "break_pedal",
        )
    return fields


def parse_drive_line(raw: bytes | str, known_cars: frozenset[str] | None = None) -> tuple[str, ...]:
    """Validate one 8-field driving event line (``SmartCar-Topic``) and return its fields."""
    return _check_pedals(_parse(raw, _DRIVE_FAST, _DRIVE_SPEC, known_cars))


def _one_real_date(dates: set[bytes]) -> str | None:
    texts = [d.decode("ascii") for d in dates]
    if all(_is_calendar_day(d) for d in texts):
        return texts[0] if len(texts) == 1 else ""
    return None


def canonical_block(values: Sequence[bytes], collected_status: bool = False) -> tuple[str, bytes] | None:
    """The loaders' fast path for many records at once.

    When every value is a valid driving line (or, with ``collected_status``, a status line with its
    collection date) already in the form :func:`parse_drive_line` /
    :func:`parse_collected_status_line` would return unchanged, and all of them belong to one
    ``wrk_date`` (driving: the event date; status: the collection date), return that date and the
    lines as newline-terminated bytes. Otherwise return None and let the caller validate record by
    record (which rejects, normalises and splits by date).
    """
    if not values:
        return None
    blob = b"\n".join(values)
    if blob.count(b"\n") != len(values) - 1:  # a value with a line break of its own
        return None
    same_day = (_ONE_DAY_COLLECTED if collected_status else _ONE_DAY_DRIVE).fullmatch(blob)
    if same_day is not None:  # the usual block: one event date (and one collection date)
        event_date = same_day["event"].decode("ascii")
        wrk_date = same_day["wrk"].decode("ascii") if collected_status else event_date
        real = _is_calendar_day(event_date) and _is_calendar_day(wrk_date)
        return (wrk_date, blob + b"\n") if real else None
    if not collected_status:  # a driving line's partition is its own event date: one per block
        return None
    # status lines of several event days, collected on one day (one partition)
    if _MANY_COLLECTED.fullmatch(blob) is None or _one_real_date(set(_LINE_FIRST_DATE.findall(blob))) is None:
        return None
    wrk_date = _one_real_date(set(_LINE_LAST_DATE.findall(blob)))
    return (wrk_date, blob + b"\n") if wrk_date else None


def status_event_id(fields: Sequence[str]) -> str:
    """Identity of a status record, ``<car_number>-<reg_date>`` (the collection date is ignored)."""
    return f"{fields[1]}-{fields[0]}"


def drive_event_id(fields: Sequence[str]) -> str:
    """Identity of a driving event, ``<car_number>-<r_date>``."""
    return f"{fields[1]}-{fields[0]}"


def format_line(fields: Iterable[str]) -> str:
    """The comma-separated line of a record, without line ending."""
    return ",".join(fields)


def read_known_cars(master_path: str | Path) -> frozenset[str]:
    """Car numbers of a ``CarMaster.txt`` file (first ``|``-separated field of each line)."""
    text = Path(master_path).read_text(encoding="utf-8")
    return frozenset(line.split("|", 1)[0].strip() for line in text.splitlines() if line.strip())
