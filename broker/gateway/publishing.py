"""Publishing what the gateway's requests prepared: decided one at a time, recorded together.

Each prepared document (:mod:`broker.gateway.preparing`) still has its decision made alone and
in arrival order, under the gateway's lock: an idempotency key seen before, a document of the
same id already sent (the same one again, or ``DOC_ID_REUSED``). But the documents decided to
be new are recorded as sent — with their first attempt — in *one* transaction of the unit's
store (one fsync), then published, and only then is each request answered: a group commit
across the requests in flight. One at a time, each POST paid two fsynced commits of the store
while every other POST waited behind it, and that wait was most of a POST's time at full
load (docs/performance.md, issue 12).

Nothing is answered before its document is durably recorded: a gateway killed at any point
has published nothing it has not recorded, and answered nothing it has not published.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass

from lxml import etree

from broker.court import CourtClient
from broker.documents.xmlmodel import DS_NS
from broker.errors import problem
from broker.gateway.preparing import Prepared
from broker.gateway.problems import GatewayError
from broker.gateway.state import GatewayState
from broker.parsing.hardened import parse


@dataclass(frozen=True)
class Submitted:
    document_id: str
    new: bool
    """False when the same request (key or document) was already published: nothing was sent."""


@dataclass
class _Request:
    ready: Prepared
    key: str | None
    digest: str
    done: Future[Submitted]


class Publisher:
    """One thread that publishes for every request: :meth:`publish` blocks its caller until its
    document is decided, recorded and published (or refused)."""

    def __init__(self, client: CourtClient, state: GatewayState):
        self._client, self._state = client, state
        self._wake = threading.Condition()
        self._waiting: list[_Request] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="gateway-publisher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(30)

    def publish(self, ready: Prepared, key: str | None, digest: str) -> Submitted:
        """Publish ``ready`` unless ``key`` (with the body's ``digest``) or its document id says it
        was already: :class:`GatewayError` ``GW_IDEMPOTENCY_CONFLICT`` or ``DOC_ID_REUSED`` for a
        different body or document."""
        request = _Request(ready, key, digest, Future())
        with self._wake:
            if self._closing:
                raise RuntimeError("the gateway is stopping")
            self._waiting.append(request)
            self._wake.notify()
        return request.done.result()

    def repeat(self, key: str, digest: str) -> Submitted | None:
        """What an earlier request with ``key`` made; ``GW_IDEMPOTENCY_CONFLICT`` for another body."""
        given = self._state.idempotent(key)
        if given is None:
            return None
        if given.digest != digest:
            raise GatewayError.of("GW_IDEMPOTENCY_CONFLICT", key=key[:80])
        return Submitted(given.document_id, new=False)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._waiting and not self._closing:
                    self._wake.wait()
                batch, self._waiting = self._waiting, []
                if not batch and self._closing:
                    return
            self._publish(batch)

    def _publish(self, batch: list[_Request]) -> None:
        """Decide each request in order, record and publish the new documents together, answer."""
        with self._state.lock:  # the gateway's other check-then-act paths (answers) wait too
            new: dict[str, list[_Request]] = {}  # document id -> the requests it answers
            for request in batch:
                try:
                    self._decide(request, new)
                except Exception as exc:  # noqa: BLE001 - that request's answer, not the others'
                    request.done.set_exception(exc)
            if not new:
                return
            try:
                self._client.unit.send_many([requests[0].ready.sealed for requests in new.values()])
            except Exception as exc:  # noqa: BLE001 - none of them was recorded: each caller is told
                for requests in new.values():
                    for request in requests:
                        request.done.set_exception(exc)
                return
            for document_id, requests in new.items():
                for i, request in enumerate(requests):
                    try:
                        if request.key is not None:
                            self._state.remember(request.key, request.digest, document_id)
                    except Exception as exc:  # noqa: BLE001
                        request.done.set_exception(exc)
                        continue
                    request.done.set_result(Submitted(document_id, new=i == 0))

    def _decide(self, request: _Request, new: dict[str, list[_Request]]) -> None:
        """Answer ``request`` now if it repeats a key or a document; else add it to ``new``."""
        if request.key is not None and (repeated := self.repeat(request.key, request.digest)) is not None:
            request.done.set_result(repeated)  # the same key came in twice at once: the first one published
            return
        if request.key is not None and any(r.key == request.key for rs in new.values() for r in rs):
            # the same key twice in this batch: the first decides (published with it, or refused)
            first = next(r for rs in new.values() for r in rs if r.key == request.key)
            if first.digest != request.digest:
                raise GatewayError.of("GW_IDEMPOTENCY_CONFLICT", key=request.key[:80])
        document_id = request.ready.document_id
        if document_id in new:
            earlier = new[document_id][0].ready.draft
        else:
            sent = self._client.unit.store.get_sent(document_id)
            earlier = sent.raw if sent is not None else None
        if earlier is not None and _unsealed(earlier) != _unsealed(request.ready.draft):
            raise GatewayError([problem("DOC_ID_REUSED", document_id=document_id)])
        if earlier is None or document_id in new:
            new.setdefault(document_id, []).append(request)  # published once, with the batch
            return
        # the same id again: the same document is not published twice
        if request.key is not None:
            self._state.remember(request.key, request.digest, document_id)
        request.done.set_result(Submitted(document_id, new=False))


def _unsealed(raw: bytes) -> bytes:
    """The canonical form of a document without its seal (a seal need not be deterministic)."""
    root = parse(raw)
    for sig in root.findall("{" + DS_NS + "}Signature"):
        root.remove(sig)
    return etree.tostring(root, method="c14n", exclusive=True)
