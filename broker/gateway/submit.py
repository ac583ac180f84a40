"""A court's document through the gateway: JSON (the Document model) or unsigned XML, checked
as the hub will check it, sealed with the court's seal, published once."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from pydantic import ValidationError

from broker.documents import codec
from broker.documents.document import BODY_BY_TYPE, CHINA_TZ, Document, Header
from broker.gateway import kinds
from broker.gateway.problems import GatewayError, field_problems
from broker.gateway.publishing import Submitted
from broker.gateway.runtime import GatewayRuntime


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

    Checking and sealing run outside any lock, in the gateway's worker processes
    (:mod:`broker.gateway.preparing`: they are most of the work, and need none of the gateway's
    state); the decision to publish — key, earlier document, send, remember — is made one request
    at a time in the gateway's process, and the new documents of the requests in flight are
    recorded and published together (:mod:`broker.gateway.publishing`)."""
    digest = hashlib.sha256(raw).hexdigest()
    if key is not None and (repeated := rt.publisher.repeat(key, digest)) is not None:
        return repeated  # a known key answers at once, without checking again
    ready = rt.preparer.prepare(raw, kind, datetime.now(CHINA_TZ))
    return rt.publisher.publish(ready, key, digest)
