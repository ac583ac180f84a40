"""``liandong adapter new NAME``: a new adapter package that works and whose tests pass.

The package (``<dir>/liandong-adapter-<name>/``)::

    pyproject.toml                 the entry point in "liandong.adapters", pytest settings
    README.md                      how to test, configure and run it
    config.example.yaml            the unit, adapter and execution sections
    liandong_adapter_<name>/
        __init__.py
        adapter.py                 the adapter: a settings model and one query handler
    tests/test_adapter.py          harness tests: found, not found, an item without handler

The handler answers the unit kind's first query kind from a list in the settings — a stand-in
for the agency's system, to be replaced by the real call. A unit kind that answers no queries
(transport, hotels, procuratorates, discipline inspection: they punish dishonest debtors) gets
a handler for consumption-restriction orders instead. The tests pass for every kind of
:func:`scaffold_kinds`: the harness makes a throw-away unit of the kind when the example
network has none (:mod:`adapters.sdk.throwaway_unit`).
"""

from __future__ import annotations

import re
from pathlib import Path

from broker.documents.catalogue import QUERY_UNIT_KINDS, UnitKind
from broker.documents.queries import QueryKind

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


class ScaffoldError(ValueError):
    pass


def query_kinds(kind: UnitKind) -> list[QueryKind]:
    return [k for k in QueryKind if kind in QUERY_UNIT_KINDS[k]]


NOT_SCAFFOLDED = frozenset({UnitKind.COURT, UnitKind.HUB, UnitKind.LINKAGE_OFFICE})
"""Courts publish (broker/court), the hub and the office are the network's own."""


def scaffold_kinds() -> list[UnitKind]:
    """Unit kinds the scaffold can start from: every member unit but courts and the office.
    Those that answer queries get a query handler; the punishing units that answer none
    (transport, hotels, procuratorates, discipline inspection) a consumption-restriction one."""
    return [k for k in UnitKind if k not in NOT_SCAFFOLDED]


def create(name: str, directory: str | Path = ".", kind: UnitKind = UnitKind.BANK) -> Path:
    """Write the package for adapter ``name`` under ``directory``; returns the package root."""
    if not NAME.match(name):
        raise ScaffoldError(f"{name!r}: use lower-case letters, digits, '-' or '_', starting with a letter")
    if kind not in scaffold_kinds():
        raise ScaffoldError(f"no adapter for unit kind {kind.value}; start from one of: "
                            + ", ".join(k.value for k in scaffold_kinds()))
    kinds = query_kinds(kind)
    ident = name.replace("-", "_")
    camel = "".join(part.capitalize() for part in re.split(r"[-_]", name))
    values = {
        "name": name,
        "package": f"liandong_adapter_{ident}",
        "dist": f"liandong-adapter-{name}",
        "cls": f"{camel}Adapter",
        "settings": f"{camel}Settings",
        "kind": kind.name,
        "kind_value": kind.value,
        "query_kind": kinds[0].name if kinds else "",
        "query_kind_value": kinds[0].value if kinds else "",
    }
    root = Path(directory) / values["dist"]
    if root.exists():
        raise ScaffoldError(f"{root} already exists")
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        "config.example.yaml": CONFIG,
        f"{values['package']}/__init__.py": INIT,
        f"{values['package']}/adapter.py": ADAPTER if kinds else RESTRICTION_ADAPTER,
        "tests/test_adapter.py": TESTS if kinds else RESTRICTION_TESTS,
    }
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = template
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    return root


PYPROJECT = '''
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{{dist}}"
version = "0.1.0"
description = "liandong adapter {{name}}: turns court documents into this unit's native operations"
requires-python = ">=3.11"
# liandong itself is installed from the network's own distribution (pip install /path/to/liandong
# or your internal index), not declared here: a bare name could resolve to an unrelated package
# on a public index.
dependencies = []

[project.optional-dependencies]
dev = ["pytest>=8"]

# How `liandong adapter run {{name}}` finds the adapter once this package is installed.
[project.entry-points."liandong.adapters"]
{{name}} = "{{package}}.adapter:{{cls}}"

[tool.setuptools.packages.find]
include = ["{{package}}*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
'''

