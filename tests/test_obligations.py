"""The traceability table (issue 17, broker/obligations.py → docs/obligations.md): every row is
carried with a test that exists, or says why it is not carried; every DOMAIN.md section has rows;
a new document type or rule cannot join without a source. That docs/obligations.md is what
scripts/gen_docs.py writes now is checked by tests/test_docs_generated.py."""

from __future__ import annotations

import ast
from functools import cache

import pytest

from broker import obligations
from broker.documents.catalogue import DIRECTIONS
from broker.rules import RULES
from tests.helpers import ROOT

ROWS = obligations.all_rows()


@cache
def _functions(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(n.name for n in tree.body if isinstance(n, ast.FunctionDef))


def _refused_ids() -> list[str]:
    from tests.test_rules import REFUSED

    return [c.id for c in REFUSED if not c.xfail]


def test_no_row_is_missing_a_test_or_a_reason():
    missing = [r.obligation for r in ROWS if r.status == "missing"]
    assert missing == []
    for r in ROWS:
        if r.not_carried:
            assert r.not_carried.startswith(obligations.NOT_CARRIED_REASONS), r.not_carried
            assert r.test is None


@pytest.mark.parametrize("test", sorted({r.test for r in ROWS if r.test}))
def test_every_named_test_exists(test):
    path, _, name = test.partition("::")
    assert (ROOT / path).is_file(), f"{path} does not exist"
    function, _, param = name.partition("[")
    assert function in _functions(path), f"{path} has no {function}"
    if path == "tests/test_rules.py" and function == "test_refused":
        prefix = param.rstrip("]").rstrip("…")
        assert any(i.startswith(prefix) for i in _refused_ids()), f"no refused case {param}"


def test_every_domain_section_has_rows():
    sections = {r.section for r in ROWS}
    assert set(obligations.DOMAIN_SECTIONS) <= sections
    assert sections <= set(obligations.DOMAIN_SECTIONS), "a row names a section DOMAIN.md does not have"


def test_every_document_type_rule_and_deadline_line_has_a_row_with_its_source():
    generated = [r for r in ROWS if r not in obligations.BEHAVIOUR]
    documents = [r for r in generated if r.carrier == obligations.CARRIED_BY_DOCUMENT]
    assert len(documents) == len(DIRECTIONS)
    # only the hub's own notices have no seed behind them
    unsourced = {r.obligation.split("`")[1] for r in documents if r.source.startswith("—")}
    assert unsourced == {"RejectionNotice", "NonDeliveryNotice"}
    assert len([r for r in generated if r.carrier == obligations.CARRIED_BY_RULE]) == len(RULES)
    for r in generated:
        if r.carrier == obligations.CARRIED_BY_DEADLINE:
            assert r.source.startswith(("00", "no seed period")), r.obligation


def test_the_new_obligations_of_issue_17_are_carried():
    by_source = {r.source: r for r in obligations.BEHAVIOUR}
    assert by_source["003 事项委托 第十三条"].status == "carried"
    assert by_source["003 memorandum 二"].status == "carried"
    kinds = {r.obligation.split("`")[1] for r in ROWS if r.carrier == obligations.CARRIED_BY_DOCUMENT and "`" in r.obligation}
    assert {"EntrustmentRating", "EntrustmentComplaint", "ComplaintExplanation", "PunishmentReport"} <= kinds
