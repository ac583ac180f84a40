"""The heap of the hub's processes, set for a long-lived service: the garbage collector, and the
free memory of C's allocator.

The hub's processes load much at start (SQLAlchemy, pydantic models, lxml schemas, paho) and then
allocate many short-lived objects per document (pickled results, paho's message objects, ledger
rows). CPython's cyclic collector then runs thousands of times a second, and each full
collection walks every object loaded at start: py-spy (``--gil --native``) found
``gc_collect_main`` in 18 % of the samples of the hub's main process holding the GIL at full load
(docs/performance.md, "Hub CPU per document").

:func:`settle` is called once a process has loaded what it keeps: it collects once, moves what
survives out of the collector's reach for good (:func:`gc.freeze`: those objects live as long as
the process anyway), and makes the youngest generation larger, so that fewer collections run and
each of them still only looks at recent objects. Reference counting frees almost everything the
hub allocates per document at once; the collector is only for cycles, which still get collected.

:class:`Trim` gives the allocator's free memory back to the system now and then (issue 16, the
soak). The main process's payloads (about 6 KB each, above pymalloc's 512 bytes, so glibc's
``malloc``) are allocated on paho's thread and freed on the pipeline's, and a backlog (a busy
machine) brings thousands of them in at once: glibc keeps what was freed inside its heaps and
gives back only the top of the main heap by itself, so RSS keeps the highest backlog's mark.
``malloc_trim(0)`` returns the free pages of every heap: in a soak after such a backlog the main
process's RSS fell 214 → 185 MiB at the next trims while glibc's heaps stayed at 122 MiB; at a
steady 250 documents a second it was 112 MiB after 6 minutes against 119 without
(docs/performance.md, "The soak's memory growth found").
"""

from __future__ import annotations

import ctypes
import gc
import sys
import time
from collections.abc import Callable

#: Allocations (minus deallocations) between two collections of the youngest generation. Python's
#: default, 700, is sized for small scripts; a batch of 100 documents allocates ~100,000 objects.
YOUNG_THRESHOLD = 50_000

#: Seconds between two trims of the allocator's heaps (one takes a few milliseconds).
TRIM_EVERY = 60.0


def settle() -> None:
    """Freeze what the process has loaded so far and space the collections out (see above)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None (another C library, another system)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl has none
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def trim() -> bool:
    """Give the free memory of the allocator's heaps back to the system now; False where there is
    no ``malloc_trim`` (nothing is done)."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


class Trim:
    """Calls :func:`trim` at most once every ``every`` seconds: call it as often as convenient
    (the hub's command calls it once a second, while it waits for a signal)."""

    def __init__(self, every: float = TRIM_EVERY, clock: Callable[[], float] = time.monotonic,
                 trim: Callable[[], bool] = trim) -> None:
        self.every = every
        self.clock = clock
        self._trim = trim
        self._last = clock()
        self.count = 0
        """Trims made (tests)."""

    def __call__(self) -> None:
        now = self.clock()
        if now - self._last >= self.every:
            self._last = now
            self._trim()
            self.count += 1


__all__ = ["TRIM_EVERY", "YOUNG_THRESHOLD", "Trim", "settle", "trim"]
