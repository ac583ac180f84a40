"""Commands that run a child process in the foreground (``liandong broker run``,
``liandong broker cluster run``): SIGTERM ends them like Ctrl-C, so that ``systemctl stop`` or
``kill`` stops the child too instead of leaving it running without its parent."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def foreground(on_reload: Callable[[], None] | None = None) -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt, and SIGHUP calls ``on_reload`` (if
    given: e.g. Mosquitto re-reads its ACL and CRL). The previous handlers come back after."""
    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, _interrupt)}
    if on_reload is not None:
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda s, f: on_reload())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
