"""The gateway's routers, one per resource, and the place another package adds its own.

Adding a router is one line in :data:`ROUTERS` — ``"package.module:router"``, an
:class:`fastapi.APIRouter` whose routes use the dependencies of :mod:`broker.gateway.auth`
(``Runtime``, ``Reader``, ...) — or one line in :data:`MOUNTS` for a whole ASGI application
under a path prefix (a web console). They are named by import string, not imported here, so
that a package building on the gateway (and importing :mod:`broker.gateway.auth`) does not
make an import cycle. Every route, included or mounted, is in the audit log and the request
metrics (the middleware wraps the whole application) and gets the house error body; included
routers also appear in the OpenAPI document (``tests/test_gateway_routes.py`` shows both).
"""

from __future__ import annotations

import importlib
from typing import Any

ROUTERS: list[str] = [
    "broker.gateway.routes.operations:router",
    "broker.gateway.routes.documents:router",
    "broker.gateway.routes.cases:router",
    "broker.gateway.routes.inbox:router",
    "broker.gateway.routes.answers:router",
    "broker.gateway.routes.events:router",
    "broker.gateway.rendering:router",  # the 文书 as HTML and PDF (broker/render)
]
"""Included in this order (the first route that matches a request answers it)."""

MOUNTS: dict[str, str] = {}
"""Path prefix -> ``"package.module:app"`` (an ASGI application; a FastAPI/Starlette one gets
the gateway's runtime in ``app.state.runtime``, so :mod:`broker.gateway.auth` works inside it)."""


def resolve(target: str) -> Any:
    """The object an import string ``"package.module:attribute"`` names."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
