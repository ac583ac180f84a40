"""Printing many lines fast: a batch of lines at a time, through rich only on a terminal.

Why: rich parses markup and renders every ``print`` (about 0.1 ms a line); for thousands of files
that cost as much as checking them. Written to a file or a pipe, rich prints no colours anyway, so
the same lines are written as plain text in one write per batch. On a terminal a batch is one
``print``. Dynamic text (paths, messages) is escaped for rich, so a ``[`` in a file name is printed
as it is.
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape


class BatchWriter:
    """Lines for ``console``, styled with :meth:`style` and escaped with :meth:`text`."""

    def __init__(self, console: Console):
        self.console = console
        self.rich = console.is_terminal

    def style(self, style: str, value: str) -> str:
        """``value`` (already escaped) in ``style`` when printing through rich."""
        return f"[{style}]{value}[/{style}]" if self.rich else value

    def text(self, value: str) -> str:
        """Dynamic text, escaped for rich's markup when printing through it."""
        return escape(value) if self.rich else value

    def write(self, lines: list[str]) -> None:
        """Print ``lines``, each ending with a newline."""
        if not lines:
            return
        if self.rich:
            self.console.print("\n".join(lines))
        else:
            file = self.console.file
            file.write("\n".join(lines) + "\n")
            file.flush()  # results as they come, also through a pipe

    def write_raw(self, text: str) -> None:
        """Print ``text`` as it is (JSON), never through rich's markup."""
        file = self.console.file
        file.write(text)
        file.flush()


def indented_json(value: object, level: int = 0) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)`` nested ``level`` deep, the same text.

    Why not ``json.dumps``: given an indent it encodes in Python, not with its C encoder, and took
    a third as long as checking the document (bench/verify_cli.py, ``--json``). Strings go through
    the C encoder's own function; dicts, lists and the indentation are built here.
    """
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "\n" + "  " * (level + 1)
        items = [_string(str(k)) + ": " + indented_json(v, level + 1) for k, v in value.items()]
        return "{" + inner + ("," + inner).join(items) + "\n" + "  " * level + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        inner = "\n" + "  " * (level + 1)
        items = [indented_json(v, level + 1) for v in value]
        return "[" + inner + ("," + inner).join(items) + "\n" + "  " * level + "]"
    return json.dumps(value, ensure_ascii=False)


_string = json.encoder.encode_basestring  # type: ignore[attr-defined]  # ensure_ascii=False's encoder
