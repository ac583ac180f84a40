"""``/v1/events``: what arrived, by polling with a cursor or as Server-Sent Events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from broker.gateway import events
from broker.gateway.auth import Reader, Runtime
from broker.gateway.routes.common import ERRORS, Cursor, Limit

router = APIRouter(prefix="/v1/events", tags=["courts", "units"], responses=ERRORS)


@router.get("")
def get_events(rt: Runtime, caller: Reader, cursor: Cursor = 0, limit: Limit = 100) -> dict[str, Any]:
    """What arrived after ``cursor``, oldest first: documents served, rejected, answered
    (courts), documents received (units). ``id`` is stable: use it to drop duplicates."""
    return events.events_page(rt.inbox, cursor, limit)


@router.get(
    "/stream",
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
    response_class=StreamingResponse,
)
def stream_events(
    request: Request,
    rt: Runtime,
    caller: Reader,
    cursor: Annotated[
        int | None, Query(ge=0, description="start after this cursor (default: Last-Event-ID, else 0)")
    ] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """The same events as Server-Sent Events, as they arrive."""
    start = cursor if cursor is not None else int(last_event_id) if (last_event_id or "").isdigit() else 0
    return StreamingResponse(
        events.stream(request, rt.inbox, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
