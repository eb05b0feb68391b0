"""Loading the ``.sql`` files of ``sql/hive/``: statements, named checks and parameter binding.

Parameter syntax: ``${name}`` (the Hive/beeline variable syntax, so a file also runs under
``beeline --hivevar name=value`` after the same validation by hand). A placeholder is replaced by
the rendering of a validated :mod:`pilot.sql_values` value; a placeholder without a value, a value of
any other type, or a malformed placeholder is an error. Quotes around string values are part of
the ``.sql`` file (``biz_date = '${biz_date}'``), and every value type renders to characters that
cannot close a quote.

Statements are separated by a ``;`` at the end of a line (outside comments and quotes). A checks
file holds queries introduced by ``-- check: <name>`` lines; each returns the offending rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pilot.errors import PilotError
from pilot.settings import REPO_ROOT
from pilot.sql_values import SqlDate, SqlIdentifier, SqlLocation, SqlMonth, SqlNumber, SqlValue

SQL_DIR = REPO_ROOT / "sql" / "hive"
PLACEHOLDER_RE = re.compile(r"\$\{([^}]*)\}")
NAME_RE = re.compile(r"[a-z_][a-z0-9_]*")
CHECK_RE = re.compile(r"^--\s*check:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_VALUE_TYPES = (SqlDate, SqlMonth, SqlNumber, SqlIdentifier, SqlLocation)


class SqlFileError(PilotError):
    """A .sql file that cannot be loaded or bound."""


@dataclass(frozen=True)
class Check:
    name: str
    sql: str
    description: str


@cache
def read_sql(relative: str) -> str:
    path = (SQL_DIR / relative).resolve()
    if SQL_DIR.resolve() not in path.parents:
        raise SqlFileError(f"{relative!r} is outside {SQL_DIR}")
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SqlFileError(f"SQL file {path} does not exist") from None


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER_RE.findall(text))


def bind(text: str, params: Mapping[str, SqlValue]) -> str:
    """Replace every ``${name}`` with the rendering of its validated value."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if NAME_RE.fullmatch(name) is None:
            raise SqlFileError(f"malformed placeholder ${{{name}}}")
        if name not in params:
            raise SqlFileError(f"no value for parameter ${{{name}}}")
        value = params[name]
        if not isinstance(value, _VALUE_TYPES):
            raise SqlFileError(f"parameter {name} must be a validated value, got {type(value).__name__}")
        return value.render()

    return PLACEHOLDER_RE.sub(replace, text)


def split_statements(text: str) -> list[str]:
    """Statements separated by ``;`` at a line end, ignoring ``--`` comments and quoted text."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            current.append(ch)
            if ch == "\\" and i + 1 < len(text):
                current.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = None
        elif ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            current.append(text[i:end])
            i = end
            continue
        elif ch in "'\"`":
            quote = ch
            current.append(ch)
        elif ch == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quote:
        raise SqlFileError("unterminated quoted text")
    statements.append("".join(current))
    return [s for s in (_strip_comments(s) for s in statements) if s]


def _strip_comments(statement: str) -> str:
    lines = [line for line in statement.strip().splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip()


def statements(relative: str, params: Mapping[str, SqlValue]) -> list[str]:
    """The bound statements of one file."""
    return split_statements(bind(read_sql(relative), params))


def checks(relative: str, params: Mapping[str, SqlValue]) -> list[Check]:
    """The named checks of a checks file, bound; each query returns offending rows."""
    text = read_sql(relative)
    marks = list(CHECK_RE.finditer(text))
    if not marks:
        raise SqlFileError(f"{relative} has no '-- check: <name>' sections")
    found: list[Check] = []
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        body = text[mark.end():end]
        description = " ".join(
            line.lstrip("- ").strip() for line in body.strip().splitlines()
            if line.lstrip().startswith("--")
        )
        queries = split_statements(bind(body, params))
        if len(queries) != 1:
            raise SqlFileError(f"check {mark.group(1)} in {relative} must hold exactly one query")
        found.append(Check(mark.group(1), queries[0], description))
    names = [c.name for c in found]
    if len(set(names)) != len(names):
        raise SqlFileError(f"{relative} repeats a check name")
    return found


def sql_files(subdir: str) -> list[Path]:
    return sorted((SQL_DIR / subdir).glob("*.sql"))


def source_path(relative: str) -> Path:
    return SQL_DIR / relative


__all__ = [
    "SQL_DIR",
    "Check",
    "SqlFileError",
    "bind",
    "checks",
    "placeholders",
    "read_sql",
    "source_path",
    "split_statements",
    "sql_files",
    "statements",
]
