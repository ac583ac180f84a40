"""A checked batch is freed by reference counting once it is taken, not by the cyclic garbage
collector (issue 16, the soak): the hub's processes collect rarely (broker/hub/heap.py), and the
batches waiting for a collection (payloads, results, sealed notices) were tens of MiB of the main
process, whose high-water mark its RSS kept."""

from __future__ import annotations

import gc
import queue
import weakref
from collections import deque
from concurrent.futures import Future
from datetime import datetime, timezone

from broker.hub.intake import Intake, Payload
from broker.hub.pipeline_items import Message
from broker.hub.service import Hub
from tests.network import HUB, hub_config


class _Pool:
    """A checker pool without worker processes: :meth:`finish` checks what was submitted."""

    def __init__(self) -> None:
        self.out: list[tuple[Future[list[Intake]], list[Payload]]] = []

    def submit(self, payloads: list[Payload]) -> Future[list[Intake]]:
        future: Future[list[Intake]] = Future()
        self.out.append((future, payloads))
        return future

    def finish(self) -> None:
        while self.out:
            future, payloads = self.out.pop()
            future.set_result([Intake(seq=p.seq, digest="0" * 64, size=len(p.raw)) for p in payloads])


def test_a_checked_batch_needs_no_cyclic_collection(tmp_path) -> None:
    hub = Hub.__new__(Hub)  # only the pipeline's checking steps run here: no broker, no ledger
    hub.config = hub_config(HUB, port=1, var=tmp_path / "hub", workers=1)
    hub._seq = 0
    hub._batches = deque()
    hub._events = queue.Queue()
    pool = hub._pool = _Pool()  # type: ignore[assignment]
    message = Message("doc", 1, 1, "unit", b"<Document/>" * 100, datetime.now(timezone.utc))
    enabled = gc.isenabled()
    gc.disable()
    try:
        hub._submit([message])
        pool.finish()  # the worker's result arrives (the done-callback runs)
        batch = hub._batches.popleft()
        taken = weakref.ref(batch)
        hub._batch_results(batch)
        assert batch.results is not None and len(batch.results) == 1
        assert batch.checked_at is not None  # the done-callback ran
        del batch
        assert taken() is None, gc.get_referrers(taken())
    finally:
        if enabled:
            gc.enable()
