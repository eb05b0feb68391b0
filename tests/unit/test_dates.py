"""The trigger form's date pattern agrees with Day.parse: it never rejects a real day."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestration.dag_defaults import DATE_PARAM
from pilot.dates import DAY_PATTERN, Day
from pilot.errors import InvalidInput


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_every_real_day_fits_the_pattern(day: dt.date) -> None:
    text = day.strftime("%Y%m%d").rjust(8, "0")
    assert re.fullmatch(DAY_PATTERN, text)
    assert Day.parse(text).date == day


@pytest.mark.parametrize("text", ["20201345", "20200132", "20200001", "20201300", "2020011", "2020-01-01"])
def test_the_form_rejects_what_the_pattern_can_see(text: str) -> None:
    assert re.fullmatch(DATE_PARAM.schema["pattern"], text) is None
    with pytest.raises(InvalidInput):
        Day.parse(text)


def test_an_empty_date_is_allowed_and_a_shape_only_mistake_is_left_to_the_parser() -> None:
    assert re.fullmatch(DATE_PARAM.schema["pattern"], "")
    assert re.fullmatch(DATE_PARAM.schema["pattern"], "20200230")  # only Day.parse knows
    with pytest.raises(InvalidInput, match="not a real calendar date"):
        Day.parse("20200230")