INIT = '''
"""liandong adapter {{name}}."""

from {{package}}.adapter import {{cls}}, {{settings}}

__all__ = ["{{cls}}", "{{settings}}"]
'''

ADAPTER = '''
"""The {{name}} adapter: court documents in, native operations, sealed receipts out.

Write handlers only; the liandong SDK does the rest (docs/adapters.md in liandong): it
verifies every document, refuses senders that are not courts or the linkage office, calls the
handlers in delivery order, records each result once, seals and sends the receipt, and resends
it until the hub answers.

Rules for handlers:
- return a result for the item (``QueryResult(query_id=query.query_id, ...)``);
- raise ``PermanentError(reason)`` when the item cannot be carried out (the reason goes to the
  court), ``TransientError`` when the native system is unavailable (retried), ``NeedsMoreTime``
  when it cannot finish in time (an extension notice goes to the court);
- make every native *change* with ``ctx.idempotency_key`` (``IdempotentLedger.once`` or the
  native system's request id), so that a call repeated after a crash does not act twice;
- log with ``ctx.log`` (it drops personal data), never with print or the message of a
  native exception.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from adapters.sdk import Adapter, Context, Runtime, handles
from broker.documents.catalogue import UnitKind
from broker.documents.queries import Query, QueryKind
from broker.documents.results import GenericRecord, QueryResult, QueryStatus, RecordField


class {{settings}}(BaseModel):
    """The adapter's own settings: the ``adapter:`` section of the configuration file, or
    ``LIANDONG_ADAPTER__<FIELD>`` environment variables (secrets belong there)."""

    model_config = ConfigDict(extra="forbid")

    known_subjects: list[str] = Field(
        default_factory=list,
        description="stand-in for the native system: ID numbers and unit codes it knows",
    )


class {{cls}}(Adapter):
    """{{name}}: answers {{query_kind_value}} queries for a {{kind_value}} unit."""

    name = "{{name}}"
    unit_kinds = {UnitKind.{{kind}}}
    settings_model = {{settings}}

    def __init__(self, settings: {{settings}}, runtime: Runtime) -> None:
        super().__init__(settings, runtime)
        self.settings: {{settings}} = settings

    @handles(Query, kinds={QueryKind.{{query_kind}}})
    def lookup(self, query: Query, ctx: Context) -> QueryResult:
        key = getattr(query.subject, "id_number", None) or getattr(query.subject, "unit_code", None)
        # Replace with the call to your system; raise TransientError when it is unreachable.
        found = key in self.settings.known_subjects
        ctx.log.info("{{package}}.lookup", found=found)
        if not found:
            return QueryResult(query_id=query.query_id, status=QueryStatus.NOT_FOUND)
        record = GenericRecord(kind="{{query_kind_value}}", fields=[RecordField(name="status", value="registered")])
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND, records=[record])
'''

