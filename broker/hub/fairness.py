"""Fair scheduling of incoming documents across senders (issue 11, item 3).

The hub used to check documents in arrival order (one FIFO): a unit that published 50,000
payloads put every court's notice behind them. :class:`FairQueue` keeps one queue per sender and
fills each batch round-robin, one document per sender per turn, so a sender's backlog delays only
that sender: a court with one notice waiting gets it into the next batch however many the
flooding unit has queued.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """Items queued per sender, taken round-robin across senders (FIFO within one sender)."""

    def __init__(self) -> None:
        # The sender served longest ago comes first; a sender served goes to the end.
        self._queues: OrderedDict[str, deque[T]] = OrderedDict()
        self._size = 0

    def put(self, sender: str, item: T) -> None:
        q = self._queues.get(sender)
        if q is None:
            q = self._queues[sender] = deque()
        q.append(item)
        self._size += 1

    def take(self, n: int) -> list[T]:
        """Up to ``n`` items, one per sender per turn, starting with the sender served longest ago."""
        taken: list[T] = []
        while len(taken) < n and self._queues:
            sender, q = next(iter(self._queues.items()))
            taken.append(q.popleft())
            if q:
                self._queues.move_to_end(sender)
            else:
                del self._queues[sender]  # an idle sender costs nothing (and no memory)
        self._size -= len(taken)
        return taken

    def waiting(self, sender: str) -> int:
        """Items of ``sender`` still queued."""
        q = self._queues.get(sender)
        return len(q) if q else 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0
