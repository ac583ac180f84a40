"""Printing many lines fast: a batch of lines in one write, coloured with ANSI codes on a terminal.

Why not rich's ``print``: it parses markup and renders every call, about 0.5 ms of CPU for the
seven lines of a verified file, as long as checking it, and still 0.3 ms a file printing a batch
at a time (issue 11); the same lines written as text take 7 µs. Only a few words are coloured, so
the codes are written here, when rich would colour them: on a terminal, unless ``NO_COLOR`` is set.
No markup is parsed, so a ``[`` in a file name or a message is printed as it is.
"""

from __future__ import annotations

from rich.console import Console

_ANSI = {"red": "31", "green": "32", "yellow": "33"}


class BatchWriter:
    """Lines for ``console``'s file, their status words coloured with :meth:`style`."""

    def __init__(self, console: Console):
        self.console = console
        self.color = console.is_terminal and console.color_system is not None and not console.no_color

    def style(self, style: str, value: str) -> str:
        """``value`` in colour ``style`` (red, green, yellow) when writing to a colour terminal."""
        return f"\x1b[{_ANSI[style]}m{value}\x1b[0m" if self.color else value

    def write(self, lines: list[str]) -> None:
        """Write ``lines``, each ending with a newline, and flush: results as they come, also
        through a pipe."""
        if lines:
            self.write_raw("\n".join(lines) + "\n")

    def write_raw(self, text: str) -> None:
        """Write ``text`` as it is (JSON)."""
        file = self.console.file
        file.write(text)
        file.flush()