TESTS = '''
"""Tests with the liandong harness: real sealing and verification, no broker needed."""

from __future__ import annotations

import pytest

from adapters.sdk.testing import Harness, assert_not_executed, assert_receipt
from datetime import date

from broker.documents.bodies import QueryNotice
from broker.documents.catalogue import QUERY_UNIT_KINDS
from broker.documents.common import NaturalPerson, Period
from broker.documents.queries import Query, QueryKind

from {{package}} import {{cls}}, {{settings}}

PERSON = NaturalPerson(name="陈国强", id_number="445302198004121232")
PERIOD = Period(start=date(2026, 1, 1), end=date(2026, 3, 31))


@pytest.fixture
def harness(tmp_path):
    with Harness({{cls}}, {{settings}}(known_subjects=["445302198004121232"]), directory=tmp_path) as h:
        yield h


def test_known_subject_is_found(harness):
    notice = harness.document(QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.{{query_kind}}, subject=PERSON, period=PERIOD)]))
    out = harness.deliver(notice)
    receipt = assert_receipt(out.receipt, answers=notice, statuses={"Q1": "Found"})
    assert receipt.results[0].records


def test_unknown_subject_is_not_found(harness):
    other = NaturalPerson(name="王某", id_number="11010519491231002X")
    notice = harness.document(QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.{{query_kind}}, subject=other, period=PERIOD)]))
    assert_receipt(harness.deliver(notice).receipt, answers=notice, statuses={"Q1": "NotFound"})


def test_a_redelivered_notice_gets_the_same_receipt(harness):
    notice = harness.document(QueryNotice(queries=[Query(query_id="Q1", kind=QueryKind.{{query_kind}}, subject=PERSON, period=PERIOD)]))
    first = harness.deliver(notice).receipt
    again = harness.redeliver(notice).receipt
    assert again is not None and again.document_id == first.document_id


def test_a_query_without_a_handler_is_answered_not_executed(harness):
    others = [q for q in QueryKind if q is not QueryKind.{{query_kind}} and {{cls}}.unit_kinds & QUERY_UNIT_KINDS[q]]
    if not others:
        pytest.skip("this unit kind answers only one kind of query")
    query = Query(query_id="Q9", kind=others[0], subject=PERSON, period=PERIOD)
    notice = harness.document(QueryNotice(queries=[query]))
    assert_not_executed(harness.deliver(notice).receipt, "Q9", reason_contains="No handler")
'''

README = '''
# {{dist}}

liandong adapter **{{name}}** for a {{kind_value}} unit: it receives the court documents
addressed to the unit, calls the unit's own system for each item, and returns sealed receipts.
Built on the liandong adapter SDK — see `docs/adapters.md` in liandong for the whole story.

## Develop and test

    python -m venv .venv && . .venv/bin/activate
    pip install -e /path/to/liandong -e ".[dev]"
    pytest

The tests use `adapters.sdk.testing.Harness`: documents sealed with the example court keys are
delivered to the adapter without a broker, and the receipts it would send are verified with the
real verifier. When the example network has no {{kind_value}} unit, the harness makes a throw-away
one for the test (a key and certificate from the example CA, a copy of the registry with it).

## Configure

Copy `config.example.yaml` and fill in the unit's code, certificates and keys. Any value can
be overridden by an environment variable: `LIANDONG_UNIT__BROKER__HOST`,
`LIANDONG_ADAPTER__KNOWN_SUBJECTS='["..."]'`, ... (put secrets there, not in the file).

## Run

    pip install .
    liandong adapter list                       # shows "{{name}}"
    liandong adapter run {{name}} --config config.yaml

Under systemd, see the unit file in liandong's `docs/adapters.md`.
'''

CONFIG = '''
# liandong adapter {{name}}: configuration (docs/adapters.md). Relative paths are resolved
# against this file's directory. Every value can be overridden by LIANDONG_<SECTION>__<FIELD>.
unit:
  unit: CHANGE-ME-UNIT-CODE          # the unit's unified social credit code
  registry: network.yaml             # the network's member registry
  broker:
    host: 127.0.0.1
    port: 8883
    ca: certs/chain.pem              # the network CA chain
    cert: certs/tls.pem              # the unit's TLS client certificate (CN = unit code)
    key: certs/tls.key
  seal:                              # the unit's electronic seal: signs every receipt
    key: certs/sign.key
    cert: certs/sign.pem
    chain: certs/chain.pem
  trust:
    anchors: [certs/root-ca.pem]
    crls: [certs/crl.pem]
  store: var/{{name}}.db             # inbox, sent documents, results, receipts (SQLite)
adapter:
  known_subjects: []
execution:
  retry_initial_seconds: 1
  retry_max_seconds: 300
'''


