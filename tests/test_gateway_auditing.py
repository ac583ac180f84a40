"""The audit middleware (broker/gateway/auditing.py) where the other gateway tests do not reach:
a route that raises gets the house 500 body (``GW_INTERNAL``), the call is in the audit log
with that code before the client has its answer, and the log names the exception's class only,
never its text (which may quote a document). Served by uvicorn on a free port over real HTTP;
no broker is needed (the network session is built but not started)."""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi import APIRouter

from broker.gateway.app import create_app
from broker.gateway.auth import Reader
from broker.gateway.config import GatewayConfig
from broker.gateway.runtime import GatewayRuntime
from broker.logs import JsonFormatter
from broker.mosquitto import free_port
from tests.network import COURT, unit_config
from tests.served import serving

SECRET = "auditing-test-secret-0123456789abcdef"
PERSONAL = "张三 110101199003071234"  # what an exception's text might quote from a document

router = APIRouter(prefix="/v1/broken")


@router.get("")
def broken(caller: Reader) -> dict[str, str]:
    raise RuntimeError(f"a bug, quoting {PERSONAL}")


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []
        self.formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("auditing")
    config = unit_config(COURT, port=free_port(), var=tmp).model_dump(mode="json")
    token = {"name": "ops", "sha256": hashlib.sha256(SECRET.encode()).hexdigest(), "scopes": ["read"]}
    config["http"] = {"audit_log": str(tmp / "audit.jsonl"), "state": str(tmp / "gw.db"), "tokens": [token]}
    rt = GatewayRuntime.build(GatewayConfig.model_validate(config))
    try:
        with serving(create_app(rt, [router])) as port:
            yield port, tmp
    finally:
        rt.inbox.close(), rt.state.close(), rt.audit.close()


def test_a_route_that_raises_gets_the_house_500_body_and_an_audit_line(served):
    port, tmp = served
    captured = _Captured()
    logging.getLogger("liandong.gateway").addHandler(captured)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/broken?q=1")
        request.add_header("Authorization", f"Bearer {SECRET}")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        status, body = caught.value.code, json.loads(caught.value.read())
        # read as soon as the answer is in: the line was durable before the answer went out
        audit = [json.loads(line) for line in (tmp / "audit.jsonl").read_text().splitlines()]
    finally:
        logging.getLogger("liandong.gateway").removeHandler(captured)
    assert status == 500 and [p["code"] for p in body["problems"]] == ["GW_INTERNAL"], body
    assert PERSONAL not in json.dumps(body, ensure_ascii=False)
    [line] = [a for a in audit if a["path"] == "/v1/broken"]
    assert (line["who"], line["method"], line["status"], line["codes"]) == ("ops", "GET", 500, ["GW_INTERNAL"])
    assert line["from"].startswith("127.0.0.1:")
    [logged] = [e for e in captured.lines if e["event"] == "gateway.internal_error"]
    assert logged["error"] == "RuntimeError" and logged["path"] == "/v1/broken"
    assert PERSONAL not in json.dumps(captured.lines, ensure_ascii=False)
