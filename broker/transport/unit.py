"""A member unit's connection to the network: receive, verify, store, hand over, acknowledge;
and send the unit's own documents until the hub has answered them.

Used by courts (:mod:`broker.court`) and by the adapter SDK. For each message on the unit's
``in`` topic, in order:

1. verify it end to end — the original sender's seal, not just the hub's word (a hub is not
   trusted to have checked) — with the same pipeline the hub runs (:mod:`broker.checking`);
2. record it in the local store (:mod:`broker.transport.store`), durably;
3. acknowledge it to the broker (paho manual ack) and to the hub (``ack`` topic), so the hub
   stops redelivering and records it as delivered;
4. hand it to the handler once per document id: a redelivered document is acknowledged again
   but not handed over twice; one received but not yet handled when the unit stopped is handed
   over at the next start.

Documents the unit sends are kept in the store until the hub's service receipt or rejection for
them arrives, and published again when they may have been lost (MQTT alone may lose them,
docs/contributing.md): never while the hub is answering, only what the order of its answers shows
lost, else one probe with backoff (:mod:`broker.transport.resend`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import paho.mqtt.client as mqtt
from lxml import etree

from broker.checking import CheckedDocument, DocumentChecker, payload_digest
from broker.documents import codec
from broker.documents.document import CHINA_TZ, Document
from broker.documents.xmlmodel import NS
from broker.errors import LiandongError
from broker.logs import event
from broker.parsing.hardened import parse
from broker.registry import Registry
from broker.signing import TrustStore
from broker.transport import topics
from broker.transport.messages import encode_acks, encode_status
from broker.transport.resend import ResendPolicy
from broker.transport.mqtt import tls_client
from broker.transport.store import InboxEntry, UnitStore

log = logging.getLogger("liandong.unit")

_ID = etree.XPath("string(/ld:Document/ld:Header/ld:DocumentId)", namespaces={"ld": NS})
_TYPE = etree.XPath("string(/ld:Document/ld:Header/ld:DocumentType)", namespaces={"ld": NS})
ANSWER_TYPES = {"ServiceReceipt": "receipted", "RejectionNotice": "rejected"}


@dataclass(frozen=True)
class Received:
    """A verified document from the unit's inbox."""

    document_id: str
    doc_type: str
    sender: str
    recipient: str
    in_reply_to: str | None
    case_number: str | None
    raw: bytes
    root: etree._Element

    def document(self) -> Document:
        """The typed model, decoded from the verified tree."""
        return codec.from_element(self.root)


Handler = Callable[[Received], None]


def _now() -> datetime:
    return datetime.now(CHINA_TZ)


