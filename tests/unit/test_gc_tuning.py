"""The loaders' GC setting is scoped: raised while they consume, restored afterwards."""

from __future__ import annotations

import gc

import pytest

from ingest.loaders.gc_tuning import fewer_collections


def test_threshold_is_raised_inside_and_restored_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections(123_456):
        assert gc.get_threshold() == (123_456, *before[1:])
        raise RuntimeError("loader failed")
    assert gc.get_threshold() == before


def test_a_higher_threshold_set_by_the_caller_is_kept() -> None:
    before = gc.get_threshold()
    gc.set_threshold(900_000, *before[1:])
    try:
        with fewer_collections(50_000):
            assert gc.get_threshold()[0] == 900_000
    finally:
        gc.set_threshold(*before)
