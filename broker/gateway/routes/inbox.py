"""``/v1/inbox``: the documents for this unit, oldest first (its answers: :mod:`.answers`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from broker.gateway import status
from broker.gateway.answer import answer_urls
from broker.gateway.auth import Reader, Runtime
from broker.gateway.routes.common import ERRORS, Cursor, Limit

router = APIRouter(prefix="/v1/inbox", tags=["units"], responses=ERRORS)


@router.get("")
def get_inbox(rt: Runtime, caller: Reader, cursor: Cursor = 0, limit: Limit = 100) -> dict[str, Any]:
    """Documents for this unit, oldest first, as JSON with a link to the sealed XML and where
    each can be answered (``answer_urls``: ``result``, ``extension``, ``review``, ``lead``)."""
    page = status.inbox_page(rt.inbox, cursor, limit)
    for item in page["items"]:
        item["answer_urls"] = answer_urls(item["document_id"], item["type"])
    return page
