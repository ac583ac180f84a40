"""What several routers share: the documented error answers, paging, and the 202 body."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse

from broker.gateway import status
from broker.gateway.problems import ProblemBody

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemBody, "description": text}
    for code, text in (
        (401, "no token or a wrong one"),
        (403, "the token lacks the scope"),
        (404, "not this gateway's document"),
        (409, "the Idempotency-Key or answer conflicts with an earlier one"),
        (413, "the body is too large"),
        (415, "neither JSON nor XML"),
        (422, "the document or answer has problems (codes of docs/error-codes.md)"),
    )
}
"""The error answers every ``/v1`` route may give, for the OpenAPI document."""

Cursor = Annotated[int, Query(ge=0, description="next_cursor of the previous page; 0 from the start")]
Limit = Annotated[int, Query(ge=1, le=1000)]
"""A page of a list read with a cursor (the inbox, the events)."""


def accepted(id_field: str, document_id: str, new: bool, *, location: bool = False) -> JSONResponse:
    """202 for a document the gateway sealed and sent (or had already: ``new`` False), with where
    to follow it and its sealed XML."""
    status_url = f"/v1/documents/{document_id}"
    return JSONResponse(
        {id_field: document_id, "status_url": status_url, "xml_url": status.xml_url(document_id), "new": new},
        status_code=202,
        headers={"Location": status_url} if location else None,
    )
