"""The interactive API page (``/docs``, Swagger UI) served with local assets.

FastAPI's own page loads Swagger UI's scripts from a CDN; a gateway runs on an organisation's
network, often with no internet, so the assets come from the ``swagger-ui-bundle`` package and
are served by the gateway itself under ``/docs/assets``. The page names no other host.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from broker.logs import event

ASSETS = "/docs/assets"
log = logging.getLogger("liandong.gateway")


def install_api_page(app: FastAPI) -> None:
    """``GET /docs``: Swagger UI over ``/openapi.json``, every asset local (no token needed: the
    page holds nothing but what ``/openapi.json`` already says)."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # a dependency: pyproject.toml
    except ImportError:  # an environment installed before the dependency: the API works, the page is off
        event(log, "gateway.api_page_off", logging.WARNING, reason="swagger-ui-bundle is not installed")
        return

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