RESTRICTION_ADAPTER = '''
\"\"\"The {{name}} adapter: consumption-restriction orders in, native restrictions out.

A {{kind_value}} unit carries out no measures and answers no queries: it applies the
restrictions of the orders courts send it (限制消费令, 003 memorandum 19–22) and of the
dishonest-debtor list. It sends no receipts (the catalogue gives it none to send).

Rules for handlers: raise ``TransientError`` when the native system is unavailable (retried);
make every native *change* with ``ctx.idempotency_key`` so that a call repeated after a crash
does not act twice; log with ``ctx.log`` (it drops personal data), never with print.
\"\"\"

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from adapters.sdk import Adapter, Context, Runtime, on_document
from broker.documents.catalogue import UnitKind
from broker.documents.document import Document


class {{settings}}(BaseModel):
    \"\"\"The adapter's own settings: the ``adapter:`` section of the configuration file, or
    ``LIANDONG_ADAPTER__<FIELD>`` environment variables (secrets belong there).\"\"\"

    model_config = ConfigDict(extra="forbid")

    restrictions: list[str] = Field(
        default_factory=list,
        description="restrictions this unit enforces (Flights, StarHotels, ...); empty: all of them",
    )


class {{cls}}(Adapter):
    \"\"\"{{name}}: applies consumption-restriction orders for a {{kind_value}} unit.\"\"\"

    name = "{{name}}"
    unit_kinds = {UnitKind.{{kind}}}
    settings_model = {{settings}}

    def __init__(self, settings: {{settings}}, runtime: Runtime) -> None:
        super().__init__(settings, runtime)
        self.settings: {{settings}} = settings
        self.restricted: dict[str, list[str]] = {}
        \"\"\"Stand-in for the native system: restrictions by ID number or unit code.\"\"\"

    @on_document("ConsumptionRestrictionOrder")
    def restrict(self, doc: Document, ctx: Context) -> None:
        order = doc.body
        mine = [r.value for r in order.restrictions if not self.settings.restrictions or r.value in self.settings.restrictions]
        debtors = [order.subject, *order.responsible_persons]
        for debtor in debtors:
            key = getattr(debtor, "id_number", None) or getattr(debtor, "unit_code", None)
            # Replace with the call to your system, keyed by ctx.idempotency_key.
            self.restricted[key] = sorted(set(self.restricted.get(key, [])) | set(mine))
        ctx.log.info("{{package}}.restricted", debtors=len(debtors), restrictions=len(mine))
'''

RESTRICTION_TESTS = '''
\"\"\"Tests with the liandong harness: real sealing and verification, no broker needed.\"\"\"

from __future__ import annotations

from datetime import date

import pytest

from adapters.sdk.testing import Harness
from broker.documents.bodies import ConsumptionRestriction, ConsumptionRestrictionOrder
from broker.documents.common import NaturalPerson

from {{package}} import {{cls}}, {{settings}}

PERSON = NaturalPerson(name="陈国强", id_number="445302198004121232")


@pytest.fixture
def harness(tmp_path):
    with Harness({{cls}}, {{settings}}(), directory=tmp_path) as h:
        yield h


def order(harness, *restrictions):
    return harness.document(ConsumptionRestrictionOrder(
        subject=PERSON, restrictions=list(restrictions), effective_from=date(2026, 3, 10)))


def test_a_restriction_order_is_applied(harness):
    notice = order(harness, ConsumptionRestriction.FLIGHTS, ConsumptionRestriction.STAR_HOTELS)
    out = harness.deliver(notice)
    assert out.receipt is None and not out.refused
    assert harness.job(notice).state == "done"
    assert harness.adapter.restricted[PERSON.id_number] == ["Flights", "StarHotels"]


def test_a_redelivered_order_is_applied_once(harness):
    notice = order(harness, ConsumptionRestriction.FLIGHTS)
    harness.deliver(notice)
    harness.adapter.restricted.clear()
    harness.redeliver(notice)
    assert harness.adapter.restricted == {}
'''
