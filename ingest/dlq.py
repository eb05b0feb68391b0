"""Dead letters: a rejected record with its source, reason and raw bytes, sent to smartcar-dlq."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class DeadLetter:
    source: str  # e.g. "spool:/path/SmartCarStatusInfo_20200322.txt" or "loader:realtime"
    reason: str  # a stable code from ingest.records (header, field_count, bad_number, ...)
    message: str  # human-readable detail
    raw: str  # the raw line, undecodable bytes escaped (\xNN)
    line: int | None = None  # 1-based line number in the source file, if any
    offset: str | None = None  # topic/partition@offset when the source is Kafka
    at: float = 0.0

    def to_json(self) -> bytes:
        data = asdict(self)
        data["at"] = self.at or time.time()
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, payload: bytes) -> DeadLetter:
        data: dict[str, Any] = json.loads(payload)
        return cls(**data)


def raw_text(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    return raw.decode("utf-8", errors="backslashreplace")
