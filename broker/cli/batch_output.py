"""Printing many lines fast: a batch of lines at a time, through rich only on a terminal.

Why: rich parses markup and renders every ``print``: about 0.5 ms of CPU for the seven lines of a
verified file, as long as checking it (issue 11; 7 µs as one plain write per batch). Written to a
file or a pipe, rich prints no colours anyway, so the same lines are written as plain text in one
write per batch. On a terminal a batch is one ``print``. Dynamic text (paths, messages) is escaped
for rich, so a ``[`` in a file name is printed as it is.
"""

from __future__ import annotations

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

