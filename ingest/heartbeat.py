"""A long-running stage's status file: what it is doing and its counts, rewritten every few seconds.

The always-on stream services write one each (``var/run/<service>.status.json``); ``pilot stream
status`` shows them and the stack's readiness check reads their age. The file is replaced
atomically, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class Heartbeat:
    def __init__(self, path: Path | None, every: float = 2.0) -> None:
        self.path = path
        self.every = every
        self.started_at = time.time()
        self._last = 0.0

    def due(self, force: bool = False) -> bool:
        """Whether a beat now would be written (a file is set and ``every`` seconds passed, or forced)."""
        return self.path is not None and (force or time.monotonic() - self._last >= self.every)

    def beat(self, state: str, force: bool = False, **facts: Any) -> None:
        """Rewrite the file (at most once per ``every`` seconds unless ``force``)."""
        if self.path is None or not self.due(force):
            return
        self._last = time.monotonic()
        body = {"state": state, "pid": os.getpid(), "started_at": self.started_at,
                "updated_at": time.time(), **facts}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(body, default=str))
        tmp.replace(self.path)


def read_heartbeat(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
