"""Rules of the dishonest-debtor list (003 最高人民法院关于公布失信被执行人名单信息的若干规定)."""

from __future__ import annotations

from typing import Iterator

from broker.documents.bodies import DishonestConduct
from broker.documents.identifiers import age_on, resident_id_is_valid
from broker.errors import Problem
from broker.documents.document import CHINA_TZ
from broker.rules.engine import RuleContext, as_date, as_datetime, child_text, report, rule, xpath

_LISTING = xpath("/ld:Document/ld:DishonestListing")
_NS = "{urn:liandong:v1}"
_PERIOD_GROUNDS = {c.value for c in DishonestConduct} - {DishonestConduct.ABLE_BUT_REFUSES.value}


@rule("RULE_LISTING_MINOR", types={"DishonestListing"}, source="003 失信规定 第四条")
def no_minors(ctx: RuleContext) -> Iterator[Problem]:
    """A minor may not be listed: the birth date in the ID number decides, on the decision date."""
    for listing in _LISTING(ctx.root):
        person = listing.find(_NS + "NaturalPerson")
        decided = as_date(child_text(listing, "DecisionDate"))
        id_number = child_text(person, "IdNumber") if person is not None else None
        if person is None or decided is None or not id_number or not resident_id_is_valid(id_number):
            continue
        age = age_on(id_number, decided)
        if age is not None and age < 18:
            yield report("RULE_LISTING_MINOR", person)


@rule("RULE_LISTING_PERIOD", types={"DishonestListing"}, source="003 失信规定 第二条")
def listing_period(ctx: RuleContext) -> Iterator[Problem]:
    """Listings on grounds (2)–(6) of art. 1 last two years; an extension of one to three years
    needs a reason and is allowed only for serious violence or threats or several dishonest acts."""
    for listing in _LISTING(ctx.root):
        conducts = [(c.text or "").strip() for c in listing.findall(_NS + "Conduct")]
        period = listing.find(_NS + "Period")
        if period is None:
            if _PERIOD_GROUNDS.intersection(conducts):
                yield report("RULE_LISTING_PERIOD", listing, detail="grounds (2)–(6) of art. 1 need a period")
            continue
        if set(conducts) == {DishonestConduct.ABLE_BUT_REFUSES.value}:
            # Ground (1) alone has no period: the listing ends when the debtor performs (art. 10).
            yield report("RULE_LISTING_PERIOD", period, detail="a listing on ground (1) alone has no period")
            continue
        base = child_text(period, "BaseYears")
        if base != "2":
            yield report("RULE_LISTING_PERIOD", period, detail=f"base period is {base} years, not 2")
        extension = child_text(period, "ExtensionYears")
        if extension is None or extension == "0":
            continue
        if extension not in {"1", "2", "3"}:
            yield report("RULE_LISTING_PERIOD", period, detail=f"extension of {extension} years")
        elif not child_text(period, "ExtensionReason"):
            yield report("RULE_LISTING_PERIOD", period, detail="an extension needs a reason")
        elif DishonestConduct.OBSTRUCTS.value not in conducts and len(set(conducts)) < 2:
            yield report(
                "RULE_LISTING_PERIOD", period, detail="extension only for obstruction or several dishonest acts"
            )


@rule("RULE_LISTING_DATES", types={"DishonestListing"}, source="003 失信规定 第五条、第六条")
def listing_dates(ctx: RuleContext) -> Iterator[Problem]:
    """The case was filed before the listing decision, and the decision (which takes effect when
    made, art. 5) is not later than the document that publishes it."""
    issued = as_datetime(ctx.header("IssuedAt"))
    for listing in _LISTING(ctx.root):
        filed = as_date(child_text(listing, "FiledOn"))
        decided = as_date(child_text(listing, "DecisionDate"))
        if filed and decided and filed > decided:
            yield report("RULE_LISTING_DATES", listing, detail="filed after the decision")
        if decided and issued and issued.tzinfo and decided > issued.astimezone(CHINA_TZ).date():
            yield report("RULE_LISTING_DATES", listing, detail="decided after the document was issued")


@rule("RULE_LISTING_FIELDS", types={"DishonestListing"}, source="003 失信规定 第六条")
def listing_fields(ctx: RuleContext) -> Iterator[Problem]:
    """The record states what art. 6 requires: the legal representative of an organisation, the
    gender of a person (age follows from the ID number)."""
    for listing in _LISTING(ctx.root):
        org = listing.find(_NS + "Organisation")
        if org is not None and not child_text(org, "LegalRepresentative"):
            yield report("RULE_LISTING_FIELDS", org, detail="LegalRepresentative")
        person = listing.find(_NS + "NaturalPerson")
        if person is not None and not child_text(person, "Gender"):
            yield report("RULE_LISTING_FIELDS", person, detail="Gender")
