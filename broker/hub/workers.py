"""The hub's worker processes (:mod:`broker.hub.intake` runs in them), and what happens when
checking fails.

- :class:`CheckerPool` starts workers that cannot outlive the hub (they get the hub's pid, see
  :func:`broker.hub.intake.init_worker`) and replaces the pool when a worker died (a broken
  ``ProcessPoolExecutor`` refuses all further work).
- :func:`check_one_by_one` is the answer to a batch whose check raised or whose worker died: its
  documents are checked again alone, so one culprit does not sink the others, and a document
  whose check fails again is refused with a code (:func:`refusal`) instead of being tried for
  ever. The hub acknowledges its MQTT message only once that refusal is in the ledger.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Callable

from broker.checking import payload_digest
from broker.errors import problem
from broker.hub import intake
from broker.hub.config import HubConfig
from broker.hub.intake import Intake, Payload
from broker.hub.notices import HubNotary
from broker.logs import event

log = logging.getLogger("liandong.hub")

#: The refusal codes: the check raised (again), or the worker checking it died (again).
CHECK_FAILED = "HUB_CHECK_FAILED"
WORKER_DIED = "HUB_WORKER_DIED"

#: Worker deaths checking one document alone before it is refused.
WORKER_DEATHS_ALONE = 2


class CheckerPool:
    """The hub's worker processes, replaced as a whole when one of them died."""

    def __init__(self, config: HubConfig):
        self.config = config
        self.replaced = 0
        self.generation = 0
        """The hub's registry generation, sent with every batch (workers follow it)."""
        """How many times a broken pool was replaced (tests, and the log)."""
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # Spawned, not forked: no thread state of the hub's (paho's thread) is copied into workers.
        pool = ProcessPoolExecutor(
            self.config.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=intake.init_worker,
            initargs=(self.config, os.getpid()),
        )
        # Start every worker now, from this thread (see intake._die_with_parent), and load them.
        for f in [pool.submit(intake.check_batch, []) for _ in range(self.config.workers)]:
            f.result()
        return pool

    @property
    def pids(self) -> list[int]:
        """The worker processes' pids (tests)."""
        return list(getattr(self._pool, "_processes", None) or {})

    def submit(self, payloads: list[Payload]) -> Future[list[Intake]]:
        try:
            return self._pool.submit(intake.check_batch, payloads, self.generation)
        except BrokenProcessPool:  # a worker died while no batch was out
            self.replace_if_broken()
            return self._pool.submit(intake.check_batch, payloads, self.generation)

    def check_alone(self, payload: Payload) -> Intake:
        """Check one payload in a worker and wait for it; raises what the check raised, or
        :class:`BrokenProcessPool` if its worker died (the pool is then replaced)."""
        try:
            return self.submit([payload]).result()[0]
        except BrokenProcessPool:
            self.replace_if_broken()
            raise

    def replace_if_broken(self) -> None:
        """Replace the pool if a worker of it died. Every batch that was out on it fails with
        :class:`BrokenProcessPool`; the first replaces it, the others find the new one."""
        if getattr(self._pool, "_broken", False):
            self.replace()

    def replace(self) -> None:
        """A new pool for a broken one (which ends its remaining workers itself)."""
        old = self._pool
        old.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()
        self.replaced += 1
        event(log, "hub.workers_replaced", logging.WARNING, workers=self.config.workers, times=self.replaced)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def check_one_by_one(
    payloads: list[Payload], check_alone: Callable[[Payload], Intake], notary: HubNotary, failure: BaseException
) -> list[Intake]:
    """The results of a batch whose check failed with ``failure``: each payload checked again
    alone; one whose check raises again, or that kills its worker twice alone, is refused."""
    event(
        log,
        "hub.batch_failed",
        logging.ERROR,
        size=len(payloads),
        error=type(failure).__qualname__,
        worker_died=isinstance(failure, BrokenProcessPool),
    )
    return [_check_alone(payload, check_alone, notary) for payload in payloads]


def _check_alone(payload: Payload, check_alone: Callable[[Payload], Intake], notary: HubNotary) -> Intake:
    # A worker dying while it checks one document alone is tried once more: the death may have
    # come from outside (the OOM killer, an operator) and hit an innocent document; a document
    # that kills its worker kills the next one too.
    for attempt in range(WORKER_DEATHS_ALONE):
        try:
            return check_alone(payload)
        except BrokenProcessPool:
            if attempt + 1 == WORKER_DEATHS_ALONE:
                return refusal(payload, WORKER_DIED, notary)
        except Exception as exc:  # an exception is the document's own: no second try
            return refusal(payload, CHECK_FAILED, notary, exc)
    raise AssertionError("unreachable")


def refusal(payload: Payload, code: str, notary: HubNotary, exc: BaseException | None = None) -> Intake:
    """The result for a payload that could not be checked: refused with ``code``, its rejection
    notice sealed here (the workers could not)."""
    digest = payload_digest(payload.raw)
    problems = [problem(code, digest=digest)]
    result = Intake(seq=payload.seq, digest=digest, size=len(payload.raw), problems=problems)
    result.notice = notary.seal_one(
        notary.rejection_draft(
            client_unit=payload.client_unit,
            problems=problems,
            digest=digest,
            size=result.size,
            received_at=payload.received_at,
        )
    )
    # The digest names the document for the operator (and for a fix); its content stays out.
    event(
        log,
        "hub.check_failed",
        logging.ERROR,
        code=code,
        digest=digest,
        client=payload.client_unit,
        size=result.size,
        error=type(exc).__qualname__ if exc is not None else None,
    )
    return result


__all__ = ["CHECK_FAILED", "WORKER_DIED", "CheckerPool", "check_one_by_one", "refusal"]
