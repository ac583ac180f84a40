"""``/v1/inbox``: the documents for this unit, oldest first (its answers: :mod:`.answers`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from broker.gateway import status
from broker.gateway.auth import Reader, Runtime
from broker.gateway.routes.common import ERRORS

router = APIRouter(prefix="/v1/inbox", tags=["units"], responses=ERRORS)


@router.get("")
def get_inbox(
    rt: Runtime,
    caller: Reader,
    cursor: Annotated[int, Query(ge=0, description="next_cursor of the previous page; 0 from the start")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Documents for this unit, oldest first, as JSON with a link to the sealed XML."""
    return status.inbox_page(rt.inbox, cursor, limit)
