"""Declaring an adapter: a class with handlers for measures, queries, releases and documents.

    class BankAdapter(Adapter):
        name = "bank"
        unit_kinds = {UnitKind.BANK}
        settings_model = BankSettings

        @handles(BankFreeze, BankRotatingFreeze)
        def freeze(self, measure: BankFreeze, ctx: Context) -> MeasureResult: ...

        @handles(Query, kinds={QueryKind.BANK_DEPOSITS})
        def deposits(self, query: Query, ctx: Context) -> QueryResult: ...

        @handles(Release, kinds={ReleaseKind.BANK_UNFREEZE})
        def unfreeze(self, release: Release, ctx: Context) -> ReleaseResult: ...

        @on_document("CaseCompletedNotice")
        def case_completed(self, doc: Document, ctx: Context) -> None: ...

Dispatch is by the item's exact element type (``BankRotatingFreeze`` is not a ``BankFreeze``
here, although the model class inherits from it), and for queries and releases by their
``Kind``; a query or release handler without ``kinds`` takes every kind no other handler
claims. The table is built and checked when the class is defined, so a typo, a duplicate or a
measure this unit kind never receives fails at import, not in production.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from broker.documents import bodies
from broker.documents.catalogue import (
    DIRECTIONS,
    MEASURE_UNIT_KINDS,
    QUERY_UNIT_KINDS,
    RELEASE_UNIT_KINDS,
    UnitKind,
)
from broker.documents.document import BODY_BY_TYPE
from broker.documents.measures import Measure, MeasureBase, Release, ReleaseKind
from broker.documents.queries import Query, QueryKind
from broker.documents.results import MeasureResult, QueryResult, ReleaseResult, Result

if TYPE_CHECKING:
    from adapters.sdk.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])

MEASURE_TYPES: Mapping[str, type[MeasureBase]] = {cls.xml_tag: cls for cls in Measure.__args__}  # type: ignore[attr-defined]
"""Every measure element name and its model class."""

ITEM_DOCUMENT_TYPES = frozenset({"AssistanceNotice", "QueryNotice", "ReleaseNotice"})
"""Document types whose items go to :func:`handles` handlers and are answered by a receipt."""

DocumentReply = bodies.ExecutionReceipt | Sequence[Result] | None
"""What a document handler returns: nothing, or the results of a receipt answering the document."""


class NoSettings(BaseModel):
    """The settings model of an adapter that has no settings of its own."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class ItemKey:
    """What a handler is registered for: ``("measure", "BankFreeze")``, ``("query", "BankDeposits")``,
    ``("release", "BankUnfreeze")``, ``("query", None)`` (every other query) or
    ``("document", "CaseCompletedNotice")``."""

    category: str
    name: str | None

    def __str__(self) -> str:
        return f"{self.category}:{self.name or '*'}"


@dataclass(frozen=True)
class HandlerSpec:
    """A registered handler: the method's name and what it handles."""

    method: str
    keys: tuple[ItemKey, ...]

    @property
    def result_type(self) -> type | None:
        category = self.keys[0].category
        return {"measure": MeasureResult, "query": QueryResult, "release": ReleaseResult}.get(category)


_MARK = "__liandong_handles__"


def handles(*types: type, kinds: Iterable[QueryKind | ReleaseKind] | None = None) -> Callable[[F], F]:
    """Register a method ``(self, item, ctx) -> result`` for measure classes, or for ``Query``
    or ``Release`` items (optionally only some ``kinds``).

    A measure handler returns a :class:`MeasureResult`, a query handler a :class:`QueryResult`,
    a release handler a :class:`ReleaseResult`, with the item's id
    (``MeasureResult(measure_id=measure.measure_id, ...)``).
    """
    if not types:
        raise TypeError("@handles needs at least one measure class, Query or Release")
    keys: list[ItemKey] = []
    kind_list = list(kinds) if kinds is not None else None
    for tp in types:
        if tp is Query or tp is Release:
            enum = QueryKind if tp is Query else ReleaseKind
            category = "query" if tp is Query else "release"
            if kind_list is None:
                keys.append(ItemKey(category, None))
                continue
            if not kind_list:
                raise TypeError(f"@handles({tp.__name__}, kinds=...) needs at least one kind")
            for kind in kind_list:
                if not isinstance(kind, enum):
                    raise TypeError(f"{kind!r} is not a {enum.__name__}")
                keys.append(ItemKey(category, kind.value))
        elif isinstance(tp, type) and issubclass(tp, MeasureBase):
            if not tp.xml_tag or tp.xml_tag not in MEASURE_TYPES:
                raise TypeError(f"{tp.__name__} is not a concrete measure element (use e.g. HousingFundFreeze)")
            keys.append(ItemKey("measure", tp.xml_tag))
        else:
            raise TypeError(f"@handles takes measure classes, Query or Release, not {tp!r}")
    if kind_list is not None and not any(tp in (Query, Release) for tp in types):
        raise TypeError("kinds= only applies to Query and Release handlers")
    if len({k.category for k in keys}) != 1:
        raise TypeError("one handler handles measures, queries or releases, not a mix (their results differ)")

    def mark(fn: F) -> F:
        _check_arity(fn, "@handles")
        setattr(fn, _MARK, tuple(keys))
        return fn

    return mark


