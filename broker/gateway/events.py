"""Events for the organisation's system: what arrived, by polling with a cursor or by
Server-Sent Events. Courts see their documents served, rejected and answered; units see
documents arrive.

Events are read from the unit's store (:mod:`broker.gateway.inbox`), where the transport has
recorded each arrival durably before acknowledging it: nothing is lost while the organisation's
system or the gateway is down — it asks again from its last cursor. An event's ``id`` is the
arriving document's id, stable for de-duplication; its ``cursor`` is its place in arrival order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from broker.gateway.inbox import Arrival, InboxReader
from broker.gateway.status import xml_url

KINDS = {"ServiceReceipt": "served", "RejectionNotice": "rejected"}
POLL_SECONDS = 0.05
"""How often an open stream looks for new arrivals: one indexed read of the local SQLite store
(tens of microseconds), so often that the poll adds little to an event's latency (bench/gateway.py)."""
HEARTBEAT_SECONDS = 15.0
"""A comment line this often keeps proxies from closing a quiet stream."""
DISCONNECT_CHECK_SECONDS = 1.0
"""How often a quiet stream asks whether its client is still there (a stream that is writing
finds out from the write)."""


def event_of(arrival: Arrival) -> dict[str, Any]:
    """The JSON of one event: ``served`` / ``rejected`` (the hub's answer to a document this unit
    sent: ``document_id`` is that document), ``answered`` (a receipt, extension notice, … to it),
    ``received`` (a new document for this unit)."""
    kind = KINDS.get(arrival.doc_type) or ("answered" if arrival.answers else "received")
    subject = (
        arrival.answers
        if kind in ("served", "rejected", "answered") and arrival.answers
        else arrival.document_id
    )
    return {
        "id": arrival.document_id,
        "cursor": str(arrival.cursor),
        "type": kind,
        "document_id": subject,
        "arrived": {
            "document_id": arrival.document_id,
            "type": arrival.doc_type,
            "sender": arrival.sender,
            "xml_url": xml_url(arrival.document_id),
        },
        "received_at": arrival.received_at,
        "status_url": f"/v1/documents/{subject}",
    }


def events_page(reader: InboxReader, cursor: int, limit: int) -> dict[str, Any]:
    arrivals = reader.arrivals(cursor, limit)
    return {
        "events": [event_of(a) for a in arrivals],
        "next_cursor": str(arrivals[-1].cursor if arrivals else cursor),
    }


async def stream(request: Request, reader: InboxReader, cursor: int) -> AsyncIterator[str]:
    """Server-Sent Events from ``cursor`` on, until the client goes away (``id:`` is the cursor,
    so a reconnecting EventSource resumes with ``Last-Event-ID``).

    A quiet stream costs little: each poll asks :meth:`InboxReader.latest` on the event loop
    (microseconds) and leaves the loop for a thread only when something arrived; whether the
    client is still there is asked once a second. Reading the store in a thread and asking for
    the client every 50 ms cost 8.9 ms of CPU a second per idle stream; this, 2.1
    (docs/performance.md)."""
    quiet = unchecked = 0.0
    while True:
        latest = reader.latest()
        if latest > cursor:
            arrivals = await run_in_threadpool(reader.arrivals, cursor, 100)
            if not arrivals:  # only documents that never verified: nothing to tell, skip them
                cursor = latest
                continue
            for arrival in arrivals:
                event = event_of(arrival)
                data = json.dumps(event, ensure_ascii=False)
                yield f"id: {arrival.cursor}\nevent: {event['type']}\ndata: {data}\n\n"
                cursor = arrival.cursor
            quiet = 0.0
            continue
        if unchecked >= DISCONNECT_CHECK_SECONDS:
            if await request.is_disconnected():
                return
            unchecked = 0.0
        await asyncio.sleep(POLL_SECONDS)
        quiet += POLL_SECONDS
        unchecked += POLL_SECONDS
        if quiet >= HEARTBEAT_SECONDS:
            quiet = 0.0
            yield ": still here\n\n"
