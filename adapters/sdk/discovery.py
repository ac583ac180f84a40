"""Finding adapters: the ``liandong.adapters`` entry-point group, or ``module:Class`` directly.

An adapter package declares itself in its ``pyproject.toml``::

    [project.entry-points."liandong.adapters"]
    bank = "liandong_adapter_bank.adapter:BankAdapter"

and ``liandong adapter list`` shows it once the package is installed (``pip install``) in the
same environment as liandong. ``liandong adapter run`` also takes ``package.module:Class``,
for an adapter under development that is importable but not installed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from adapters.sdk.adapter import Adapter

GROUP = "liandong.adapters"


@dataclass(frozen=True)
class AdapterEntry:
    name: str
    value: str  # "module:Class"
    distribution: str | None


def available() -> list[AdapterEntry]:
    """The installed adapters, by name."""
    found: dict[str, AdapterEntry] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if getattr(ep, "dist", None) is not None else None
        found.setdefault(ep.name, AdapterEntry(ep.name, ep.value, dist))
    return sorted(found.values(), key=lambda e: e.name)


def load_adapter(name: str) -> type[Adapter]:
    """The adapter class registered as ``name``, or named by ``module:Class``.

    Raises :class:`LookupError` naming what is installed when nothing matches, and
    :class:`TypeError` when the object is not an :class:`Adapter` subclass.
    """
    eps = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if eps:
        obj = eps[0].load()
    elif ":" in name:
        module, _, attr = name.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    else:
        names = ", ".join(e.name for e in available()) or "none"
        raise LookupError(f"no adapter named {name!r} in the {GROUP!r} entry points (installed: {names})")
    if not (isinstance(obj, type) and issubclass(obj, Adapter)):
        raise TypeError(f"{name!r} is {obj!r}, not an Adapter subclass")
    return obj


__all__ = ["GROUP", "AdapterEntry", "EntryPoint", "available", "load_adapter"]
