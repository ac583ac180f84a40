"""The garbage collector of the hub's processes, set for a long-lived service.

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
"""

from __future__ import annotations

import gc

#: Allocations (minus deallocations) between two collections of the youngest generation. Python's
#: default, 700, is sized for small scripts; a batch of 100 documents allocates ~100,000 objects.
YOUNG_THRESHOLD = 50_000


def settle() -> None:
    """Freeze what the process has loaded so far and space the collections out (see above)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


__all__ = ["YOUNG_THRESHOLD", "settle"]
