"""The 文书 as PDF, printed from its HTML page by WeasyPrint with a CJK font installed by ``./run``
(fonts-wqy-microhei): the text stays text, so it can be searched and copied.

WeasyPrint is imported on first use: it loads Pango through cffi, which takes a while and which
the rest of liandong (and an HTML-only caller) does not need.
"""

from __future__ import annotations

from typing import Any

from broker.errors import LiandongError


def _fetch_nothing(url: str, *args: Any, **kwargs: Any) -> Any:
    # The page is self-contained; a URL in a document's text must never make the renderer fetch.
    raise ValueError(f"external resource refused: {url[:80]}")


def print_html(html: str) -> bytes:
    """``html`` printed to PDF; raises ``RENDER_PDF_ENGINE`` when WeasyPrint or Pango is missing."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango's shared library could not be loaded
        raise LiandongError.of("RENDER_PDF_ENGINE", detail=type(exc).__name__) from None
    return weasyprint.HTML(string=html, url_fetcher=_fetch_nothing).write_pdf()