def on_document(*doc_types: str) -> Callable[[F], F]:
    """Register a method ``(self, doc: Document, ctx) -> None | results`` for whole documents
    without items: ``CaseCompletedNotice``, ``DishonestListing``, ``EnforcementRuling``, hub and
    office notices (``Reminder``, ``Escalation``, ...). Returning results (a list or an
    ``ExecutionReceipt``) sends them as the receipt answering the document."""
    if not doc_types:
        raise TypeError("@on_document needs at least one document type")
    keys = []
    for name in doc_types:
        if name not in BODY_BY_TYPE:
            raise TypeError(f"unknown document type {name!r}")
        if name in ITEM_DOCUMENT_TYPES:
            raise TypeError(f"{name} is handled item by item: use @handles for its measures, queries or releases")
        keys.append(ItemKey("document", name))

    def mark(fn: F) -> F:
        _check_arity(fn, "@on_document")
        setattr(fn, _MARK, tuple(keys))
        return fn

    return mark


def _check_arity(fn: Callable[..., Any], what: str) -> None:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != 3 and not any(p.kind is p.VAR_POSITIONAL for p in params):
        raise TypeError(f"{what} methods take (self, item, ctx); {fn.__qualname__} takes {len(positional)} arguments")


class Adapter:
    """Base class of every adapter. Subclasses set the class attributes and declare handlers.

    Class attributes:

    - ``name``: the adapter's name, as in the ``liandong.adapters`` entry point;
    - ``unit_kinds``: the unit kinds it serves (checked against the registry at start, and each
      handled measure, query and release against :mod:`broker.documents.catalogue`);
    - ``settings_model``: a pydantic model of the adapter's own configuration section
      (``adapter:`` in the YAML file, ``LIANDONG_ADAPTER__...`` in the environment).

    The SDK builds one instance per run with ``Adapter(settings, runtime)``; ``start()`` is
    called before the first document and ``stop()`` after the last. Handlers run one at a time,
    in delivery order, on one thread.
    """

    name: ClassVar[str] = ""
    unit_kinds: ClassVar[Collection[UnitKind]] = frozenset()
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    open_queries: ClassVar[Collection["QueryKind"]] = frozenset()
    """Query kinds any member unit may ask (not only courts): the credit platform answers every
    unit that checks whether a subject is on the dishonest list (003 失信规定 art. 8). A
    ``QueryNotice`` from another unit is refused unless all its queries are of these kinds."""
    handlers: ClassVar[Mapping[ItemKey, HandlerSpec]] = {}

    def __init__(self, settings: Any, runtime: Runtime):
        self.settings = settings
        self.runtime = runtime

    def start(self) -> None:
        """Open connections to the native system, start helper threads. Default: nothing."""

    def stop(self) -> None:
        """Release what :meth:`start` opened. Default: nothing."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.unit_kinds = frozenset(UnitKind(k) for k in cls.unit_kinds)
        if not (isinstance(cls.settings_model, type) and issubclass(cls.settings_model, BaseModel)):
            raise TypeError(f"{cls.__name__}.settings_model must be a pydantic model class")
        table: dict[ItemKey, HandlerSpec] = {}
        # Base classes first, so a subclass may take over a key its base handled.
        for klass in reversed(cls.__mro__):
            own: dict[ItemKey, str] = {}
            for attr, value in vars(klass).items():
                keys = getattr(value, _MARK, None)
                if not keys:
                    continue
                for key in keys:
                    if key in own:
                        raise TypeError(f"{klass.__name__}: {key} is handled by both {own[key]} and {attr}")
                    own[key] = attr
                    table[key] = HandlerSpec(attr, tuple(keys))
        _check_kinds(cls, table)
        cls.handlers = table

    # --- dispatch (used by the SDK) ----------------------------------------------------------

    @classmethod
    def handler_for(cls, key: ItemKey) -> HandlerSpec | None:
        found = cls.handlers.get(key)
        if found is None and key.category in ("query", "release"):
            found = cls.handlers.get(ItemKey(key.category, None))
        return found

    @classmethod
    def describe(cls) -> str:
        """The first line of the class's own docstring (for ``liandong adapter list``)."""
        doc = cls.__dict__.get("__doc__") or ""
        lines = [line.strip() for line in doc.strip().splitlines()]
        return lines[0] if lines else ""


def _check_kinds(cls: type[Adapter], table: Mapping[ItemKey, HandlerSpec]) -> None:
    """A handler for something no served unit kind ever receives is a mistake: say so now."""
    kinds = frozenset(cls.unit_kinds)
    if not kinds:
        return
    for key, spec in table.items():
        if key.name is None:
            continue
        if key.category == "measure":
            allowed = MEASURE_UNIT_KINDS[key.name]
        elif key.category == "query":
            allowed = QUERY_UNIT_KINDS[QueryKind(key.name)]
        elif key.category == "release":
            allowed = RELEASE_UNIT_KINDS[ReleaseKind(key.name)]
        else:
            allowed = DIRECTIONS[key.name].recipients
        if not kinds & allowed:
            raise TypeError(
                f"{cls.__name__}.{spec.method} handles {key}, which no unit of kind "
                f"{', '.join(sorted(k.value for k in kinds))} receives (broker/documents/catalogue.py)"
            )

