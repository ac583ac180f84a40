"""A court's client: seal a document, publish it, and wait for the hub's answer.

    with CourtClient(load_unit_config("court.yaml")) as court:
        answer = court.publish(Document.create(body, sender=..., recipient=..., case_number=...))
        answer.accepted, answer.received_at   # the legal time of service (003 bank rules 16)

The document stays in the court's local store until the hub's service receipt or rejection
arrives, and is published again with backoff until then (DEVELOPERS.md: reliability comes from
end-to-end acknowledgements, not from MQTT alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType


from broker.configuration import UnitConfig
from broker.documents.document import Document
from broker.documents.xmlmodel import DS_NS, NS
from broker.parsing.hardened import parse
from broker.registry import load_registry
from broker.transport.unit import Handler, Received, UnitClient

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


class CourtClient:
    """Publishes a court's documents; ``handler`` receives everything else that arrives
    (receipts of result, extension notices, lead reports, ...)."""

    def __init__(self, config: UnitConfig, handler: Handler | None = None):
        self.config = config
        self.signer = config.seal.signer()
        self.unit = UnitClient(
            config.unit,
            host=config.broker.host,
            port=config.broker.port,
            trust=config.trust.store(),
            registry=load_registry(config.registry),
            store=config.store,
            handler=handler,
            tls=(config.broker.cert, config.broker.key),
            cafile=config.broker.ca,
            session_expiry=config.broker.session_expiry_seconds,
            resend_after=config.resend_after_seconds,
            protocol=config.broker.protocol,
            failover=config.broker.failover_endpoints(),
        )

    def __enter__(self) -> "CourtClient":
        self.unit.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.unit.stop()

    def seal(self, document: Document | bytes) -> bytes:
        """Seal a model or unsigned bytes; already sealed bytes are returned unchanged."""
        if isinstance(document, bytes):
            root = parse(document)
            if root.find("{" + DS_NS + "}Signature") is not None:
                return document
            return self.signer.sign(root)
        return self.signer.sign(document)

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


