"""Commands that run a child process in the foreground (``liandong broker run``,
``liandong broker cluster run``): SIGTERM ends them like Ctrl-C, so that ``systemctl stop`` or
``kill`` stops the child too instead of leaving it running without its parent."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


class Foreground:
    """The signal handlers of a foreground command (see :func:`foreground`)."""

    def __init__(self, on_reload: Callable[[], None] | None):
        self.on_reload = on_reload
        self._holding = False
        self._pending: set[int] = set()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending.add(signum)
        elif signum == signal.SIGHUP:
            if self.on_reload is not None:
                self.on_reload()
        else:
            raise KeyboardInterrupt

    @contextmanager
    def starting(self) -> Iterator[None]:
        """Signals wait while the child starts, and are handled once it has. Why: raised from
        inside ``subprocess.Popen``, after the fork but before the Popen object exists, a
        SIGTERM left a child whose pid no one knew (seen: Mosquitto outliving the command)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            pending, self._pending = self._pending, set()
        if pending - {signal.SIGHUP}:
            raise KeyboardInterrupt
        if signal.SIGHUP in pending and self.on_reload is not None:
            self.on_reload()


@contextmanager
def foreground(on_reload: Callable[[], None] | None = None) -> Iterator[Foreground]:
    """Within the block, SIGTERM and SIGINT raise KeyboardInterrupt, and SIGHUP calls ``on_reload``
    (if given: e.g. Mosquitto re-reads its ACL and CRL); within ``starting()`` they wait until the
    child has started. The previous handlers come back after."""
    handlers = Foreground(on_reload)
    signals = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGHUP] if on_reload is not None else [])
    previous = {sig: signal.signal(sig, handlers.handle) for sig in signals}
    try:
        yield handlers
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
