"""A court's client: seal a document, publish it, and wait for the hub's answer.

    with CourtClient(load_unit_config("court.yaml")) as court:
        answer = court.publish(Document.create(body, sender=..., recipient=..., case_number=...))
        answer.accepted, answer.received_at   # the legal time of service (003 bank rules 16)

The document stays in the court's local store until the hub's service receipt or rejection
arrives, and is published again with backoff until then (docs/contributing.md: reliability comes from
end-to-end acknowledgements, not from MQTT alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broker.configuration import UnitConfig, require_files
from broker.court.unit import CourtUnit
from broker.documents.document import Document
from broker.documents.xmlmodel import DS_NS, NS
from broker.parsing.hardened import parse
from broker.signing.signer import DocumentSigner
from broker.transport.unit import Handler, Received

_LD = "{" + NS + "}"


@dataclass(frozen=True)
class Answer:
    """The hub's answer to a published document: a service receipt or a rejection."""

    document_id: str
    accepted: bool
    notice: Received

    @property
    def received_at(self) -> datetime | None:
        """When the document reached the network (the time of service), if accepted."""
        text = self.notice.root.findtext(f"{_LD}ServiceReceipt/{_LD}ReceivedAt")
        return datetime.fromisoformat(text) if text else None

    @property
    def errors(self) -> list[tuple[str, str, str]]:
        """(code, message in Chinese, message in English) of a rejection."""
        return [
            (e.findtext(f"{_LD}Code") or "", e.findtext(f"{_LD}MessageZh") or "", e.findtext(f"{_LD}MessageEn") or "")
            for e in self.notice.root.iter(f"{_LD}Error")
        ]


def seal_with(signer: DocumentSigner, document: Document | bytes) -> bytes:
    """:meth:`CourtClient.seal` with ``signer``, for a process without the client (the gateway's
    workers, broker/gateway/preparing.py)."""
    if isinstance(document, bytes):
        root = parse(document)
        if root.find("{" + DS_NS + "}Signature") is not None:
            return document
        return signer.sign(root)
    return signer.sign(document)


class CourtClient:
    """Publishes a court's documents; ``handler`` receives everything else that arrives
    (receipts of result, extension notices, lead reports, ...), once per document, in arrival
    order, on the client's handover thread; a handler that raises gets the document again later.

    Raises :class:`LiandongError` ``UNIT_CONFIG_INVALID`` naming every file of ``config`` that
    cannot be read."""

    def __init__(self, config: UnitConfig, handler: Handler | None = None):
        require_files(config, code="UNIT_CONFIG_INVALID")
        self.config = config
        self.signer = config.seal.signer()
        self.unit = CourtUnit(config, handler)

    def start(self, timeout: float | None = None) -> CourtClient:
        """Connect and start receiving; :class:`LiandongError` ``BROKER_UNREACHABLE`` when the
        broker did not accept the connection within ``timeout`` seconds (default 30). A client
        that could not connect is closed: build a new one to try again."""
        self.unit.start(timeout)
        return self

    def stop(self) -> None:
        """Let the handler finish the document in hand, disconnect, close the store."""
        self.unit.stop()

    def __enter__(self) -> CourtClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def seal(self, document: Document | bytes) -> bytes:
        """Seal a model or unsigned bytes; already sealed bytes are returned unchanged."""
        return seal_with(self.signer, document)

    def send(self, document: Document | bytes) -> str:
        """Seal (if needed) and publish without waiting; returns the document id."""
        return self.unit.send(self.seal(document))

    def publish(self, document: Document | bytes, *, timeout: float = 60.0) -> Answer:
        """Seal, publish and wait for the hub's answer; raises TimeoutError without one."""
        document_id = self.send(document)
        notice = self.unit.wait_answer(document_id, timeout)
        if notice is None:
            raise TimeoutError(f"no answer from the hub for {document_id} within {timeout:.0f} s")
        return Answer(document_id, notice.doc_type == "ServiceReceipt", notice)
