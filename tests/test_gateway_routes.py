"""Another package adds its router to the gateway with one line (``broker.gateway.routes``), or
mounts a whole FastAPI application: its routes get the gateway's runtime, token scopes, house
error body and audit log. Served by uvicorn on a free port and called over real HTTP; no broker
is needed (the gateway's network session is built but not started: these routes do not use it)."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

from broker.gateway import routes
from broker.gateway.app import create_app
from broker.gateway.auth import Reader, Runtime
from broker.gateway.config import GatewayConfig
from broker.gateway.runtime import GatewayRuntime
from broker.mosquitto import free_port
from tests.network import COURT, unit_config
from tests.served import serving

SECRET = "render-test-secret-0123456789abcdef"

# what a package such as broker/render writes: a router using the gateway's dependencies
router = APIRouter(prefix="/v1/extra", tags=["extra"])


@router.get("/{document_id}")
def extra(document_id: str, rt: Runtime, caller: Reader) -> dict[str, str]:
    return {"unit": rt.unit, "who": caller.name, "document_id": document_id}


# ... and a whole web application, mounted
console = FastAPI()


@console.get("/whoami")
def whoami(rt: Runtime, caller: Reader) -> dict[str, str]:
    return {"unit": rt.unit, "who": caller.name}


def call(port: int, path: str, token: str | None = SECRET) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("routes")
    config = unit_config(COURT, port=free_port(), var=tmp).model_dump(mode="json")
    token = {"name": "render", "sha256": hashlib.sha256(SECRET.encode()).hexdigest(), "scopes": ["read"]}
    config["http"] = {"audit_log": str(tmp / "audit.jsonl"), "state": str(tmp / "gw.db"), "tokens": [token]}
    rt = GatewayRuntime.build(GatewayConfig.model_validate(config))
    # the one line another package adds (here for this test only)
    patch = pytest.MonkeyPatch()
    patch.setattr(routes, "ROUTERS", [*routes.ROUTERS, "tests.test_gateway_routes:router"])
    patch.setattr(routes, "MOUNTS", {"/console": "tests.test_gateway_routes:console"})
    app = create_app(rt)
    patch.undo()
    try:
        with serving(app) as port:
            yield port, tmp
    finally:
        rt.inbox.close(), rt.state.close(), rt.audit.close()


def test_an_added_router_and_a_mounted_app_use_the_gateways_dependencies(served):
    port, tmp = served
    assert call(port, "/v1/extra/abc") == (200, {"unit": COURT, "who": "render", "document_id": "abc"})
    assert call(port, "/console/whoami") == (200, {"unit": COURT, "who": "render"})
    for path in ("/v1/extra/abc", "/console/whoami"):
        status, body = call(port, path, token=None)
        assert status == 401 and [p["code"] for p in body["problems"]] == ["GW_TOKEN_MISSING"], body
    status, spec = call(port, "/openapi.json", token=None)
    assert "/v1/extra/{document_id}" in spec["paths"] and "/v1/inbox/{document_id}/lead" in spec["paths"]
    audit = [json.loads(line) for line in (tmp / "audit.jsonl").read_text().splitlines()]
    assert {(a["path"], a["status"]) for a in audit} >= {("/v1/extra/abc", 200), ("/console/whoami", 401)}
