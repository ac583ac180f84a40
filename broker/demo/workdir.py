"""The demo's working folder: the demo starts clean in it, or refuses it.

A folder reused from an earlier run still held that run's ledger, stores and broker database:
the demo then counted the old documents with the new ones, printed other numbers, and still
said "passed". A folder the demo made (it carries :data:`MARKER`) is emptied before the run;
any other folder that is not empty is refused (``DEMO_WORKDIR_NOT_EMPTY``), never emptied:
it may hold someone's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from broker.errors import LiandongError

MARKER = ".liandong-demo"
"""The file that says a folder is the demo's own."""


def prepare(workdir: Path) -> bool:
    """Make ``workdir`` an empty demo folder; True when an earlier demo's files were removed.
    Raises ``DEMO_WORKDIR_NOT_EMPTY`` for a folder with other files."""
    workdir = Path(workdir)
    if workdir.exists() and not workdir.is_dir():
        raise LiandongError.of("DEMO_WORKDIR_NOT_EMPTY", workdir=str(workdir))
    leftovers = sorted(workdir.iterdir()) if workdir.exists() else []
    if leftovers and not (workdir / MARKER).is_file():
        raise LiandongError.of("DEMO_WORKDIR_NOT_EMPTY", workdir=str(workdir))
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("made by liandong demo: emptied by the next run\n", encoding="utf-8")
    return any(p.name != MARKER for p in leftovers)
