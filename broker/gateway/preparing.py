"""Turning a court's request body into a checked, sealed document — in worker processes.

JSON to XML, the XSD and the business rules, and the seal are the CPU-heavy part of a POST, and
they need nothing of the gateway's state: the same body gives the same answer anywhere. So they
run in worker processes (``http.workers``, spawned, as the hub's checkers are), and the gateway's
own process keeps its GIL for what must happen there: HTTP, the decision to publish (idempotency,
the unit's store), verifying and storing the hub's receipts. In one process they shared one GIL,
and the gateway reached 0.72 of the Python client's rate (docs/performance.md, issue 12).

Nothing is decided in a worker: it returns the draft and its sealed form (or the problems found),
and :func:`broker.gateway.submit.submit` decides in the gateway's process, under its lock,
whether to publish. A worker that dies (killed, out of memory) loses nothing: the pool is
replaced and the preparation, which has no effects, is done again once; a body that kills a
worker twice is answered ``GW_INTERNAL``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from broker.checking import DocumentChecker
from broker.court.client import seal_with
from broker.errors import LiandongError, Problem
from broker.gateway.config import GatewayConfig
from broker.gateway.paths import with_json_paths
from broker.gateway.problems import GatewayError
from broker.logs import event
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.signing.signer import DocumentSigner
from broker.worker_lifetime import exit_if_parent_gone, exit_with_parent

log = logging.getLogger("liandong.gateway")


@dataclass(frozen=True)
class Prepared:
    """A document ready to publish: its id, the unsigned draft (compared with an earlier document
    of the same id) and the sealed bytes."""

    document_id: str
    draft: bytes
    sealed: bytes


@dataclass(frozen=True)
class _Refused:
    """A :class:`GatewayError` on its way back from a worker (an exception whose ``__init__``
    takes problems does not survive pickling as itself)."""

    problems: list[Problem]
    status: int


def prepare(
    checker: DocumentChecker, signer: DocumentSigner, unit: str, raw: bytes, kind: str, received_at: datetime
) -> Prepared:
    """Check ``raw`` (``json`` or ``xml``) as the hub will check it at ``received_at`` (IssuedAt
    is held to the hub's window now, not refused by the hub later), then seal it; raises
    :class:`GatewayError` with every problem, a court that sent JSON getting each place as the
    JSON path of its field."""
    from broker.gateway.submit import draft_from_json  # submit imports this module

    draft = draft_from_json(raw) if kind == "json" else raw
    checked = checker.check(draft, signed=False, received_at=received_at)
    if not checked.ok:
        raise GatewayError(with_json_paths(parse(draft), checked.problems) if kind == "json" else checked.problems)
    header = checked.header
    assert header is not None  # a document without problems has a header
    if header.sender != unit:
        raise GatewayError.of("GW_SENDER_NOT_GATEWAY", sender=header.sender, unit=unit)
    return Prepared(str(header.document_id), draft, seal_with(signer, draft))


class Preparer:
    """Runs :func:`prepare` in ``workers`` spawned processes (0: in the calling thread, with the
    gateway's own checker and seal). Thread-safe; :meth:`prepare` blocks its caller (a thread
    of the HTTP server's pool) without holding the GIL while a worker works."""

    def __init__(self, config: GatewayConfig, checker: DocumentChecker, signer: DocumentSigner, unit: str, workers: int):
        self._config = config  # what a worker loads its checker and seal from
        self._checker, self._signer, self._unit = checker, signer, unit
        self.workers = workers
        self.replaced = 0
        """How many times a broken pool was replaced (tests, and the log)."""
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the workers and wait until each has loaded its schema, rules and seal, so that
        the first request does not pay for it (and a worker that cannot start is known now)."""
        if self.workers:
            with self._lock:
                self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawned, not forked: no thread of the gateway's (paho, uvicorn) is copied into a worker
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._config, os.getpid()),
        )
        for done in [pool.submit(_ready) for _ in range(self.workers)]:
            done.result()
        return pool

    def prepare(self, raw: bytes, kind: str, received_at: datetime) -> Prepared:
        """:func:`prepare` in a worker; :class:`GatewayError` for a body with problems."""
        if self._pool is None:
            return prepare(self._checker, self._signer, self._unit, raw, kind, received_at)
        for attempt in (1, 2):
            pool = self._pool
            try:
                found = pool.submit(_prepare_here, raw, kind, received_at).result()
            except BrokenProcessPool:
                self._replace(pool)
                if attempt == 2:
                    raise  # this body killed a worker twice: GW_INTERNAL (the middleware's 500)
                continue
            if isinstance(found, _Refused):
                raise GatewayError(found.problems, found.status)
            return found
        raise AssertionError("unreachable")

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A new pool for a broken one; the callers that found it broken at once replace it once."""
        with self._lock:
            if self._pool is not broken:
                return  # another caller replaced it already
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            self.replaced += 1
        event(log, "gateway.workers_replaced", logging.WARNING, workers=self.workers, times=self.replaced)

    @property
    def pids(self) -> list[int]:
        """The worker processes' pids (tests)."""
        return list(getattr(self._pool, "_processes", None) or {})

    def stop(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


# --- in a worker process --------------------------------------------------------------------

_worker: tuple[DocumentChecker, DocumentSigner, str] | None = None


def _init_worker(config: GatewayConfig, gateway_pid: int) -> None:
    """ProcessPoolExecutor initializer: the checker (schema, rules, registry) and the seal,
    loaded once per process; the worker ends when the gateway that started it is gone."""
    global _worker
    exit_if_parent_gone(gateway_pid)  # the gateway was gone before this worker got here
    # a watching thread, not Linux's parent-death signal: that follows the *thread* that spawned
    # the worker, and a pool replaced from a request's thread would lose its workers with it
    exit_with_parent(gateway_pid)
    # drafts are checked without a seal (signed=False): XSD, header, business rules with the
    # registry (recipients, unit kinds), as the hub will check them; as GatewayRuntime.build does
    _worker = (DocumentChecker(None, load_registry(config.registry)), config.seal.signer(), config.unit)


def _ready() -> bool:
    return _worker is not None


def _prepare_here(raw: bytes, kind: str, received_at: datetime) -> Prepared | _Refused:
    assert _worker is not None
    try:
        return prepare(*_worker, raw, kind, received_at)
    except GatewayError as exc:
        return _Refused(exc.problems, exc.status)
    except LiandongError as exc:
        return _Refused(exc.problems, GatewayError.from_liandong(exc).status)
