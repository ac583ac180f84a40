"""A court's document through the gateway: JSON (the Document model) or unsigned XML, checked
as the hub will check it, sealed with the court's seal, published once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from pydantic import ValidationError

from broker.documents import codec
from broker.documents.document import BODY_BY_TYPE, CHINA_TZ, Document, Header
from broker.documents.xmlmodel import DS_NS
from broker.errors import problem
from broker.gateway import kinds
from broker.gateway.problems import GatewayError, field_problems
from broker.gateway.runtime import GatewayRuntime
from broker.parsing.hardened import parse


@dataclass(frozen=True)
class Submitted:
    document_id: str
    new: bool
    """False when the same request (key or document) was already published: nothing was sent."""


def media_type(content_type: str | None) -> str:
    """``json`` or ``xml``; ``GW_MEDIA_TYPE`` (415) for anything else."""
    base = (content_type or "").split(";")[0].strip().lower()
    if base == "application/json" or base.endswith("+json"):
        return "json"
    if base in ("application/xml", "text/xml") or base.endswith("+xml"):
        return "xml"
    raise GatewayError.of("GW_MEDIA_TYPE", content_type=base or "(none)")


def draft_from_json(raw: bytes) -> bytes:
    """The unsigned XML of a JSON Document; field errors named by their JSON path."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise GatewayError.of(
            "GW_JSON_MALFORMED", detail=type(exc).__name__ if isinstance(exc, RecursionError) else str(exc)
        ) from None
    return codec.to_bytes(_document(data))


def _document(data: object) -> Document:
    """The Document model of ``data``. The body is validated as the type the header names, so
    a mistake is reported once at its path, not once for each of the 30 body types it is not."""
    problems = []
    body_type = None
    if isinstance(data, dict) and isinstance(data.get("Header"), dict) and isinstance(data.get("Body"), dict):
        body_type = BODY_BY_TYPE.get(str(data["Header"].get("DocumentType")))
    if body_type is not None:
        # each "Kind" names the member of a choice (a rotating freeze, not a plain one)
        if data["Body"].get(kinds.KIND) == body_type.xml_tag:
            del data["Body"][kinds.KIND]  # the body's kind is the header's DocumentType
        problems += kinds.resolve(data["Body"], body_type, ("Body",))
    if body_type is not None and not problems:
        try:
            body_type.model_validate(data["Body"])
        except ValidationError as exc:
            problems += field_problems(exc.errors(include_input=False), prefix=("Body",))
        try:
            Header.model_validate(data["Header"])
        except ValidationError as exc:
            problems += field_problems(exc.errors(include_input=False), prefix=("Header",))
    if not problems:
        try:
            return Document.model_validate(data)
        except ValidationError as exc:
            problems = field_problems(exc.errors(include_input=False))
    raise GatewayError(problems)


def submit(rt: GatewayRuntime, raw: bytes, kind: str, key: str | None) -> Submitted:
    """Check, seal and publish; the same key (or the same document id) and body give the same
    document without a second publication.

    Checking and sealing run outside the lock, in the gateway's worker processes
    (:mod:`broker.gateway.preparing`: they are most of the work, and need none of the gateway's
    state); only the decision to publish — key, earlier document, send, remember — is
    serialised, here in the gateway's process."""
    digest = hashlib.sha256(raw).hexdigest()
    if key is not None and (repeated := _repeat(rt, key, digest)) is not None:
        return repeated  # a known key answers at once, without checking again
    ready = rt.preparer.prepare(raw, kind, datetime.now(CHINA_TZ))
    document_id = ready.document_id
    with rt.state.lock:
        if key is not None and (repeated := _repeat(rt, key, digest)) is not None:
            return repeated  # the same key came in twice at once: the first one published
        earlier = rt.store.get_sent(document_id)
        if earlier is not None:
            # the same id again: the same document is not published twice, another one is refused
            if _unsealed(earlier.raw) != _unsealed(ready.draft):
                raise GatewayError([problem("DOC_ID_REUSED", document_id=document_id)])
            new = False
        else:
            rt.client.send(ready.sealed)
            new = True
        if key is not None:
            rt.state.remember(key, digest, document_id)
        return Submitted(document_id, new)


def _repeat(rt: GatewayRuntime, key: str, digest: str) -> Submitted | None:
    """What an earlier request with ``key`` made; ``GW_IDEMPOTENCY_CONFLICT`` for another body."""
    given = rt.state.idempotent(key)
    if given is None:
        return None
    if given.digest != digest:
        raise GatewayError.of("GW_IDEMPOTENCY_CONFLICT", key=key[:80])
    return Submitted(given.document_id, new=False)


def _unsealed(raw: bytes) -> bytes:
    """The canonical form of a document without its seal (a seal need not be deterministic)."""
    root = parse(raw)
    for sig in root.findall("{" + DS_NS + "}Signature"):
        root.remove(sig)
    return etree.tostring(root, method="c14n", exclusive=True)
