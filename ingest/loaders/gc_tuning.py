"""Fewer cyclic garbage collections while a loader consumes.

A loader allocates Python objects per consumed record (librdkafka's message objects, their values,
lists per poll), millions per run. With CPython's default generation-0 threshold (700 allocations)
the collector runs thousands of times per million records and, as generations fill, walks every
tracked object of the heap. None of those objects form reference cycles; a higher threshold keeps
the collector (and its memory bound) while cutting its passes. Measured on a 1.08 M-record backlog:
the batch loader went from 20-23 to 24-27 MB/s.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GEN0_THRESHOLD = 50_000


@contextmanager
def fewer_collections(gen0: int = GEN0_THRESHOLD) -> Iterator[None]:
    """Raise the generation-0 threshold for the block; the previous thresholds come back after."""
    before = gc.get_threshold()
    gc.set_threshold(max(gen0, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
