"""Upload the reference files: ``CarMaster.txt`` -> car-master/, ``CarItemBuyList_<yyyyMM>.txt`` -> buy-list/.

Each file goes up under a temporary name and is renamed over the previous version, so readers
never see a half-written file and a rerun replaces instead of adding (idempotent).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders.hdfs_store import HdfsStore
from pilot.errors import PilotError
from pilot.settings import Settings

log = logging.getLogger(__name__)

MASTER_NAME = "CarMaster.txt"
BUYLIST_RE = re.compile(r"CarItemBuyList_\d{6}\.txt")


@dataclass(frozen=True)
class Uploaded:
    local: str
    hdfs: str
    bytes: int


def reference_files(folder: Path, s: Settings) -> list[tuple[Path, str]]:
    """(local file, HDFS folder) for every reference file in ``folder``."""
    if not folder.is_dir():
        raise PilotError(f"{folder} is not a folder; pass the simulator's --out folder with --dir")
    found: list[tuple[Path, str]] = []
    master = folder / MASTER_NAME
    if master.is_file():
        found.append((master, s.hdfs_master_dir))
    found.extend((path, s.hdfs_buylist_dir) for path in sorted(folder.iterdir())
                 if path.is_file() and BUYLIST_RE.fullmatch(path.name))
    if not found:
        raise PilotError(f"no {MASTER_NAME} or CarItemBuyList_<yyyyMM>.txt in {folder}")
    return found


def upload_reference(s: Settings, folder: str | Path, store: HdfsStore | None = None) -> list[Uploaded]:
    store = store or HdfsStore(s)
    done: list[Uploaded] = []
    for path, target in reference_files(Path(folder), s):
        data = path.read_bytes()
        store.put_file(target, path.name, data)
        done.append(Uploaded(str(path), f"{target}/{path.name}", len(data)))
        log.info("uploaded %s -> %s/%s (%d bytes)", path, target, path.name, len(data))
    return done
