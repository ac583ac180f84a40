"""Executing documents: dispatch, results, retries, deferrals, receipts — exactly once.

The transport (:class:`broker.transport.unit.UnitClient`) verifies each document end to end,
stores it and acknowledges it, then hands it to :meth:`Engine.accept`, which checks who sent
it and records a *job* in the adapter's store. :meth:`Engine.step` runs due jobs one at a time,
in delivery order, on one thread:

1. each item without a recorded result goes to its handler with a :class:`Context`;
2. the result is validated (type, item id, XSD and rules, as the hub will check the receipt)
   and recorded — once; review suggestions the handler asked for are stored with it;
3. when every item has a result, the receipt (``ExecutionReceipt``, answering the notice, with
   its case number, sealed by the unit) is stored in the same transaction that closes the job,
   then handed to the transport, which sends it until the hub answers;
4. a document id seen again (a redelivery) gets the stored receipt again (:meth:`redelivered`).

Failures: ``PermanentError`` and missing handlers give a NotExecuted result with a reason;
``NeedsMoreTime`` stores an extension notice and asks the item again later, without holding up
later documents; ``TransientError`` and unexpected exceptions retry the item with exponential
backoff and hold up later documents (delivery order: "rotating freezes stack in delivery
order", 003 bank rules 10; 001 art. 12), and survive restarts.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lxml import etree

from adapters.sdk import errors as codes
from adapters.sdk.adapter import Adapter, ItemKey
from adapters.sdk.context import Context
from adapters.sdk.errors import HandlerContractError, NeedsMoreTime, PermanentError, TransientError
from adapters.sdk.runtime import Runtime
from adapters.sdk.settings import ExecutionSettings
from adapters.sdk.store import ItemState, Job, Outbound
from broker.checking import CheckedDocument
from broker.documents import codec
from broker.documents.bodies import (
    AssistanceNotice,
    ExecutionReceipt,
    ExtensionNotice,
    QueryNotice,
    ReleaseNotice,
    ReviewSuggestion,
)
from broker.documents.catalogue import UnitKind
from broker.documents.document import Document
from broker.documents.results import (
    MeasureResult,
    QueryResult,
    QueryStatus,
    ReleaseResult,
    ReleaseStatus,
    Result,
    ResultStatus,
)
from broker.documents.xmlmodel import NS
from broker.errors import LiandongError
from broker.parsing.hardened import parse
from broker.transport.unit import Received

log = logging.getLogger("liandong.adapter")

EXECUTING_SENDERS = frozenset({UnitKind.COURT, UnitKind.LINKAGE_OFFICE})
"""Who may make an adapter act: courts and the linkage office, nobody else."""

ANSWERS = frozenset({"ExecutionReceipt", "ExtensionNotice", "ReviewSuggestion", "MeasureStatusNotice"})
"""Answers to what this unit sent (a status query to the credit platform): kept, never executed."""

_RESULT_TAGS: dict[str, type[Result]] = {"MeasureResult": MeasureResult, "QueryResult": QueryResult, "ReleaseResult": ReleaseResult}


@dataclass(frozen=True)
class WorkItem:
    """One thing to do in a document: a measure, a query, a release, or the whole document."""

    item_id: str  # '' for a document handler
    position: int
    key: ItemKey
    model: Any


def work_items(document: Document) -> list[WorkItem]:
    body = document.body
    if isinstance(body, AssistanceNotice):
        return [WorkItem(m.measure_id, i, ItemKey("measure", type(m).xml_tag), m) for i, m in enumerate(body.measures)]
    if isinstance(body, QueryNotice):
        return [WorkItem(q.query_id, i, ItemKey("query", q.kind.value), q) for i, q in enumerate(body.queries)]
    if isinstance(body, ReleaseNotice):
        return [WorkItem(r.release_id, i, ItemKey("release", r.kind.value), r) for i, r in enumerate(body.releases)]
    return [WorkItem("", 0, ItemKey("document", document.type), document)]


def not_executed(item: WorkItem, reason: str) -> Result:
    """The result of an item that could not be carried out, with the reason (003 bank rules 17)."""
    if item.key.category == "measure":
        return MeasureResult(measure_id=item.item_id, status=ResultStatus.NOT_EXECUTED, reason=reason)
    if item.key.category == "query":
        return QueryResult(query_id=item.item_id, status=QueryStatus.NOT_EXECUTED, reason=reason)
    return ReleaseResult(release_id=item.item_id, status=ReleaseStatus.NOT_RELEASED, reason=reason)


def no_handler_reason(item: WorkItem) -> str:
    name = item.key.name or item.key.category
    return f"本单位执行联动适配器未配置该事项（{name}）的处理程序，未能办理。No handler for {name} in this unit's adapter."


def _carried_out(result: Result) -> bool:
    if isinstance(result, MeasureResult):
        return result.status is not ResultStatus.NOT_EXECUTED
    if isinstance(result, QueryResult):
        return result.status is not QueryStatus.NOT_EXECUTED
    return result.status is not ReleaseStatus.NOT_RELEASED


def _encode(model: Any) -> bytes:
    return etree.tostring(codec.encode(model))


def _decode_result(raw: bytes) -> Result:
    elem = parse(raw)
    cls = _RESULT_TAGS[etree.QName(elem).localname]
    return codec.decode(elem, cls)


def _reply_results(raw: bytes) -> list[Result]:
    """The results a document handler returned (stored as an ExecutionReceipt), or none."""
    if not raw:
        return []
    return list(codec.decode(parse(raw), ExecutionReceipt).results)


def received_from(checked: CheckedDocument) -> Received:
    """The transport's view of a document that passed :meth:`DocumentChecker.check`."""
    header, root = checked.header, checked.root
    if header is None or root is None:
        raise ValueError("the document did not pass the checks")
    return Received(
        document_id=str(header.document_id),
        doc_type=header.document_type.value,
        sender=header.sender,
        recipient=header.recipient,
        in_reply_to=str(header.in_reply_to) if header.in_reply_to else None,
        case_number=header.case_number,
        raw=checked.raw,
        root=root,
    )


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Engine:
    """Runs an adapter's handlers on the documents in its store. See the module docstring."""

    def __init__(self, adapter: Adapter, runtime: Runtime, settings: ExecutionSettings | None = None):
        self.adapter = adapter
        self.runtime = runtime
        self.store = runtime.store
        self.settings = settings or ExecutionSettings()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.log = runtime.log

    # --- intake (transport thread) ---------------------------------------------------------------

    def _open_query(self, received: Received) -> bool:
        """A query every member unit may ask (:attr:`Adapter.open_queries`)."""
        if received.doc_type != "QueryNotice" or not self.adapter.open_queries:
            return False
        kinds = [k.text for k in received.root.iter(f"{{{NS}}}Kind")]
        return bool(kinds) and all(k in {q.value for q in self.adapter.open_queries} for k in kinds)

    def accept(self, received: Received) -> None:
        """Record a verified document as a job (or refuse it); never executes anything itself."""
        doc_type, sender, document_id = received.doc_type, received.sender, received.document_id
        now = self.runtime.now()
        if doc_type == "ServiceReceipt":
            return  # the transport settled the sent document; nothing to execute
        if doc_type == "RejectionNotice":
            errors = [e.text for e in received.root.iter(f"{{{NS}}}Code")]
            rejected = received.root.findtext(f"{{{NS}}}RejectionNotice/{{{NS}}}RejectedDocumentId")
            self.log.error("adapter.rejected_by_hub", code=codes.RECEIPT_REJECTED, rejected=rejected, errors=errors)
            return
        kind = self.runtime.registry.kind_of(sender)
        state, detail = "pending", None
        if received.recipient != self.runtime.unit:
            state, detail = "refused", codes.NOT_RECIPIENT
        elif kind is UnitKind.HUB:
            # hub notices (reminders, escalations, anomalies, non-delivery) inform; they order nothing
            if self.adapter.handler_for(ItemKey("document", doc_type)) is None:
                state = "noted"
        elif doc_type in ANSWERS and self.adapter.handler_for(ItemKey("document", doc_type)) is None:
            state = "noted"  # an answer to this unit's own query orders nothing
        elif kind not in EXECUTING_SENDERS and not self._open_query(received):
            state, detail = "refused", codes.SENDER_REFUSED
        elif doc_type not in ("AssistanceNotice", "QueryNotice", "ReleaseNotice") and (
            self.adapter.handler_for(ItemKey("document", doc_type)) is None
        ):
            state = "noted"
        entry = self.store.get_received(document_id)
        received_at = _at(entry.received_at) if entry is not None else None
        new = self.store.add_job(
            document_id=document_id,
            doc_type=doc_type,
            sender=sender,
            case_number=received.case_number,
            received_at=received_at or now,
            tree=etree.tostring(received.root),
            state=state,
            detail=detail,
            now=now,
        )
        if not new:
            return
        if state == "refused":
            self.log.warning(
                "adapter.refused",
                code=detail,
                document_id=document_id,
                doc_type=doc_type,
                sender=sender,
                sender_kind=kind.value if kind else None,
            )
        else:
            self.log.info("adapter.accepted", document_id=document_id, doc_type=doc_type, sender=sender, state=state)
        self.wake.set()

    def redelivered(self, document_id: str) -> None:
        """A document id came again: send its stored receipt again (the hub answers duplicates
        with the original service receipt). Nothing is executed."""
        out = self.store.get_outbound(f"receipt/{document_id}")
        if out is None:
            return
        self.log.info("adapter.receipt_resent", document_id=document_id, receipt_id=out.document_id)
        self.runtime.hand(out)

    # --- execution (worker thread) ------------------------------------------------------------------

    def step(self) -> float | None:
        """Run everything due now, in delivery order. Returns the seconds until the next
        retry or deferred item is due, or None when nothing waits."""
        self.runtime.hand_unhanded()
        next_due: datetime | None = None

        def later(at: datetime | None) -> None:
            nonlocal next_due
            if at is not None and (next_due is None or at < next_due):
                next_due = at

        for job in self.store.open_jobs():
            if self.stopping.is_set():
                break
            retry_at = _at(job.retry_at)
            if retry_at is not None and retry_at > self.runtime.now():
                later(retry_at)
                if job.state == "retrying":
                    break  # delivery order: nothing after a failing document runs before it
                continue
            try:
                state, at = self._run(job)
            except Exception as exc:  # sealing or storing the answer failed: keep the job, retry
                failures, at = self.store.fail_job(
                    job.document_id, delay=self.settings.backoff, now=self.runtime.now(), detail=type(exc).__name__
                )
                self.log.error(
                    "adapter.job_error", code=codes.HANDLER_ERROR, document_id=job.document_id,
                    error=type(exc).__name__, attempt=failures, retry_at=at,
                )
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("adapter.job_traceback\n%s", "".join(traceback.format_exception(exc)))
                state = "retrying"
            later(at)
            if state == "retrying":
                break
        if next_due is None:
            return None
        return max(0.0, (next_due - self.runtime.now()).total_seconds())

    def _run(self, listed: Job) -> tuple[str, datetime | None]:
        job = self.store.get_job(listed.document_id)
        assert job is not None and job.tree is not None
        try:
            document = codec.from_element(parse(job.tree))
        except LiandongError as exc:
            self.store.finish_job(job.document_id, state="refused", now=self.runtime.now(), detail=codes.UNREADABLE)
            self.log.error("adapter.refused", code=codes.UNREADABLE, document_id=job.document_id, errors=exc.codes)
            return "refused", None
        items = work_items(document)
        states = self.store.items(job.document_id)
        deferred_until: datetime | None = None
        for item in items:
            if self.stopping.is_set():
                return "pending", None
            st = states.get(item.item_id)
            if st is not None and st.state == "done":
                continue
            if st is not None and st.state == "deferred":
                at = _at(st.retry_at)
                if at is not None and at > self.runtime.now():
                    deferred_until = at if deferred_until is None else min(deferred_until, at)
                    continue
            outcome, at = self._execute(job, document, item, st)
            if outcome == "retrying":
                return "retrying", at
            if outcome == "deferred" and at is not None:
                deferred_until = at if deferred_until is None else min(deferred_until, at)
        if deferred_until is not None:
            self.store.set_job(job.document_id, "waiting", now=self.runtime.now(), retry_at=deferred_until, attempts=0)
            return "waiting", deferred_until
        return self._finish(job, document, items)

    def _context(self, job: Job, document: Document, item: WorkItem, attempt: int) -> Context:
        return Context(
            document=document,
            item_id=item.item_id or None,
            received_at=_at(job.received_at) or self.runtime.now(),
            attempt=attempt,
            runtime=self.runtime,
            log=self.log.bind(document_id=job.document_id, item_id=item.item_id or None),
        )

    def _execute(self, job: Job, document: Document, item: WorkItem, st: ItemState | None) -> tuple[str, datetime | None]:
        attempt = (st.attempts if st is not None else 0) + 1
        spec = self.adapter.handler_for(item.key)
        ilog = self.log.bind(document_id=job.document_id, item_id=item.item_id or None, handles=str(item.key))
        if spec is None:
            if item.key.category == "document":
                self.store.record_result(job.document_id, "", 0, b"", now=self.runtime.now())
                return "done", None
            result = not_executed(item, no_handler_reason(item))
            self.store.record_result(job.document_id, item.item_id, item.position, _encode(result), now=self.runtime.now())
            ilog.info("adapter.item_not_executed", code=codes.NO_HANDLER)
            return "done", None
        ctx = self._context(job, document, item, attempt)
        try:
            returned = getattr(self.adapter, spec.method)(item.model, ctx)
            stored, reviews = self._check_result(job, document, item, returned, ctx)
        except PermanentError as exc:
            if ctx._reviews:
                ilog.warning("adapter.review_not_sent", reason="item not carried out; the receipt says why")
            if item.key.category == "document":
                self.store.record_result(job.document_id, "", 0, b"", now=self.runtime.now())
                ilog.warning("adapter.document_not_executed", attempt=attempt)
                return "done", None
            result = not_executed(item, exc.reason)
            self.store.record_result(job.document_id, item.item_id, item.position, _encode(result), now=self.runtime.now())
            ilog.info("adapter.item_not_executed", code="PERMANENT", attempt=attempt)
            return "done", None
        except NeedsMoreTime as exc:
            return self._defer(job, document, item, st, exc, ilog)
        except TransientError as exc:
            return self._retry(job, item, exc, ilog, unexpected=False)
        except Exception as exc:  # a bug or a broken contract: never misreport, never drop
            return self._retry(job, item, exc, ilog, unexpected=True)
        self.store.record_result(
            job.document_id, item.item_id, item.position, stored, now=self.runtime.now(), outbound=reviews
        )
        for out in reviews:
            self.runtime.hand(out)
        ilog.info("adapter.item_done", attempt=attempt, status=_status_of(stored), reviews=len(reviews))
        return "done", None

    def _check_result(
        self, job: Job, document: Document, item: WorkItem, returned: Any, ctx: Context
    ) -> tuple[bytes, list[Outbound]]:
        """Validate what a handler returned; the stored form and the review suggestions to send."""
        if item.key.category == "document":
            if returned is None:
                results: list[Result] = []
            elif isinstance(returned, ExecutionReceipt):
                results = list(returned.results)
            elif isinstance(returned, Sequence) and all(isinstance(r, (MeasureResult, QueryResult, ReleaseResult)) for r in returned):
                results = list(returned)
            else:
                raise HandlerContractError(f"a document handler returns None or results, not {type(returned).__name__}")
            if ctx._reviews:
                raise HandlerContractError("review suggestions are about items; document handlers cannot send them")
            if not results:
                return b"", []
            self._validate(job, document, results)
            return _encode(ExecutionReceipt(results=results)), []
        expected = {"measure": MeasureResult, "query": QueryResult, "release": ReleaseResult}[item.key.category]
        if not isinstance(returned, expected):
            raise HandlerContractError(f"a {item.key.category} handler returns a {expected.__name__}, not {type(returned).__name__}")
        returned_id = getattr(returned, f"{item.key.category}_id")
        if returned_id != item.item_id:
            raise HandlerContractError(f"the result answers item {returned_id!r}, not {item.item_id!r}")
        self._validate(job, document, [returned])
        reviews: list[Outbound] = []
        if ctx._reviews and not _carried_out(returned):
            ctx.log.warning("adapter.review_not_sent", reason="item not carried out; the receipt says why")
        elif ctx._reviews:
            for n, grounds in enumerate(ctx._reviews, 1):
                reviews.append(
                    self.runtime.prepare(
                        ReviewSuggestion(grounds=grounds, items=[item.item_id], measure_carried_out=True),
                        recipient=job.sender,
                        case_number=document.header.case_number,
                        in_reply_to=job.document_id,
                        key=f"review/{job.document_id}/{item.item_id}/{n}",
                    )
                )
        return _encode(returned), reviews

    def _validate(self, job: Job, document: Document, results: list[Result]) -> None:
        """Check results as the hub will check the receipt (XSD and rules), before recording them."""
        draft = Document.create(
            ExecutionReceipt(results=results),
            sender=self.runtime.unit,
            recipient=job.sender,
            case_number=document.header.case_number,
            in_reply_to=document.header.document_id,
        )
        checked = self.runtime.checker.check(codec.to_bytes(draft), signed=False)
        if not checked.ok:
            raise HandlerContractError("the result would make the receipt invalid: " + ", ".join(checked.codes))

    def _defer(
        self, job: Job, document: Document, item: WorkItem, st: ItemState | None, exc: NeedsMoreTime, ilog: Any
    ) -> tuple[str, datetime | None]:
        now = self.runtime.now()
        retry_at = now + (exc.retry_after or timedelta(seconds=self.settings.more_time_retry_seconds))
        notice: Outbound | None = None
        deadline = exc.proposed_deadline.isoformat()
        if st is None or st.notified_deadline != deadline:
            try:
                notice = self.runtime.prepare(
                    ExtensionNotice(
                        reason=exc.reason,
                        proposed_deadline=exc.proposed_deadline,
                        items=[item.item_id] if item.item_id else [],
                    ),
                    recipient=job.sender,
                    case_number=document.header.case_number,
                    in_reply_to=job.document_id,
                    key=f"extension/{job.document_id}/{item.item_id}/{deadline}",
                )
            except LiandongError as err:
                return self._retry(job, item, HandlerContractError(", ".join(err.codes)), ilog, unexpected=True)
        self.store.record_deferral(
            job.document_id, item.item_id, item.position, retry_at=retry_at, deadline=exc.proposed_deadline, notice=notice
        )
        if notice is not None:
            self.runtime.hand(notice)
        ilog.info("adapter.item_deferred", retry_at=retry_at, proposed_deadline=exc.proposed_deadline, notified=notice is not None)
        return "deferred", retry_at

    def _retry(self, job: Job, item: WorkItem, exc: BaseException, ilog: Any, *, unexpected: bool) -> tuple[str, datetime]:
        failures, retry_at = self.store.record_retry(
            job.document_id, item.item_id, item.position, delay=self.settings.backoff, now=self.runtime.now()
        )
        fields = {"attempt": failures, "retry_at": retry_at, "error": type(exc).__name__}
        if unexpected:
            # Exception messages may quote personal data: the type goes to the log, the
            # traceback only at DEBUG.
            ilog.error("adapter.handler_error", code=codes.HANDLER_ERROR, **fields)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("adapter.handler_traceback\n%s", "".join(traceback.format_exception(exc)))
        elif failures >= self.settings.alert_after_attempts:
            ilog.error("adapter.item_retry", **fields)
        else:
            ilog.warning("adapter.item_retry", **fields)
        return "retrying", retry_at

    def _finish(self, job: Job, document: Document, items: list[WorkItem]) -> tuple[str, None]:
        states = self.store.items(job.document_id)
        if items[0].key.category == "document":
            results = _reply_results(states[""].result or b"")
        else:
            results = [_decode_result(states[i.item_id].result or b"") for i in items]
        now = self.runtime.now()
        if not results:
            self.store.finish_job(job.document_id, state="done", now=now)
            self.log.info("adapter.done", document_id=job.document_id, doc_type=job.doc_type)
            return "done", None
        key = f"receipt/{job.document_id}"
        answer = self.store.get_outbound(key) or self.runtime.prepare(
            ExecutionReceipt(results=results),
            recipient=job.sender,
            case_number=document.header.case_number,
            in_reply_to=job.document_id,
            key=key,
        )
        self.store.finish_job(job.document_id, state="done", now=now, answer=answer)
        stored = self.store.get_outbound(key)
        assert stored is not None
        self.runtime.hand(stored)
        self.log.info("adapter.answered", document_id=job.document_id, receipt_id=stored.document_id, results=len(results))
        return "done", None


def _status_of(stored: bytes) -> str | None:
    if not stored:
        return None
    try:
        elem = parse(stored)
    except LiandongError:
        return None
    return elem.findtext(f"{{{NS}}}Status")
