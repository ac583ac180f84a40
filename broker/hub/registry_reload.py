"""The hub follows its registry file without a restart (a unit enrolled, a pin changed).

:class:`RegistryWatch` says when to reload: on request (``SIGHUP`` to ``liandong hub run``) or
when the file's modification time, size or inode changed (a ``stat`` at most once a second,
from the hub's pipeline loop). :meth:`RegistryWatch.reload` loads the file; one that does not
load is logged with its code (``REG_RELOAD_FAILED`` and the registry's own codes) and the hub
keeps the registry it has: a typo in the file must not take the network down.

Each registry the hub takes gets a *generation* number; the hub sends it with every batch to
its worker processes, and a worker whose registry is of another generation reads the file again
(:func:`broker.hub.intake.check_batch`). Workers so never route with an older registry than
the hub's (they may read a newer file a moment before the hub's next poll does: never an
invalid one, which they refuse the same way).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from broker.errors import LiandongError
from broker.logs import event
from broker.registry import Registry, load_registry

log = logging.getLogger("liandong.hub")

#: Seconds between two looks at the file's modification time.
POLL_SECONDS = 1.0


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is written or replaced; None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class RegistryWatch:
    """When to reload the registry file, and the reload itself (see the module docstring)."""

    def __init__(self, path: str | Path, interval: float = POLL_SECONDS):
        self.path = Path(path)
        self.interval = interval
        self.generation = 0
        """Registries taken since the start (0: the one loaded at start)."""
        self._stamp = file_stamp(self.path)
        self._next = time.monotonic() + interval
        self._requested = threading.Event()

    def request(self) -> None:
        """Reload at the next look whether the file changed or not (SIGHUP; any thread)."""
        self._requested.set()

    def due(self) -> bool:
        """A reload was requested, or the file changed since the last load (cheap: one stat a second)."""
        if self._requested.is_set():
            return True
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.interval
        return file_stamp(self.path) != self._stamp

    def reload(self) -> Registry | None:
        """The new registry, or None (logged) when the file does not load; either way the current
        state of the file counts as seen, so a broken file is reported once, not every second."""
        self._requested.clear()
        self._stamp = file_stamp(self.path)
        try:
            registry = load_registry(self.path)
        except LiandongError as exc:
            event(
                log,
                "registry.reload_failed",
                logging.ERROR,
                code="REG_RELOAD_FAILED",
                causes=exc.codes,
                detail=str(exc),
                path=str(self.path),
            )
            return None
        except OSError as exc:
            event(
                log,
                "registry.reload_failed",
                logging.ERROR,
                code="REG_RELOAD_FAILED",
                detail=str(exc),
                path=str(self.path),
            )
            return None
        self.generation += 1
        event(
            log,
            "registry.reloaded",
            generation=self.generation,
            units=len(registry.units),
            path=str(self.path),
        )
        return registry


__all__ = ["POLL_SECONDS", "RegistryWatch", "file_stamp"]
