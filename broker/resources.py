"""Where the project's data files are: the XSD (``schemas/``) and the calendar and deadline
policy (``config/``).

They stay at the top of the repository, where another agency looks for the schema, rather than
inside a Python package. In a source checkout or an editable install (what ``./run`` does) they
are read from there; a wheel installs copies under ``<prefix>/share/liandong/`` (the data-files
of ``pyproject.toml``), which is where this module looks next.
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[1]
"""The repository root, when running from a checkout."""

INSTALLED = Path(sys.prefix) / "share" / "liandong"
"""Where a non-editable install puts ``schemas/`` and ``config/``."""


def data_dir(name: str) -> Path:
    """The directory ``name`` (``"schemas"`` or ``"config"``): the checkout's, else the installed
    copy; the checkout's path when neither exists, so that an error names where it was expected."""
    for base in (SOURCE_ROOT, INSTALLED):
        if (base / name).is_dir():
            return base / name
    return SOURCE_ROOT / name
