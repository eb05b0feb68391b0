"""Replace one ``## Section`` of BENCHMARKS.md (every benchmark script writes its own section),
and the command-line pieces every benchmark script shares."""

from __future__ import annotations

import argparse
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


def command_line(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark script's parser: its module docstring (usage and method) as the help text."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    parser.add_argument("--no-report", action="store_true")


def publish(section: str, args: argparse.Namespace) -> None:
    """Print the section and, unless ``--no-report``, write it into the ``--report`` file."""
    print(section)
    if not args.no_report:
        write_section(section, args.report)
        print(f"updated {args.report}")
