"""Reading a request body within the configured limit, before anything parses it."""

from __future__ import annotations

from fastapi import Request

from broker.gateway.problems import GatewayError

DRAIN_LIMIT = 64 * 1024 * 1024
"""An oversized body is read on and thrown away up to this many bytes, so that the client,
still sending, gets the 413 answer instead of a reset connection; beyond it the connection is
cut (uvicorn closes it when the answer goes before the body was read)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or ``GW_BODY_TOO_LARGE`` (413) once it is known to exceed ``limit``: from
    Content-Length when given, else while streaming. Nothing beyond the limit is kept."""
    declared = request.headers.get("content-length")
    too_large = declared is not None and declared.isdigit() and int(declared) > limit
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            too_large = True
        if too_large:
            chunks.clear()
            if size > DRAIN_LIMIT:
                break
        else:
            chunks.append(chunk)
    if too_large:
        raise GatewayError.of("GW_BODY_TOO_LARGE", limit=limit)
    return b"".join(chunks)
