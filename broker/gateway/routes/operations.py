"""``/healthz``, ``/readyz``, ``/metrics``: no token (a probe or Prometheus on the same host)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from broker.gateway.auth import Runtime
from broker.gateway.operations import gateway_readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(rt: Runtime) -> dict[str, Any]:
    """Alive; whether the broker connection is up."""
    return {"unit": rt.unit, "broker_connected": rt.client.unit.connected}


@router.get("/readyz", responses={503: {"description": "not ready: each failing check"}})
def readyz(rt: Runtime) -> JSONResponse:
    """Ready for work: broker connected, store and state writable, seal valid and not near
    expiry; 503 naming each failing check with its code."""
    code, body = gateway_readiness(rt)
    return JSONResponse(body, status_code=code)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(rt: Runtime) -> Response:
    """Prometheus metrics, in the text format."""
    return Response(rt.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
