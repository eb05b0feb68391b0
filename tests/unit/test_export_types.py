"""Target types: conversion to canonical text, and fast patterns that accept only canonical values."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from export.types import ColumnType, ConversionError, UnsupportedType


def convert(type_text: str, value: str) -> str:
    return ColumnType.parse(type_text).converter()(value)


@pytest.mark.parametrize(
    ("type_text", "expected"),
    [
        ("smallint", ColumnType("smallint")),
        ("integer", ColumnType("integer")),
        ("numeric(12,6)", ColumnType("numeric", precision=12, scale=6)),
        ("numeric", ColumnType("numeric")),
        ("character varying(14)", ColumnType("varchar", length=14)),
        ("character varying", ColumnType("varchar")),
        ("character(6)", ColumnType("char", length=6)),
        ("boolean", ColumnType("boolean")),
        ("date", ColumnType("date")),
        ("double precision", ColumnType("double precision")),
    ],
)
def test_parse(type_text: str, expected: ColumnType) -> None:
    assert ColumnType.parse(type_text) == expected


@pytest.mark.parametrize("type_text", ["jsonb", "timestamp without time zone", "real", "integer[]"])
def test_unsupported_types(type_text: str) -> None:
    with pytest.raises(UnsupportedType):
        ColumnType.parse(type_text).converter()


@pytest.mark.parametrize(
    ("type_text", "value", "canonical"),
    [
        ("smallint", "007", "7"),
        ("smallint", "-32768", "-32768"),
        ("integer", " 42 ", "42"),
        ("bigint", "+5", "5"),
        ("numeric(12,6)", "1.5", "1.500000"),
        ("numeric(12,6)", "1.0E-5", "0.000010"),
        ("numeric(12,6)", "0.1234565", "0.123457"),
        ("numeric(12,6)", "-0.0000001", "0.000000"),
        ("numeric(4,2)", "99.994", "99.99"),
        ("numeric", "1E+2", "100"),
        ("numeric", "-0", "0"),
        ("numeric", "1.50", "1.50"),
        ("boolean", "TRUE", "true"),
        ("boolean", "f", "false"),
        ("boolean", "1", "true"),
        ("date", "20200322", "2020-03-22"),
        ("date", "2020-03-22", "2020-03-22"),
        ("character varying(4)", "프리랜서", "프리랜서"),
        ("character(6)", "2020  ", "2020"),
        ("double precision", "0.30000000000000004", "0.3"),
        ("double precision", "1.0E-5", "0.00001"),
        ("double precision", "-0.0", "0"),
        ("double precision", "1e20", "100000000000000000000"),
    ],
)
def test_conversions(type_text: str, value: str, canonical: str) -> None:
    assert convert(type_text, value) == canonical


@pytest.mark.parametrize(
    ("type_text", "value", "reason"),
    [
        ("smallint", "32768", "out of range"),
        ("integer", "1.5", "not an integer"),
        ("integer", "x7", "not an integer"),
        ("integer", "", "not an integer"),
        ("numeric(4,2)", "100.00", "does not fit"),
        ("numeric(12,6)", "NaN", "finite"),
        ("numeric(12,6)", "abc", "not a number"),
        ("boolean", "maybe", "not a boolean"),
        ("date", "20200230", "not a date"),
        ("character varying(4)", "abcde", "longer than 4"),
        ("text", "a\x00b", "NUL"),
        ("double precision", "inf", "finite"),
    ],
)
def test_conversion_errors(type_text: str, value: str, reason: str) -> None:
    with pytest.raises(ConversionError, match=reason):
        convert(type_text, value)


def fast(type_text: str) -> re.Pattern[str]:
    pattern = ColumnType.parse(type_text).fast_pattern()
    assert pattern is not None
    return re.compile(pattern)


@pytest.mark.parametrize(
    ("type_text", "good", "bad"),
    [
        ("smallint", ["0", "7", "-32", "9999"], ["07", "-0", "+1", "99999", "1.0", ""]),
        (
            "numeric(12,6)",
            ["0.000000", "1.500000", "-2.000000", "123456.123456"],
            ["1.5", "-0.000000", "01.000000", "1234567.000000", "1e-5"],
        ),
        ("boolean", ["true", "false"], ["t", "TRUE", "1"]),
        ("character varying(3)", ["", "abc", "한글"], ["abcd", "a\tb", "a\\b"]),
        ("character(2)", ["ab", "a", ""], ["a ", "abc"]),
    ],
)
def test_fast_patterns_accept_only_canonical_values(type_text: str, good: list[str], bad: list[str]) -> None:
    pattern = fast(type_text)
    assert all(pattern.fullmatch(v) for v in good), type_text
    assert not any(pattern.fullmatch(v) for v in bad), type_text


@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_integer_fast_pattern_implies_conversion_is_identity(number: int) -> None:
    for type_text in ("smallint", "integer", "bigint"):
        text = str(number)
        if fast(type_text).fullmatch(text):
            assert convert(type_text, text) == text


@given(st.decimals(min_value=-999999, max_value=999999, places=6, allow_nan=False, allow_infinity=False))
def test_numeric_fast_pattern_implies_conversion_is_identity(number: object) -> None:
    text = format(number, "f")
    if fast("numeric(12,6)").fullmatch(text):
        assert convert("numeric(12,6)", text) == text


@pytest.mark.parametrize("type_text", ["date", "double precision", "numeric", "numeric(10,0)"])
def test_no_fast_path_for_types_that_need_conversion(type_text: str) -> None:
    assert ColumnType.parse(type_text).fast_pattern() is None


@pytest.mark.parametrize(
    ("type_text", "template"),
    [
        ("date", "to_char({}, 'YYYY-MM-DD')"),
        ("double precision", "({})::numeric::text"),
        ("integer", "({})::text"),
        ("character varying(5)", "{}"),
        ("character(6)", "({})::text"),  # the cast strips trailing blanks
    ],
)
def test_sql_text_templates(type_text: str, template: str) -> None:
    assert ColumnType.parse(type_text).sql_text() == template
