"""A test harness for adapter authors: run handlers on signed documents without a broker.

    from adapters.sdk.testing import Harness, assert_receipt

    def test_freeze(tmp_path):
        with Harness(BankAdapter, BankSettings(...), directory=tmp_path) as h:
            notice = h.document(AssistanceNotice(ruling=RULING, measures=[freeze]))  # from a court
            out = h.deliver(notice)                   # sealed with the court's example key
            receipt = assert_receipt(out.receipt, answers=notice, statuses={"M1": "Executed"})

The harness is the real SDK — the same :class:`Engine`, store, sealing and checks — with the
network replaced: :meth:`Harness.deliver` does what the transport does (verify end to end with
the real verifier, store, hand over) and every document the adapter sends is collected,
verified again with the real verifier (seal, XSD, rules) and returned as a :class:`SentDocument`.
Time is virtual (:meth:`Harness.advance`): transient retries are run through at once, deferred
items when the test moves the clock.

It needs the example PKI and registry (``certs-example/``, ``examples/network.yaml`` of the
liandong source tree) or your own, passed as ``certs=`` and ``registry=``. When the registry has
no unit of the adapter's kind with keys, the harness makes a throw-away one
(:mod:`adapters.sdk.throwaway_unit`) and removes it on :meth:`Harness.close`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from adapters.sdk.adapter import Adapter
from adapters.sdk.engine import Engine, received_from
from adapters.sdk.runtime import Runtime
from adapters.sdk.service import check_unit_kind
from adapters.sdk.settings import ExecutionSettings
from adapters.sdk.store import AdapterStore, Job
from adapters.sdk.throwaway_unit import ThrowawayUnit, make_throwaway_unit
from broker.checking import DocumentChecker
from broker.documents import codec
from broker.documents.bodies import ExecutionReceipt
from broker.documents.common import Officer, RulingRef
from broker.documents.document import CHINA_TZ, Document
from broker.documents.results import MeasureResult, QueryResult, Result
from broker.documents.xmlmodel import DS_NS, XmlModel
from broker.parsing.hardened import parse
from broker.registry import Registry, load_registry
from broker.sandbox import EXAMPLE_CERTS, EXAMPLE_REGISTRY
from broker.signing import DocumentSigner, TrustStore
from broker.transport.store import InboxEntry

EXAMPLE_COURT = "11445300MB0000001W"
"""广东省云浮市中级人民法院 in the example network."""
EXAMPLE_COURT2 = "11421022MB0000002J"
"""湖北省公安县人民法院 in the example network."""
EXAMPLE_CASE = "（2026）粤53执123号"
EXAMPLE_OFFICERS = (
    Officer(name="李明", phone="0766-8923101", credential_number="粤53执证0012"),
    Officer(name="王芳", phone="0766-8923102", credential_number="粤53执证0027"),
)
EXAMPLE_RULING = RulingRef(ruling_number="（2026）粤53执123号之一")
"""Bank measures and releases come with the enforcement ruling (003 bank rules 9)."""


class VirtualClock:
    """The harness's time: starts now (or at ``start``) and moves only when told."""

    def __init__(self, start: datetime | None = None):
        self.at = (start or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@dataclass(frozen=True)
class SentDocument:
    """A document the adapter sent, verified with the real verifier (seal, XSD, rules)."""

    raw: bytes
    document: Document

    @property
    def document_id(self) -> str:
        return str(self.document.header.document_id)

    @property
    def doc_type(self) -> str:
        return self.document.type

    @property
    def sender(self) -> str:
        return self.document.header.sender

    @property
    def recipient(self) -> str:
        return self.document.header.recipient

    @property
    def in_reply_to(self) -> str | None:
        reply = self.document.header.in_reply_to
        return str(reply) if reply else None

    @property
    def case_number(self) -> str | None:
        return self.document.header.case_number

    @property
    def body(self) -> Any:
        return self.document.body

    @property
    def results(self) -> dict[str, Result]:
        """The results of a receipt by item id."""
        body = self.document.body
        if not isinstance(body, ExecutionReceipt):
            raise AssertionError(f"{self.doc_type} is not an ExecutionReceipt")
        return {_item_id(r): r for r in body.results}

    def result(self, item_id: str) -> Result:
        try:
            return self.results[item_id]
        except KeyError:
            raise AssertionError(f"the receipt has no result for {item_id!r} (has {sorted(self.results)})") from None


@dataclass
class Delivery:
    """What came out of one harness call: the documents the adapter sent, and refusals."""

    documents: list[SentDocument] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Codes: the checker's when the transport would not hand the document over, the SDK's
    (``ADAPTER_SENDER_REFUSED``, ...) when the adapter refused it."""

    def of_type(self, doc_type: str) -> list[SentDocument]:
        return [d for d in self.documents if d.doc_type == doc_type]

    @property
    def receipts(self) -> list[SentDocument]:
        return self.of_type("ExecutionReceipt")

    @property
    def receipt(self) -> SentDocument | None:
        """The receipt sent, None when none was; an error when there were several."""
        found = self.receipts
        if len(found) > 1:
            raise AssertionError(f"{len(found)} receipts were sent")
        return found[0] if found else None

    @property
    def extensions(self) -> list[SentDocument]:
        return self.of_type("ExtensionNotice")

    @property
    def reviews(self) -> list[SentDocument]:
        return self.of_type("ReviewSuggestion")


class _Collector:
    """The harness's transport: verifies and keeps what the adapter sends."""

    def __init__(self, harness: Harness):
        self.harness = harness

    def send(self, raw: bytes) -> str:
        return self.harness._collect(raw)


def _item_id(result: Result) -> str:
    if isinstance(result, MeasureResult):
        return result.measure_id
    if isinstance(result, QueryResult):
        return result.query_id
    return result.release_id


class Harness:
    """Runs an adapter class on documents, in a directory of its own (its store and data_dir).

    - ``settings``: the adapter's settings (an instance of its ``settings_model``, a dict, or
      None for the model's defaults);
    - ``unit``: the unit code the adapter runs as (default: the first unit of a kind it serves
      in the registry that has example keys, else a throw-away unit of that kind: :attr:`throwaway`);
    - ``directory``: where the store and ``runtime.data_dir`` go (default: a temporary
      directory removed by :meth:`close`);
    - ``execution``: retry settings; ``start``: the virtual clock's start.
    """

    def __init__(
        self,
        adapter_cls: type[Adapter],
        settings: BaseModel | Mapping[str, Any] | None = None,
        *,
        unit: str | None = None,
        directory: str | Path | None = None,
        registry: str | Path = EXAMPLE_REGISTRY,
        certs: str | Path = EXAMPLE_CERTS,
        execution: ExecutionSettings | None = None,
        start: datetime | None = None,
        max_auto_retries: int = 20,
    ):
        self.adapter_cls = adapter_cls
        self.certs = Path(certs)
        self.registry: Registry = load_registry(registry)
        self.throwaway: ThrowawayUnit | None = None
        """The unit made for this harness when the registry has none of the adapter's kind with keys."""
        self.unit = unit or self._pick_unit(registry)
        try:
            check_unit_kind(adapter_cls, self.registry, self.unit)
        except BaseException:
            self._remove_throwaway()
            raise
        self._tmp = directory is None
        self.directory = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="liandong-harness-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        crl = self.certs / "crl.pem"
        self.trust = TrustStore.from_files([self.certs / "root-ca.pem"], [crl] if crl.exists() else [])
        self.checker = DocumentChecker(self.trust, self.registry)
        self.clock = VirtualClock(start)
        self.execution = execution or ExecutionSettings()
        self.max_auto_retries = max_auto_retries
        if settings is None:
            settings = adapter_cls.settings_model()
        elif isinstance(settings, Mapping):
            settings = adapter_cls.settings_model.model_validate(settings)
        self.settings = settings
        self.sent: list[SentDocument] = []
        self.on_send: Any = None
        """Called with the raw bytes before each document is collected (raise to simulate a
        crash while handing a document to the transport)."""
        self._signers: dict[str, DocumentSigner] = {}
        try:
            self._boot()
        except BaseException:
            self._remove_throwaway()
            if self._tmp:
                shutil.rmtree(self.directory, ignore_errors=True)
            raise

    # --- lifecycle ------------------------------------------------------------------------------

    def _pick_unit(self, registry: str | Path) -> str:
        for entry in self.registry.units:
            if entry.kind in self.adapter_cls.unit_kinds and (self.certs / "units" / entry.code / "sign.key").exists():
                return entry.code
        if not self.adapter_cls.unit_kinds:
            raise ValueError(f"{self.adapter_cls.__name__} declares no unit_kinds")
        # None in the registry: a throw-away unit of the kind, issued by the same example CA.
        kind = sorted(self.adapter_cls.unit_kinds, key=lambda k: k.value)[0]
        self.throwaway = make_throwaway_unit(kind, self.certs, registry)
        self.registry = load_registry(self.throwaway.registry)
        return self.throwaway.code

    def _boot(self) -> None:
        self.store = AdapterStore(self.directory / "unit.db")
        self.runtime = Runtime(
            unit=self.unit,
            registry=self.registry,
            signer=self.signer(self.unit),
            checker=self.checker,
            store=self.store,
            transport=_Collector(self),
            data_dir=self.directory,
            clock=self.clock,
            adapter_name=self.adapter_cls.name or self.adapter_cls.__name__,
        )
        self.adapter = self.adapter_cls(self.settings, self.runtime)
        self.engine = Engine(self.adapter, self.runtime, self.execution)
        self.store.on_redelivery = self.engine.redelivered
        self.adapter.start()

    def restart(self) -> Delivery:
        """Simulate a new process after a crash: a new adapter instance, runtime and engine over
        the same store and directory; then run what is due (resending what was not handed over)."""
        try:
            self.adapter.stop()
        except Exception:
            pass
        self.store.close()
        self._boot()
        return self.run()

    def close(self) -> None:
        try:
            self.adapter.stop()
        finally:
            self.store.close()
            if self._tmp:
                shutil.rmtree(self.directory, ignore_errors=True)
            self._remove_throwaway()

    def _remove_throwaway(self) -> None:
        if self.throwaway is not None:
            self.throwaway.remove()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- building documents ---------------------------------------------------------------------------

    def signer(self, unit: str) -> DocumentSigner:
        """The example seal of ``unit`` (``certs/units/<unit>/sign.key``)."""
        if unit not in self._signers:
            made = self.throwaway is not None and unit == self.throwaway.code
            self._signers[unit] = DocumentSigner.for_unit(self.throwaway.unit_dir if made else self.certs / "units" / unit)
        return self._signers[unit]

    def document(
        self,
        body: XmlModel,
        *,
        sender: str = EXAMPLE_COURT,
        recipient: str | None = None,
        case_number: str | None = EXAMPLE_CASE,
        officers: Sequence[Officer] = EXAMPLE_OFFICERS,
        in_reply_to: UUID | str | None = None,
        deadline: datetime | None = None,
    ) -> Document:
        """A new document around ``body`` to the adapter's unit, from the example court by
        default, with the example case number and officers, issued at the virtual time."""
        return Document.create(
            body,
            sender=sender,
            recipient=recipient or self.unit,
            case_number=case_number,
            officers=list(officers),
            in_reply_to=UUID(str(in_reply_to)) if in_reply_to else None,
            deadline=deadline,
            issued_at=self.clock().replace(microsecond=0),
        )

    def seal(self, document: Document | bytes) -> bytes:
        """Seal with the sender's example key; signed bytes are returned unchanged."""
        if isinstance(document, bytes):
            root = parse(document)
            if root.find(f"{{{DS_NS}}}Signature") is not None:
                return document
            document = codec.from_element(root)
        return self.signer(document.header.sender).sign(document)

    # --- running ---------------------------------------------------------------------------------------

    def deliver(self, document: Document | bytes | Path) -> Delivery:
        """Deliver a document as the transport would (verify, store, hand over), then run the
        adapter until nothing is due. A model is sealed with its sender's example key and must
        pass the hub's checks (else AssertionError: the test built a wrong document); bytes that
        fail them are not handed over, and :attr:`Delivery.refused` has the codes."""
        built = isinstance(document, Document)
        raw = document.read_bytes() if isinstance(document, Path) else document
        raw = self.seal(raw)
        start = len(self.sent)
        checked = self.checker.check(raw)
        if built and not checked.ok:
            raise AssertionError(f"the document built for the test would be rejected by the hub: {checked.codes}")
        if checked.header is None:
            return Delivery(refused=checked.codes)
        document_id = str(checked.header.document_id)
        new = self.store.record_received(
            InboxEntry(
                document_id=document_id,
                doc_type=checked.header.document_type.value,
                sender=checked.header.sender,
                in_reply_to=str(checked.header.in_reply_to) if checked.header.in_reply_to else None,
                digest=checked.digest,
                received_at=self.clock().isoformat(),
                raw=raw,
                state="received" if checked.ok else "invalid",
            )
        )
        refused: list[str] = []
        if new and not checked.ok:
            self.store.set_inbox_state(document_id, "invalid", ",".join(checked.codes))
            return Delivery(refused=checked.codes)
        if new:
            self.engine.accept(received_from(checked))
            self.store.set_inbox_state(document_id, "handled")
        job = self.store.get_job(document_id)
        if job is not None and job.state == "refused" and job.detail:
            refused.append(job.detail)
        self.run()
        return Delivery(documents=self.sent[start:], refused=refused)

    def redeliver(self, document: Document | bytes | Path) -> Delivery:
        """Deliver the same document again (what the hub does when an acknowledgement is lost)."""
        return self.deliver(document)

    def run(self) -> Delivery:
        """Run what is due now; transient retries are run through by moving the virtual clock
        (at most ``max_auto_retries`` times), deferred items wait for :meth:`advance`."""
        start = len(self.sent)
        for _ in range(self.max_auto_retries + 1):
            delay = self.engine.step()
            if delay is None or not self.store.jobs(states=("retrying",)):
                break
            self.clock.advance(timedelta(seconds=delay))
        return Delivery(documents=self.sent[start:])

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> Delivery:
        """Move the virtual clock (``advance(hours=1)``) and run what became due."""
        self.clock.advance(delta if delta is not None else timedelta(**kwargs))
        return self.run()

    def job(self, document: Document | bytes | str) -> Job | None:
        """The adapter's record of a document: its state (``done``, ``waiting``, ``retrying``,
        ``refused``, ``noted``), attempts and answer."""
        return self.store.get_job(_document_id(document))

    # --- internals ---------------------------------------------------------------------------------

    def _collect(self, raw: bytes) -> str:
        if self.on_send is not None:
            self.on_send(raw)
        checked = self.checker.check(raw)
        if not checked.ok or checked.root is None:
            raise AssertionError(f"the adapter sent a document the hub would reject: {checked.codes}")
        sent = SentDocument(raw=raw, document=codec.from_element(checked.root))
        if sent.sender != self.unit:
            raise AssertionError(f"sent as {sent.sender}, not as the adapter's unit {self.unit}")
        self.sent.append(sent)
        return sent.document_id


def _document_id(document: Document | bytes | str) -> str:
    if isinstance(document, Document):
        return str(document.header.document_id)
    if isinstance(document, bytes):
        return str(codec.from_element(parse(document)).header.document_id)
    return str(document)


# --- assertions ---------------------------------------------------------------------------------------


def _status_value(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def assert_receipt(
    sent: SentDocument | None,
    *,
    answers: Document | bytes | str,
    statuses: Mapping[str, Any] | None = None,
    case_number: str | None = None,
) -> ExecutionReceipt:
    """Assert ``sent`` is a sealed receipt answering ``answers`` (a notice, or its id),
    addressed to the notice's sender, carrying the notice's case number (or ``case_number``),
    with exactly the items of ``statuses`` in those statuses
    (``{"M1": ResultStatus.EXECUTED, "Q1": "NotFound"}``). Returns the receipt body."""
    assert sent is not None, "no receipt was sent"
    assert sent.doc_type == "ExecutionReceipt", f"a {sent.doc_type} was sent, not a receipt"
    notice = _notice(answers)
    if notice is not None:
        assert sent.in_reply_to == str(notice.header.document_id), "the receipt answers another document"
        assert sent.recipient == notice.header.sender, "the receipt goes to someone other than the notice's sender"
        expected_case = case_number or notice.header.case_number
    else:
        assert sent.in_reply_to == str(answers), "the receipt answers another document"
        expected_case = case_number
    if expected_case is not None:
        assert sent.case_number == expected_case, f"case number {sent.case_number!r}, expected {expected_case!r}"
    if statuses is not None:
        got = {item: _status_value(r.status) for item, r in sent.results.items()}
        want = {item: _status_value(s) for item, s in statuses.items()}
        assert got == want, f"receipt statuses {got}, expected {want}"
    body = sent.body
    assert isinstance(body, ExecutionReceipt)
    return body


def assert_not_executed(sent: SentDocument, item_id: str, *, reason_contains: str | None = None) -> Result:
    """Assert the receipt says ``item_id`` was not carried out, with a reason (containing ``reason_contains``)."""
    result = sent.result(item_id)
    assert _status_value(result.status) in ("NotExecuted", "NotReleased"), f"{item_id} is {_status_value(result.status)}"
    assert result.reason, f"{item_id} was not carried out but the receipt gives no reason (003 bank rules 17)"
    if reason_contains is not None:
        assert reason_contains in result.reason, f"{item_id}: reason {result.reason!r} lacks {reason_contains!r}"
    return result


def _notice(answers: Document | bytes | str) -> Document | None:
    if isinstance(answers, Document):
        return answers
    if isinstance(answers, bytes):
        return codec.from_element(parse(answers))
    return None


__all__ = [
    "EXAMPLE_CASE",
    "EXAMPLE_COURT",
    "EXAMPLE_COURT2",
    "EXAMPLE_OFFICERS",
    "EXAMPLE_RULING",
    "Delivery",
    "Harness",
    "SentDocument",
    "VirtualClock",
    "assert_not_executed",
    "assert_receipt",
]
