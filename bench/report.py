"""Replace one ``## Section`` of BENCHMARKS.md (every benchmark script writes its own section)."""

from __future__ import annotations

import re
from pathlib import Path

DEFAULT_REPORT = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


def replace_section(markdown: str, section: str) -> str:
    """``markdown`` with the section that starts with ``section``'s first line (its ``## `` heading)
    replaced by ``section``, or ``section`` appended when there is none yet."""
    heading = section.strip().splitlines()[0]
    if not heading.startswith("## "):
        raise ValueError(f"a section starts with a '## ' heading, not {heading!r}")
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    block = section.strip() + "\n\n"
    if pattern.search(markdown):
        updated = pattern.sub(lambda _m: block, markdown)
    else:
        updated = markdown.rstrip() + "\n\n" + block
    return updated.rstrip() + "\n"


def write_section(section: str, path: Path = DEFAULT_REPORT) -> None:
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.write_text(replace_section(current, section), encoding="utf-8")