class UnitClient:
    """One unit's session with the network. ``start()``, then ``send()``; ``stop()`` at the end."""

    def __init__(
        self,
        unit: str,
        *,
        host: str,
        port: int,
        trust: TrustStore,
        registry: Registry | None,
        store: UnitStore | str | Path,
        handler: Handler | None = None,
        tls: tuple[Path, Path] | None = None,
        certs: Path | None = None,
        cafile: Path | None = None,
        session_expiry: int = 7 * 24 * 3600,
        resend_after: float = 30.0,
        max_resend_interval: float = 600.0,
        protocol: str = "5",
        failover: list[tuple[str, int]] | None = None,
    ):
        self.unit = unit
        self.store = store if isinstance(store, UnitStore) else UnitStore(store)
        self.checker = DocumentChecker(trust, registry)
        self.handler = handler
        self.resend = ResendPolicy(resend_after, max_resend_interval)
        kwargs: dict[str, Any] = {
            "session_expiry": session_expiry,
            "manual_ack": True,
            "protocol": protocol,
            "failover": failover or (),
        }
        if certs is not None:
            kwargs["certs"] = certs
        if cafile is not None:
            kwargs["cafile"] = cafile
        self.client = tls_client(tls if tls is not None else unit, host, port, **kwargs)
        self.client.will_set(topics.status(unit), encode_status("offline"), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._queue: queue.Queue[tuple[int, int, bytes] | None] = queue.Queue()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._gen = 0
        self._pending_acks: list[str] = []
        self._answers = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"unit-{unit}", daemon=True)
        self._last_resend_scan = 0.0

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> None:
        self.client.loop_start()
        self._thread.start()
        if not self._connected.wait(timeout):
            raise RuntimeError(f"unit {self.unit} could not connect to the broker")

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=30)
        try:
            self.client.publish(topics.status(self.unit), encode_status("offline", _now()), qos=1, retain=True).wait_for_publish(2)
        except (RuntimeError, ValueError):
            pass
        self.client.disconnect()
        self.client.loop_stop()
        self.store.close()

    @property
    def connected(self) -> bool:
        return self.client.is_connected()

    # --- network thread ----------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            event(log, "mqtt.connect_failed", logging.WARNING, unit=self.unit, reason=str(reason_code))
            return
        self._gen += 1
        client.subscribe(topics.inbox(self.unit), qos=1)
        client.publish(topics.status(self.unit), encode_status("online", _now()), qos=1, retain=True)
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put((msg.mid, self._gen, msg.payload))

    # --- processing thread -------------------------------------------------------------------

    def _run(self) -> None:
        self._dispatch_unhandled()
        first_pending = 0.0
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.02)
            except queue.Empty:
                item = None
            try:
                if item is not None:
                    self._process(*item)
                    if len(self._pending_acks) == 1:
                        first_pending = time.monotonic()
                if self._pending_acks and (
                    len(self._pending_acks) >= 100 or item is None or time.monotonic() - first_pending > 0.05
                ):
                    self._flush_acks()
                self._resend_due()
            except Exception:
                log.exception("unit.processing_error")
        self._flush_acks()

    def _ack(self, mid: int, gen: int) -> None:
        if gen == self._gen:
            self.client.ack(mid, 1)

    def _process(self, mid: int, gen: int, raw: bytes) -> None:
        checked = self.checker.check(raw)
        header = checked.header
        if header is None:
            event(log, "inbox.unreadable", logging.ERROR, unit=self.unit, codes=checked.codes, digest=checked.digest)
            self._ack(mid, gen)
            return
        document_id = str(header.document_id)
        new = self.store.record_received(
            InboxEntry(
                document_id=document_id,
                doc_type=header.document_type.value,
                sender=header.sender,
                in_reply_to=str(header.in_reply_to) if header.in_reply_to else None,
                digest=checked.digest,
                received_at=_now().isoformat(),
                raw=raw,
                state="received" if checked.ok else "invalid",
            )
        )
        self._ack(mid, gen)
        self._pending_acks.append(document_id)
        if not new:
            return
        if not checked.ok:
            # The hub should never forward this; the unit does not act on what it cannot verify.
            event(log, "inbox.invalid", logging.ERROR, unit=self.unit, document_id=document_id, codes=checked.codes)
            self.store.set_inbox_state(document_id, "invalid", ",".join(checked.codes))
            return
        self._deliver(_received(checked))

    def _deliver(self, received: Received) -> None:
        answer_state = ANSWER_TYPES.get(received.doc_type)
        if answer_state:
            digest = received.root.findtext(f"{{{NS}}}RejectionNotice/{{{NS}}}PayloadDigest")
            with self._answers:
                settled = self.store.settle(
                    document_id=received.in_reply_to, digest=digest, state=answer_state, answer_id=received.document_id
                )
                self._answers.notify_all()
            self.resend.answered(settled)
        if self.handler is None:
            self.store.set_inbox_state(received.document_id, "handled")
            return
        try:
            self.handler(received)
        except Exception as exc:
            log.exception("unit.handler_failed")
            self.store.set_inbox_state(received.document_id, "failed", type(exc).__name__)
            return
        self.store.set_inbox_state(received.document_id, "handled")

    def _dispatch_unhandled(self) -> None:
        """Hand over what was stored but not handled before the last stop (or crash)."""
        for entry in self.store.inbox(state="received"):
            checked = self.checker.check(entry.raw)
            if checked.ok:
                self._deliver(_received(checked))

    def _flush_acks(self) -> None:
        ids, self._pending_acks = self._pending_acks, []
        for i in range(0, len(ids), 1000):
            self.client.publish(topics.acks(self.unit), encode_acks(ids[i : i + 1000]), qos=1)

    # --- sending -------------------------------------------------------------------------------

    def send(self, raw: bytes) -> str:
        """Send a signed document; it is kept and resent until the hub answers. Returns its id."""
        document_id, doc_type, digest = _sent_facts(raw)
        self.store.record_sent(document_id, doc_type, digest, raw, _now())
        self._publish(document_id, raw)
        return document_id

    def send_many(self, raws: list[bytes]) -> list[str]:
        """:meth:`send` for several signed documents, recorded in one transaction of the store
        (one fsync instead of two for each), then published. Returns their ids."""
        documents = [(*_sent_facts(raw), raw) for raw in raws]
        self.store.record_sent_many(documents, _now())  # their first attempts with them
        for document_id, _, _, raw in documents:
            self.resend.published(document_id, self.client.publish(topics.outbox(self.unit), raw, qos=1))
        return [d[0] for d in documents]

    @property
    def resend_after(self) -> float:
        """Seconds of the hub's silence before anything is published again (backoff base)."""
        return self.resend.resend_after

    @resend_after.setter
    def resend_after(self, seconds: float) -> None:
        self.resend.resend_after = seconds
        self.resend.max_interval = max(self.resend.max_interval, seconds)

    def _publish(self, document_id: str, raw: bytes) -> None:
        self.store.mark_attempt(document_id, _now())
        info = self.client.publish(topics.outbox(self.unit), raw, qos=1)
        self.resend.published(document_id, info)

    def _resend_due(self) -> None:
        now_mono = time.monotonic()
        if now_mono - self._last_resend_scan < 1.0 or not self.connected:
            return
        self._last_resend_scan = now_mono
        for document_id in self.resend.due(self.store.unanswered(), _now()):
            entry = self.store.get_sent(document_id)
            if entry is None or entry.state != "pending":
                continue
            event(log, "outbox.resend", unit=self.unit, document_id=document_id, attempt=entry.attempts + 1)
            self._publish(document_id, entry.raw)

    def wait_answer(self, document_id: str, timeout: float = 60.0) -> Received | None:
        """Wait for the hub's service receipt or rejection of a sent document."""
        deadline = time.monotonic() + timeout
        with self._answers:
            while True:
                sent = self.store.get_sent(document_id)
                if sent is not None and sent.answer_id:
                    entry = self.store.get_received(sent.answer_id)
                    if entry is not None:
                        checked = self.checker.check(entry.raw)
                        return _received(checked) if checked.root is not None else None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._answers.wait(min(remaining, 0.5))


def _received(checked: CheckedDocument) -> Received:
    header = checked.header
    assert header is not None and checked.root is not None
    return Received(
        document_id=str(header.document_id),
        doc_type=header.document_type.value,
        sender=header.sender,
        recipient=header.recipient,
        in_reply_to=str(header.in_reply_to) if header.in_reply_to else None,
        case_number=header.case_number,
        raw=checked.raw,
        root=checked.root,
    )


def _sent_facts(raw: bytes) -> tuple[str, str, str]:
    """(document id, type, digest) of a signed document to send; DOC_DECODE without an id."""
    root = parse(raw)
    document_id, doc_type = _ID(root), _TYPE(root)
    if not document_id:
        raise LiandongError.of("DOC_DECODE", detail="no Header/DocumentId")
    return document_id, doc_type, payload_digest(raw)
