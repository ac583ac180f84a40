"""``/v1/cases``: every document of a case number this unit sent or received."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from broker.gateway import status
from broker.gateway.auth import Reader, Runtime
from broker.gateway.routes.common import ERRORS

router = APIRouter(prefix="/v1/cases", tags=["courts", "units"], responses=ERRORS)


@router.get("/{case_number}")
def get_case(case_number: str, rt: Runtime, caller: Reader) -> dict[str, Any]:
    """Every document of a case this unit sent or received, with its state."""
    documents = status.case_documents(rt.store, case_number, rt.deadlines)
    return {"case_number": case_number, "documents": documents}
