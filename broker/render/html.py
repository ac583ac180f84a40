"""The 文书 as one self-contained HTML page (Jinja2, autoescaped; inline CSS, no external resource:
pages are read on closed networks, and WeasyPrint must fetch nothing to print them)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from broker.render.view import Rendering

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value comes from a document someone else wrote
        undefined=jinja2.StrictUndefined,  # a template typo fails the tests, not silently blank
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(rendering: Rendering) -> str:
    """The HTML page of ``rendering``."""
    return _environment().get_template("document.html.j2").render(r=rendering)
