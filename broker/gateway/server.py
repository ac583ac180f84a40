"""Running a gateway: connect to the network, then serve HTTP on uvicorn until stopped."""

from __future__ import annotations

import logging

import uvicorn

from broker.gateway.app import create_app
from broker.gateway.config import GatewayConfig
from broker.gateway.runtime import GatewayRuntime
from broker.gateway.tls import uvicorn_options
from broker.logs import event

log = logging.getLogger("liandong.gateway")


def serve(config: GatewayConfig) -> None:
    """Run until SIGINT/SIGTERM (uvicorn's handlers): the network session first — a gateway that
    cannot reach the broker raises ``BROKER_UNREACHABLE`` before it listens — then HTTP; on the
    way out HTTP stops first, then the session (what is unanswered stays in the store)."""
    rt = GatewayRuntime.build(config)
    rt.start()
    try:
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(rt),
                host=config.http.host,
                port=config.http.port,
                log_config=None,  # the process's structured logging (broker.logs), not uvicorn's
                access_log=False,  # every call is in the audit log instead
                server_header=False,
                timeout_graceful_shutdown=5,  # open event streams do not hold a stop up
                **uvicorn_options(config.http.tls),  # HTTPS and client certificates when configured
            )
        )
        event(
            log,
            "gateway.started",
            unit=config.unit,
            host=config.http.host,
            port=config.http.port,
            tls=config.http.tls is not None,
        )
        server.run()
    finally:
        rt.stop()
        event(log, "gateway.stopped", unit=config.unit)
