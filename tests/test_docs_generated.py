"""The generated reference pages (docs/error-codes.md, docs/rules.md) are what
``scripts/gen_docs.py`` writes now: rerun it after changing the error catalogue or a rule."""

from __future__ import annotations

import runpy

import pytest

from tests.helpers import ROOT

GEN = runpy.run_path(str(ROOT / "scripts" / "gen_docs.py"), run_name="gen_docs")
PAGES = GEN["pages"]()


@pytest.mark.parametrize("path", sorted(PAGES), ids=lambda p: p.name)
def test_page_is_up_to_date(path) -> None:
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run .venv/bin/python scripts/gen_docs.py"
    assert path.read_text(encoding="utf-8") == PAGES[path], (
        f"{path.relative_to(ROOT)} is stale: run .venv/bin/python scripts/gen_docs.py"
    )


def test_every_code_and_rule_is_documented() -> None:
    from broker.errors import CATALOGUE
    from broker.rules import RULES

    codes_page = PAGES[GEN["ERROR_CODES"]]
    rules_page = PAGES[GEN["RULES_PAGE"]]
    assert all(f"`{code}`" in codes_page for code in CATALOGUE)
    assert all(f"### {r.name}\n" in rules_page for r in RULES)
    # rules.md links to each code's anchor in error-codes.md
    assert all(f'<a id="{c.lower()}"></a>' in codes_page for r in RULES for c in r.codes)


def test_check_mode_reports_nothing_stale(capsys) -> None:
    assert GEN["main"](["--check"]) == 0
    assert capsys.readouterr().out == ""
