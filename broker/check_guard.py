"""The guard every step of :meth:`broker.checking.DocumentChecker.check_many` runs under.

A document is untrusted input; a check that raises on it (a bug, a library that parses lazily,
arithmetic that overflows) must cost that one document, never its batch or the process that
checks it (issue 11: one sealed notice wedged the hub). The guard turns:

- a :class:`~broker.errors.LiandongError` into the document's problems (the expected way a step
  refuses a document);
- any other exception into ``CHECK_INTERNAL_ERROR`` for that document, logged as
  ``check.internal_error`` with the step, the document's digest and the exception's type (never
  its message: it can quote the input), after which the document's later steps are skipped.

A step run over a whole batch at once that raises is run again document by document, so only
the document that makes it raise gets the code.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

from broker.errors import LiandongError, problem
from broker.logs import event

if TYPE_CHECKING:
    from broker.checking import CheckedDocument

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class StepGuard:
    """Runs check steps for the documents of one batch (``results``, by index)."""

    def __init__(self, results: Sequence["CheckedDocument"]):
        self.results = results
        self.failed: set[int] = set()

    def run(self, index: int, step: str, function: Callable[..., R], *args: Any, **kwargs: Any) -> R | None:
        """``function(*args, **kwargs)`` for document ``index``; None when it raised (or the
        document failed an earlier step)."""
        if index in self.failed:
            return None
        try:
            return function(*args, **kwargs)
        except LiandongError as exc:
            self.results[index].problems.extend(exc.problems)
        except Exception as exc:  # noqa: BLE001 - the point of the guard
            self.internal_error(index, step, exc)
        return None

    def run_many(
        self, indices: Sequence[int], step: str, function: Callable[[list[T]], list[R]], items: Sequence[T]
    ) -> list[R | None]:
        """``function(items)`` for the documents ``indices`` (one item each, in order); if it
        raises or answers for the wrong number of documents, each document again on its own."""
        if not items:
            return []
        try:
            out = function(list(items))
            if len(out) == len(items):
                return out
        except Exception:  # noqa: BLE001 - retried one by one below, where the culprit is logged
            pass
        return [self.run(i, step, _one, function, item) for i, item in zip(indices, items)]

    def alive(self, values: list[Any]) -> list[Any]:
        """``values`` with None for every document that failed a step."""
        return [None if i in self.failed else v for i, v in enumerate(values)]

    def internal_error(self, index: int, step: str, exc: BaseException) -> None:
        result = self.results[index]
        self.failed.add(index)
        result.problems.append(problem("CHECK_INTERNAL_ERROR"))
        event(
            log,
            "check.internal_error",
            level=logging.ERROR,
            step=step,
            digest=result.digest,
            error=type(exc).__qualname__,
        )


def _one(function: Callable[[list[T]], list[R]], item: T) -> R:
    out = function([item])
    if len(out) != 1:
        raise RuntimeError(f"a batch step answered {len(out)} times for one document")
    return out[0]
