"""How a worker process (the hub's checkers, the gateway's preparers) ends with the process
that started it.

A parent killed outright (SIGKILL, the OOM killer) never shuts its pool down, and its workers
would wait for work for ever, holding their memory. Two means, used by both pools:
:func:`die_with_parent` (Linux's parent-death signal, which follows the *thread* that spawned the
worker) and :func:`exit_with_parent` (a watching thread, wherever the signal cannot serve).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def exit_if_parent_gone(parent: int) -> None:
    """End now if ``parent`` is no longer this process's parent (it died before we got here)."""
    if os.getppid() != parent:
        os._exit(0)


def die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent ends, then check the parent is still
    ``parent``: set first and checked after, so a parent dying in between cannot be missed. Only
    for pools spawned from threads that live as long as the parent (the signal follows the
    spawning thread)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watch thread still ends the worker
            pass
    exit_if_parent_gone(parent)


def exit_with_parent(parent: int, interval: float = 1.0) -> None:
    """End this process within ``interval`` seconds of ``parent`` being gone (a watching thread)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


__all__ = ["die_with_parent", "exit_if_parent_gone", "exit_with_parent"]
