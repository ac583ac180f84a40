"""Load a YAML file into a pydantic model, reporting problems with their line numbers.

Used for the member registry and the hub and adapter configuration files: an integrator who
mistypes a unit code must be told which line is wrong, not shown a stack trace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from broker.errors import LiandongError, problem

T = TypeVar("T", bound=BaseModel)


class LocatedError(ValueError):
    """A model validator's error about a part of the input (``loc`` below the validated value),
    so that the loader can name that part's line rather than the top of the file."""

    def __init__(self, message: str, loc: tuple[str | int, ...]):
        super().__init__(message)
        self.loc = loc


def node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Follow a pydantic error location through the composed YAML node tree (the deepest node
    found: the line to name for an error at ``loc``)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for k, v in node.value:
                if k.value == key:
                    found = v
                    break
            if found is None:
                return node
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


def load_yaml_model(path: str | Path, model: type[T], *, code: str = "REG_INVALID") -> T:
    """Parse ``path`` and validate it as ``model``; raise :class:`LiandongError` naming lines."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LiandongError.of(code, detail=f"{path}: {exc.strerror}") from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise LiandongError.of(code, detail=f"{where}: {getattr(exc, 'problem', None) or exc}") from None
    try:
        return model.model_validate(data or {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            cause = (err.get("ctx") or {}).get("error")
            loc = tuple(err["loc"]) + (cause.loc if isinstance(cause, LocatedError) else ())
            node = node_at(root, loc)
            line = node.start_mark.line + 1 if node is not None else 1
            field = ".".join(str(p) for p in loc) or "(top)"
            problems.append(problem(code, detail=f"{path}:{line}: {field}: {err['msg']}"))
        raise LiandongError(problems) from None
