"""Bad run input fails the task at once: retrying cannot fix a date like 20201345."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pilot.errors import InvalidInput


@contextmanager
def fail_fast_on_bad_input() -> Iterator[None]:
    """Inside the block, an :class:`InvalidInput` fails the task without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except InvalidInput as exc:
        raise AirflowFailException(str(exc)) from exc
