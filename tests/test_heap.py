"""The hub's heap (broker/hub/heap.py): the allocator's free memory is given back to the system."""

from __future__ import annotations

import platform
import sys

import pytest

from broker.hub import heap

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's"
)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@glibc
def test_trim_gives_freed_heap_memory_back() -> None:
    """Payload-sized blocks (above pymalloc's 512 bytes: glibc's malloc) freed in the middle of the
    heap stay resident until the heap is trimmed (the hub's main process grew so in the soak)."""
    blocks = [bytes(6000) + i.to_bytes(4, "little") for i in range(40_000)]  # ~240 MB
    kept = blocks[::64]  # one block in 64 stays: the freed memory is not at the heap's top
    del blocks
    before = _rss()
    assert heap.trim()
    after = _rss()
    assert before - after > 100 * 2**20, (before, after)
    assert len(kept) == 625


def test_trim_once_per_interval() -> None:
    now = [0.0]
    made: list[float] = []
    trim = heap.Trim(every=60.0, clock=lambda: now[0], trim=lambda: made.append(now[0]) or True)
    for t in range(0, 181):  # called every second for three minutes
        now[0] = float(t)
        trim()
    assert made == [60.0, 120.0, 180.0]
    assert trim.count == 3
