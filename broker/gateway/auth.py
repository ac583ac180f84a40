"""Who may call what: FastAPI dependencies shared by every router (docs/gateway.md, "Access").

A route names what it needs in its signature, as FastAPI's own examples do::

    @router.get("/v1/things/{id}")
    def thing(id: str, rt: Runtime, caller: Reader) -> dict: ...

``Runtime`` is the gateway's parts; ``Reader``, ``Publisher`` and ``Answerer`` are the caller
of a valid token with the scope ``read``, ``publish`` or ``answer`` (401 / 403 otherwise). A
package adding its own router (:mod:`broker.gateway.routes`) uses the same ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from broker.gateway.problems import GatewayError
from broker.gateway.runtime import GatewayRuntime
from broker.gateway.tokens import Caller


async def runtime(request: Request) -> GatewayRuntime:
    """The gateway's parts (set once by :func:`broker.gateway.app.create_app`)."""
    # async, as check() below: FastAPI runs a plain ``def`` dependency in the thread pool, a
    # round trip per request for a lookup of microseconds (docs/performance.md)
    return request.app.state.runtime  # type: ignore[no-any-return]


Runtime = Annotated[GatewayRuntime, Depends(runtime)]


def require(scope: str) -> Callable[[Request], Awaitable[Caller]]:
    """A dependency: the caller that has ``scope`` (401 / 403 otherwise) — by its bearer token
    when it sends one, else by its TLS client certificate (``http.tls.clients``)."""

    async def check(request: Request) -> Caller:
        # on the event loop: one SHA-256 of the token and a dictionary lookup, no I/O
        rt: GatewayRuntime = request.app.state.runtime
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        subject = request.scope.get("extensions", {}).get("tls", {}).get("client_cert_name")
        if scheme.lower() == "bearer" and token.strip():
            caller = rt.tokens.caller(token.strip())
            if caller is None:
                raise GatewayError.of("GW_TOKEN_INVALID")
        elif subject:
            caller = rt.certificates.caller(subject)
            if caller is None:
                raise GatewayError.of("GW_CLIENT_CERT_UNKNOWN", subject=subject[:200])
        else:
            raise GatewayError.of("GW_TOKEN_MISSING")
        request.state.who = caller.name
        if not caller.may(scope):
            raise GatewayError.of("GW_SCOPE_MISSING", who=caller.name, scope=scope)
        return caller

    return check


Reader = Annotated[Caller, Depends(require("read"))]
Publisher = Annotated[Caller, Depends(require("publish"))]
Answerer = Annotated[Caller, Depends(require("answer"))]
Admin = Annotated[Caller, Depends(require("admin"))]
