"""Mart text lines -> PostgreSQL COPY text lines, validated, with an order-free checksum.

Mart files are Hive TEXTFILE written by LazySimpleSerDe with tab-separated fields, ``\\`` escapes
(for tab, backslash, CR and LF) and ``\\N`` for NULL — already PostgreSQL's COPY text format.
A chunk whose every line matches the table's canonical-value regex is passed through unchanged
(one regex call per chunk); other lines are parsed, converted value by value and re-encoded.

Checksum (:mod:`export.checksum`): the sum over rows of a 64-bit hash of each row's canonical text
(canonical values joined by tabs, NULL as ``\\N``). PostgreSQL computes the same sum over the
target with :func:`export.verify.checksum_sql`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from export.checksum import sum_lines, sum_rows
from export.types import ColumnType, ConversionError, float_copy_text

NULL = "\\N"
_ANY = r"[^\t\n\r\\\x00]*"


@dataclass(frozen=True)
class FieldSpec:
    """One exported column: its name, target type and whether NULL is allowed."""

    name: str
    type: ColumnType
    nullable: bool = True


@dataclass
class BadLine:
    offset: int  # byte offset of the line in its chunk (the worker turns it into a file offset)
    reason: str
    text: str


@dataclass
class ChunkResult:
    data: bytes
    rows: int
    checksum: int
    bad: list[BadLine] = field(default_factory=list)


def split_hive_fields(line: str) -> list[str | None]:
    """Fields of a LazySimpleSerDe line: tab-separated, ``\\`` escapes, ``\\N`` = NULL."""
    if "\\" not in line:
        return [None if f == NULL else f for f in line.split("\t")]
    fields: list[str | None] = []
    current: list[str] = []
    is_null = False
    i, size = 0, len(line)
    while i < size:
        ch = line[i]
        if ch == "\\" and i + 1 < size:
            nxt = line[i + 1]
            if nxt == "N" and not current and not is_null and (i + 2 == size or line[i + 2] == "\t"):
                is_null = True
            else:
                current.append("\n" if nxt == "n" else "\r" if nxt == "r" else nxt)
            i += 2
            continue
        if ch == "\t":
            fields.append(None if is_null else "".join(current))
            current, is_null = [], False
        else:
            current.append(ch)
        i += 1
    fields.append(None if is_null else "".join(current))
    return fields


def copy_escape(value: str | None) -> str:
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


class LineCodec:
    """Validates and converts the lines of one mart's files for COPY into the target columns."""

    def __init__(
        self, source_columns: Sequence[str], fields: Sequence[FieldSpec], selection: Sequence[int],
        checksum: str = "hashtext",
    ) -> None:
        if len(fields) != len(selection):
            raise ValueError("one field spec per selected column")
        self.source_columns = list(source_columns)
        self.fields = list(fields)
        self.selection = list(selection)
        self.checksum = checksum
        self.converters = [f.type.converter() for f in fields]
        patterns: list[str] = [f"(?:{_ANY}|\\\\N)"] * len(source_columns)
        self.fast_ok = True
        for spec, index in zip(fields, selection, strict=True):
            pattern = spec.type.fast_pattern()
            if pattern is None:
                self.fast_ok = False
                break
            patterns[index] = f"(?:{pattern}|\\\\N)" if spec.nullable else f"(?:{pattern})"
        line = "\t".join(patterns)
        self.line_re = re.compile(line) if self.fast_ok else None
        self.chunk_re = re.compile(f"(?:{line}\n)*+") if self.fast_ok else None
        self.identity = self.selection == list(range(len(source_columns)))

    # -- one line, the careful way ---------------------------------------------------------
    def convert_line(self, text: str) -> tuple[str, str]:
        """(COPY line, canonical text) of one line; raises ConversionError with the reason."""
        values = split_hive_fields(text)
        if len(values) != len(self.source_columns):
            raise ConversionError(f"{len(values)} fields, expected {len(self.source_columns)}")
        copy_parts: list[str] = []
        canonical_parts: list[str] = []
        for spec, convert, index in zip(self.fields, self.converters, self.selection, strict=True):
            raw = values[index]
            if raw is None:
                if not spec.nullable:
                    raise ConversionError(f"column {spec.name}: NULL in a NOT NULL column")
                copy_parts.append(NULL)
                canonical_parts.append(NULL)
                continue
            try:
                canonical = convert(raw)
            except ConversionError as exc:
                raise ConversionError(f"column {spec.name}: {exc}") from None
            copy_parts.append(copy_escape(float_copy_text(raw) if spec.type.is_float else canonical))
            canonical_parts.append(canonical)
        return "\t".join(copy_parts), "\t".join(canonical_parts)

    # -- a chunk of complete lines ----------------------------------------------------------
    def process(self, chunk: bytes) -> ChunkResult:
        """Convert a chunk of complete ``\\n``-terminated lines."""
        if not chunk:
            return ChunkResult(b"", 0, 0)
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and self.identity and self.chunk_re is not None and self.chunk_re.fullmatch(text):
            return ChunkResult(chunk, chunk.count(b"\n"), sum_lines(chunk, self.checksum))
        return self._line_by_line(chunk)

    def _line_by_line(self, chunk: bytes) -> ChunkResult:
        out: list[bytes] = []
        canonical: list[bytes] = []
        bad: list[BadLine] = []
        offset = 0
        line_re = self.line_re
        for raw in chunk.split(b"\n")[:-1]:
            start, offset = offset, offset + len(raw) + 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                excerpt = raw[:200].decode("utf-8", "replace")
                bad.append(BadLine(start, f"not UTF-8 at byte {exc.start}", excerpt))
                continue
            if line_re is not None and line_re.fullmatch(text):
                if self.identity:
                    out.append(raw)
                    canonical.append(raw)
                else:
                    parts = raw.split(b"\t")
                    picked = b"\t".join([parts[i] for i in self.selection])
                    out.append(picked)
                    canonical.append(picked)
                continue
            try:
                copy_line, canonical_line = self.convert_line(text)
            except ConversionError as exc:
                bad.append(BadLine(start, str(exc), text[:200]))
                continue
            out.append(copy_line.encode("utf-8"))
            canonical.append(canonical_line.encode("utf-8"))
        data = b"\n".join(out) + b"\n" if out else b""
        return ChunkResult(data, len(out), sum_rows(canonical, self.checksum), bad)
