"""Turning raw lines into Kafka records (key, value) or dead letters, with the collection date."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

from ingest.dlq import DeadLetter, raw_text
from ingest.records import Rejected, is_valid_date, parse_drive_line, parse_status_line
from pilot.errors import PilotError

Record = tuple[bytes, bytes]  # (key, value)

# The original pilot's collector kept only lines starting with a 14-digit timestamp.
_STARTS_WITH_TIMESTAMP = re.compile(rb"\s*(?:\xef\xbb\xbf)?\s*[0-9]{14}")


def today() -> str:
    return dt.date.today().strftime("%Y%m%d")


def check_wrk_date(text: str | None) -> str:
    """The collection date ``yyyyMMdd`` (default: today); PilotError unless a real date."""
    if text is None or text == "":
        return today()
    if not is_valid_date(text):
        raise PilotError(f"--wrk-date {text!r} is not a real date written yyyyMMdd (e.g. 20200322)")
    return text


def status_record(raw: bytes, wrk_date: bytes, known_cars: frozenset[str] | None = None) -> Record:
    """A status line as a ``smartcar-status`` record: key car number, value 13 fields + wrk_date.

    Raises :class:`Rejected`; a line that does not start with a 14-digit timestamp is rejected
    as ``header`` (file headers, comments), as the original pilot's collector dropped them.
    """
    try:
        fields = parse_status_line(raw, known_cars)
    except Rejected as exc:
        if exc.reason not in ("undecodable", "empty", "header") and not _STARTS_WITH_TIMESTAMP.match(raw):
            raise Rejected("header", f"line does not start with a 14-digit timestamp ({exc.message})",
                           exc.field) from None
        raise
    return fields[1].encode("ascii"), ",".join(fields).encode("utf-8") + b"," + wrk_date


def drive_record(raw: bytes, known_cars: frozenset[str] | None = None) -> Record:
    """A driving line as a ``SmartCar-Topic`` record: key car number, value the 8 fields."""
    fields = parse_drive_line(raw, known_cars)
    return fields[1].encode("ascii"), ",".join(fields).encode("utf-8")


def dead_letter(source: str, exc: Rejected, raw: bytes, line: int | None) -> Record:
    """A ``smartcar-dlq`` record: key the source, value the :class:`DeadLetter` JSON."""
    letter = DeadLetter(source=source, reason=exc.reason, message=exc.message,
                        raw=raw_text(raw.rstrip(b"\r")), line=line, at=time.time())
    return source.encode("utf-8"), letter.to_json()


Builder = Callable[[bytes], Record]
