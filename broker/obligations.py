"""Every obligation of DOMAIN.md and of the seeds it cites, where the code carries it and which
test fails without it (issue 17). ``docs/obligations.md`` is generated from here by
``scripts/gen_docs.py``; ``tests/test_obligations.py`` fails when a row has neither a test nor a
reason for not being carried, and when a named test does not exist.

Rows come from two places, so that nothing is declared twice:

- read from the declarations that already name their source: the document types and measure
  elements of ``schemas/liandong-v1.xsd`` (each annotation ends with ``Source: …``), the business
  rules of :data:`broker.rules.RULES` (``@rule(..., source=...)``) and the lines of the deadline
  policy ``config/deadlines.yaml`` (``source:``);
- declared in :data:`BEHAVIOUR` below: obligations carried by what the hub, the adapters, the
  courts' client or the broker *do*, and those the software does not carry, with the reason.

A test is named ``tests/<file>.py::<function>``, optionally with a parameter id in brackets; a
rule's row names its failing cases in ``tests/test_rules.py`` by code (``test_refused[CODE-…]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from broker.resources import data_dir

CARRIED_BY_DOCUMENT = "document type"
CARRIED_BY_MEASURE = "measure element"
CARRIED_BY_RULE = "business rule"
CARRIED_BY_DEADLINE = "deadline line"


class Carrier(StrEnum):
    """What carries an obligation declared in :data:`BEHAVIOUR`."""

    HUB = "hub behaviour"
    ADAPTER = "adapter behaviour"
    COURT = "court client behaviour"
    BROKER = "broker configuration"
    REGISTRY = "member registry"
    DOCUMENT = "document type"
    RULE = "business rule"
    DEADLINE = "deadline line"
    NOT_CARRIED = "not carried"


@dataclass(frozen=True)
class Obligation:
    """One row of the table."""

    section: str
    """The DOMAIN.md section (``## …`` or a bold-free sub-heading) the obligation is stated in."""
    obligation: str
    source: str
    """Seed and article, as DOMAIN.md cites them (``003 事项委托 第十三条``)."""
    carrier: str
    where: str
    test: str | None = None
    """``tests/<file>.py::<function>[param]``: the test that fails without the obligation."""
    not_carried: str | None = None
    """Why the software does not carry it (out of scope for software, left to people)."""

    @property
    def status(self) -> str:
        if self.not_carried:
            return "not carried"
        return "carried" if self.test else "missing"


def _b(section: str, obligation: str, source: str, carrier: Carrier, where: str, test: str) -> Obligation:
    return Obligation(section, obligation, source, carrier.value, where, test)


def _not(section: str, obligation: str, source: str, reason: str) -> Obligation:
    return Obligation(section, obligation, source, Carrier.NOT_CARRIED.value, "—", not_carried=reason)


H, A, C, BR, REG = Carrier.HUB, Carrier.ADAPTER, Carrier.COURT, Carrier.BROKER, Carrier.REGISTRY
T_SUP = "tests/test_supervision.py::"
T_HUB = "tests/test_hub.py::"

# Not reformatted: one obligation per entry reads as a table.
# fmt: off
BEHAVIOUR: tuple[Obligation, ...] = (
    # --- What problem this is / actors ------------------------------------------------------------
    _b("What problem this is", "Each member unit receives only its own documents", "003 SPC–MPS 五(二); DOMAIN.md",
       BR, "broker/mosquitto (ACL from the registry)", "tests/test_broker_acl.py::test_only_the_addressee_reads_its_inbox"),
    _b("What problem this is", "A signed receipt goes back to the court for every document executed", "003 bank rules 8",
       A, "adapters/sdk", "tests/test_adapter_sdk.py::test_receipt_is_sealed_by_the_unit_answers_the_notice_and_carries_the_case_number"),
    _b("Actors", "Every actor is identified by its USCC with a valid check character", "GB 32100-2015; DOMAIN.md Actors",
       REG, "broker/registry/model.py", "tests/test_registry.py::test_a_wrong_check_character_names_its_line"),
    _b("Actors", "The linkage office is one named unit of the network", "001 arts. 22–23; 002 三(二)",
       REG, "broker/registry/model.py (office)", "tests/test_registry.py::test_only_the_office_may_be_of_kind_linkage_office"),
    # --- Member unit kinds and their operations -------------------------------------------------------
    _b("Member unit kinds and their operations", "Banks: query, freeze, rotating and continued freeze, unfreeze, deduct",
       "003 bank rules 6–15", A, "adapters/bank", "tests/test_adapter_bank.py::test_two_courts_freeze_one_account_the_second_rotates_and_the_unfreeze_of_the_first_activates_it"),
    _b("Member unit kinds and their operations", "Public security: queries, exit restriction, vehicle seizure and transfer, locate person and vehicle, report when found",
       "002 四.7; 003 SPC–MPS 二–三", A, "adapters/police", "tests/test_adapter_police.py::test_locate_person_and_a_sighting_send_one_lead_report_to_each_court_that_asked"),
    _b("Member unit kinds and their operations", "Registries: seize, pre-seize, rotating seize, unseize, transfer, halt change registrations",
       "001 arts. 11–12; 004 art. 21", A, "adapters/realestate", "tests/test_adapter_realestate.py::test_a_halt_stops_pending_and_new_change_registrations_until_the_court_lifts_it"),
    _b("Member unit kinds and their operations", "Market regulation: equity freeze with publicity, unfreeze, forced transfer",
       "002 四.17; 004 art. 20", A, "adapters/market", "tests/test_adapter_market.py::test_a_forced_transfer_changes_the_shareholder_register_and_is_published"),
    _b("Member unit kinds and their operations", "Credit platform: listing, correction, revocation, deletion, status queries",
       "003 失信规定 arts. 6–10; 004 art. 17", A, "adapters/credit", "tests/test_adapter_credit.py::test_listing_correction_revocation_deletion_and_status_answer_with_receipts"),
    _b("Member unit kinds and their operations", "Every other kind (tax, housing fund, social insurance, insurers, securities, development and reform, civil affairs, transport, hotels, procuratorate, ...) gets an adapter from the scaffold",
       "001 arts. 9, 13, 15–16; 004 arts. 22–31", A, "adapters/sdk scaffold (liandong adapter new)", "tests/test_scaffold_kinds.py::test_every_member_kind_but_courts_and_the_office_can_be_scaffolded"),
    _b("Member unit kinds and their operations", "Measures change state and are undone by a release", "001 art. 21; 003 SPC–MPS 三(三)",
       A, "adapters/* release handlers", "tests/test_adapter_bank.py::test_every_releasable_bank_measure_can_be_released"),
    # --- Documents ------------------------------------------------------------------------------------
    _b("Documents", "Every document carries the issuing unit's electronic seal, verified before it is acted on", "003 SPC–MPS 四(三); 003 bank rules 8",
       H, "broker/signing, broker/checking.py", "tests/test_signatures.py::test_tampered_content_is_refused"),
    _b("Documents", "The time the data reaches the network is the time of service, attested by the hub", "003 bank rules 16",
       H, "broker/hub/notices.py (ServiceReceipt)", "tests/test_hub_notices.py::test_a_service_receipt_is_not_dated_before_the_reception"),
    _b("Documents", "Each document goes only from the kinds of unit that may send it to those that may receive it", "DOMAIN.md Documents",
       Carrier.RULE, "broker/documents/catalogue.py DIRECTIONS; RULE_DIRECTION", "tests/test_rules.py::test_refused[RULE_DIRECTION-bank-sends-AssistanceNotice]"),
    _b("Documents", "An answer goes to the sender of the document it answers", "003 bank rules 8; DOMAIN.md Documents",
       H, "broker/hub/recording.py (ROUTE_REPLY_*)", T_HUB + "test_an_answer_must_answer_a_document_delivered_to_its_sender"),
    # --- Rules: identifiers --------------------------------------------------------------------------
    _b("Identifiers", "Resident ID numbers carry the ISO 7064 MOD 11-2 check character and a real birth date", "GB 11643-1999",
       Carrier.RULE, "broker/documents/identifiers.py; RULE_ID_NUMBER", "tests/test_rules.py::test_refused[RULE_ID_NUMBER-check-char]"),
    _b("Identifiers", "Unit codes carry the GB 32100-2015 check character", "GB 32100-2015",
       Carrier.RULE, "broker/documents/identifiers.py", "tests/test_identifiers.py::test_wrong_uscc_check_char"),
    _b("Identifiers", "Case numbers: year, court abbreviation, case-type word, sequence", "DOMAIN.md Identifiers",
       Carrier.RULE, "broker/documents/identifiers.py", "tests/test_identifiers.py::test_malformed_case_number"),
    _b("Identifiers", "Amounts in yuan with two decimals; a currency code for foreign-currency accounts", "003 bank rules 13",
       Carrier.DOCUMENT, "broker/documents/common.py (Money)", "tests/test_codec.py::test_money_refuses_three_decimals"),
    # --- Rules: dishonest-debtor list ----------------------------------------------------------------------
    _b("Dishonest-debtor list", "A minor may not be listed: the birth date in the ID number decides", "003 失信规定 第四条",
       Carrier.RULE, "broker/rules/listing.py; adapters/credit", "tests/test_adapter_credit.py::test_a_minor_is_never_listed_whatever_the_decision_date"),
    _b("Dishonest-debtor list", "A listing carries a period, normally two years, extendable by one to three", "003 失信规定 第二条",
       A, "adapters/credit", "tests/test_adapter_credit.py::test_the_period_is_two_years_from_the_decision_extendable_and_none_for_ground_one_alone"),
    _b("Dishonest-debtor list", "A listing record contains the fields of art. 6", "003 失信规定 第六条",
       A, "adapters/credit; broker/rules/listing.py", "tests/test_adapter_credit.py::test_the_record_carries_what_art_6_requires"),
    _b("Dishonest-debtor list", "Revocation and correction within 3 working days, deletion within 3 working days, a correction request examined within 15 days",
       "003 失信规定 第九条、第十条、第十二条", Carrier.DEADLINE, "config/deadlines.yaml", "tests/test_deadline_policy.py::test_default_rules_from_the_seeds"),
    _b("Dishonest-debtor list", "Punishments end when the listing is deleted", "003 tendering notice 四",
       A, "adapters/credit", "tests/test_adapter_credit.py::test_revocation_deletion_and_expiry_take_a_listing_out_of_force"),
    # --- Rules: registries and police ---------------------------------------------------------------
    _b("Registries and police", "The first seizure delivered takes effect; later ones rotate, with notice to their courts", "001 art. 12; 002 四.7(3)",
       A, "adapters/realestate, adapters/police", "tests/test_adapter_realestate.py::test_first_delivered_seizure_takes_effect_and_later_ones_rotate_in_order"),
    _b("Registries and police", "Only the first seizing court may have a transfer registered", "001 art. 12",
       A, "adapters/realestate", "tests/test_adapter_realestate.py::test_only_the_first_seizing_court_can_have_a_transfer_registered"),
    _b("Registries and police", "When a seizure is released the next rotating seizure takes effect", "001 art. 12",
       A, "adapters/realestate (MeasureStatusNotice)", "tests/test_adapter_realestate.py::test_releasing_the_effective_seizure_promotes_the_next_rotating_one"),
    # --- Rules: banks (behaviour beyond the rules) -----------------------------------------------------
    _b("Banks", "A freeze above the available balance is a limit freeze reporting requested and frozen amounts", "003 bank rules 10",
       A, "adapters/bank", "tests/test_adapter_bank.py::test_a_limit_freeze_is_topped_up_by_later_income_before_a_rotating_freeze_gets_any"),
    _b("Banks", "Rotating freezes stack in order and the receipt lists earlier freezes; a continued freeze extends the end date", "003 bank rules 10",
       A, "adapters/bank", "tests/test_adapter_bank.py::test_continued_freeze_extends_the_end_date_and_lists_the_freezes_before_and_after"),
    _b("Banks", "Deduction needs no prior unfreeze and reports deducted and not-deducted amounts", "003 bank rules 13–15",
       A, "adapters/bank", "tests/test_adapter_bank.py::test_a_deduction_after_a_freeze_needs_no_unfreeze_and_reports_deducted_and_not_deducted"),
    _b("Banks", "Priority rights are listed in the query result and not counted as frozen value", "003 bank rules 12",
       A, "adapters/bank", "tests/test_adapter_bank.py::test_priority_rights_are_listed_not_frozen_and_the_court_is_reminded_of_its_five_days"),
    _b("Banks", "A unit that cannot act says why in the receipt", "003 bank rules 17",
       A, "adapters/sdk (NotExecuted with Reason)", "tests/test_adapter_sdk.py::test_permanent_error_gives_not_executed_with_the_reason"),
    # --- No substantive review -------------------------------------------------------------------------
    _b("No substantive review", "A unit may send a review suggestion but still carries out the measure", "001 art. 20",
       A, "adapters/sdk (review_suggestion)", "tests/test_adapter_sdk.py::test_review_suggestion_is_sent_and_the_measure_still_carried_out"),
    _b("No substantive review", "A review suggestion does not stop the deadline clock", "001 art. 20",
       H, "broker/hub/deadlines.py", T_SUP + "test_an_extension_with_a_reason_moves_the_deadline_and_a_review_suggestion_does_not_stop_it"),
    # --- Deadlines ---------------------------------------------------------------------------------------
    _b("Deadlines", "The hub reminds before a deadline and escalates to the office and the court after it", "003 事项委托 art. 14; 004 art. 37",
       H, "broker/hub/deadlines.py", T_SUP + "test_reminder_before_and_escalation_after_the_deadline_once_and_not_when_answered"),
    _b("Deadlines", "Queries to police, registries, housing and market regulation: service receipt and result within 3 working days",
       "002 四.7(1), 四.13, 四.14, 四.17", Carrier.DEADLINE, "config/deadlines.yaml", "tests/test_deadline_policy.py::test_default_rules_from_the_seeds"),
    _b("Deadlines", "Seizure, unseizure, forced transfer and police vehicle seizure: at once", "002 四.13, 四.14, 四.7(3)",
       Carrier.DEADLINE, "config/deadlines.yaml (at once, max 24 hours)", "tests/test_deadline_policy.py::test_at_once_yields_the_maximum_in_clock_hours"),
    _b("Deadlines", "Other queries and opinion requests to land and planning: 15 working days", "002 四.13",
       Carrier.DEADLINE, "config/deadlines.yaml", "tests/test_deadline_policy.py::test_fifteen_working_days_across_a_holiday"),
    _b("Deadlines", "Vehicle transfer, equity freeze publicity and shareholder change: 3 working days", "002 四.7(3), 四.17",
       Carrier.DEADLINE, "config/deadlines.yaml", "tests/test_deadline_policy.py::test_default_rules_from_the_seeds"),
    _b("Deadlines", "Person found: the court is told within 24 hours", "002 四.7(2)",
       Carrier.DEADLINE, "config/deadlines.yaml (PersonFound)", "tests/test_deadline_policy.py::test_person_found_report_in_24_hours"),
    _b("Deadlines", "Procuratorate feedback on a supervision request: 7 working days", "002 四.6",
       Carrier.DEADLINE, "config/deadlines.yaml", "tests/test_deadline_policy.py::test_procuratorate_seven_working_days_across_national_day"),
    _b("Deadlines", "Court-to-court entrustment: 10 to 20 days", "003 事项委托 第六条",
       Carrier.DEADLINE, "config/deadlines.yaml (stated_min, stated_max)", "tests/test_deadline_policy.py::test_entrustment_stated_deadline_must_be_10_to_20_days"),
    _b("Deadlines", "Urgent entrustment items: within 24 hours", "003 事项委托 第六条",
       Carrier.DEADLINE, "config/deadlines.yaml (urgent)", "tests/test_deadline_policy.py::test_urgent_entrustment_is_24_hours"),
    _b("Deadlines", "Disputes between units: 7 working days of talks", "002 三(四)",
       Carrier.DEADLINE, "config/deadlines.yaml (UnitDispute)", "tests/test_deadline_policy.py::test_every_default_rule_cites_a_seed_or_says_why_not"),
    _b("Deadlines", "Working days follow the official holiday calendar, make-up weekends included", "DOMAIN.md Deadlines",
       H, "broker/deadlines/calendar.py", T_SUP + "test_deadlines_land_on_working_days_across_spring_festival_and_national_day"),
    _b("Deadlines", "A unit that cannot meet a deadline tells the court why; only then the deadline moves", "002 四.7, 四.13, 四.14, 四.17",
       H, "broker/hub/deadlines.py (ExtensionNotice)", T_SUP + "test_an_extension_with_a_reason_moves_the_deadline_and_a_review_suggestion_does_not_stop_it"),
    _b("Deadlines", "A court may give more time than the seeds, never less", "002 四.7(1); 003 事项委托 第六条",
       Carrier.DEADLINE, "broker/deadlines/policy.py (stated_min)", "tests/test_deadline_policy.py::test_stated_deadline_shorter_than_the_seeds_is_replaced"),
    _b("Deadlines", "Missing entrustment material is supplied within 3 days", "003 事项委托 第十条",
       Carrier.DEADLINE, "config/deadlines.yaml (EntrustmentFeedback MaterialRequested)", "tests/test_deadline_policy.py::test_default_rules_from_the_seeds"),
    _b("Deadlines", "Detention stop: court decides within 24 hours; refusal to open a case and objections within 3 working days",
       "002 四.7(4)", Carrier.DEADLINE, "config/deadlines.yaml (events; keys.EVENTS)", "tests/test_deadline_policy.py::test_every_default_rule_cites_a_seed_or_says_why_not"),
    _not("Deadlines", "The police procedure itself (detention, criminal case filing) is carried out",
         "002 四.7(4)", "out of scope for software: acts of the police and the court outside the network; the network carries their deadlines as events only"),
    # --- Closure -------------------------------------------------------------------------------------------
    _b("Closure", "When a case is completed, the units that acted are told and measures still in place are listed", "004 art. 35",
       H, "broker/hub/deadlines.py (OutstandingMeasuresNotice)", T_SUP + "test_case_completed_lists_exactly_the_measures_not_released"),
    _b("Closure", "A completed case closes its open deadlines", "004 art. 35",
       H, "broker/hub/deadlines.py (_case_completed)", T_SUP + "test_case_completed_lists_exactly_the_measures_not_released"),
    _b("Closure", "Lifted measures are pushed to the units", "003 SPC–MPS 三(三)",
       A, "adapters/* release handlers", "tests/test_adapter_police.py::test_exit_restriction_and_its_lifting"),
    # --- Security and records ---------------------------------------------------------------------------------
    _b("Security and records", "Complete system logs of every access and operation, tamper-evident", "003 SPC–MPS 五(二); 002 二(四)",
       H, "broker/hub/ledger (hash chain, audit)", "tests/test_ledger_tamper.py::test_an_edited_column_is_reported"),
    _b("Security and records", "Technical isolation: no one acts beyond their authority on the broker", "003 SPC–MPS 五(二)",
       BR, "broker/mosquitto (ACL, TLS client certificates)", "tests/test_broker_acl.py::test_unit_cannot_publish_on_another_units_outbox"),
    _b("Security and records", "Information protected against leakage: no personal data in logs at INFO or above", "003 memorandum 四",
       H, "broker/logs.py", "tests/test_logs.py::test_an_exception_is_logged_without_its_message"),
    _b("Security and records", "Notify the other side within 24 hours of a system anomaly", "003 SPC–MPS 四(五)",
       H, "broker/hub/deadlines.py (AnomalyNotice)", T_SUP + "test_non_delivery_and_unit_offline_notices"),
    _b("Security and records", "A revoked or foreign certificate cannot seal or connect", "003 SPC–MPS 五(二)",
       H, "broker/signing/trust", "tests/test_signatures.py::test_revoked_certificate_is_refused"),
    _not("Security and records", "Information is used only for its purpose", "003 memorandum 四; 003 SPC–MPS 五(二)",
         "left to people: what a unit does with data once received is its staff's duty; the network only delivers each document to its addressee"),
    _not("Security and records", "Electronic documents and network actions have the same force as paper and on-site action",
         "003 SPC–MPS 四(三)–(四)", "a legal effect, not a behaviour: the software makes it possible (seals, service receipts) but the force is given by the seeds"),
    # --- Supervision and statistics -------------------------------------------------------------------------
    _b("Supervision and statistics", "The office tracks overdue items and each unit's cooperation (配合度)", "003 evaluation index 五(六); 004 arts. 9, 36–37",
       H, "broker/hub/reports.py (liandong report)", "tests/test_reports.py::test_report_matches_independent_counts"),
    _b("Supervision and statistics", "Entrustments can be rated and complained about to the superior court, which the entrusted court may answer; both count in the evaluation",
       "003 事项委托 第十三条", H, "EntrustmentRating, EntrustmentComplaint, ComplaintExplanation; broker/hub/entrustment_stats.py",
       "tests/test_obligations_flow.py::test_a_rating_and_a_complaint_travel_court_to_court_and_to_the_superior_court_and_are_counted"),
    _b("Supervision and statistics", "Punishing units report what they did each quarter; late ones are reminded and listed", "003 memorandum 二",
       H, "broker/hub/punishment_reports.py; config/deadlines.yaml PunishmentQuarterEnded",
       "tests/test_obligations_flow.py::test_a_punishing_unit_without_its_quarterly_report_is_reminded_escalated_and_listed"),
    _b("Supervision and statistics", "Superior courts supervise and periodically report on entrustment work", "003 事项委托 第十四条",
       H, "Reminder/Escalation of ItemEntrustment deadlines; liandong report", T_SUP + "test_reminder_before_and_escalation_after_the_deadline_once_and_not_when_answered"),
    _not("Supervision and statistics", "Disputes between units are settled by talks and then by the office", "002 三(四)",
         "left to people: the network carries the 7-working-day clock (UnitDispute event) but the talks and the office's decision are human acts"),
    _not("Supervision and statistics", "Staff who misuse the dishonest list are held responsible", "003 失信规定 第十三条",
         "left to people: discipline of court staff; the ledger keeps the evidence of who sent what"),
)
# fmt: on


DOMAIN_SECTIONS: tuple[str, ...] = (
    "What problem this is",
    "Actors",
    "Member unit kinds and their operations",
    "Documents",
    "Rules the software can enforce or help enforce",
    "Identifiers",
    "Dishonest-debtor list",
    "Banks",
    "Registries and police",
    "No substantive review",
    "Deadlines",
    "Closure",
    "Security and records",
    "Supervision and statistics",
)
"""The sections of DOMAIN.md that state obligations (its headings, and the sub-headings of its
rules); every one has rows (``tests/test_obligations.py``)."""

NOT_CARRIED_REASONS = ("out of scope for software", "left to people", "a legal effect")
"""How a reason for not carrying an obligation starts."""


# --- rows read from the declarations --------------------------------------------------------------

_COMPLEX = re.compile(
    r'<xs:complexType name="(\w+)Type">\s*<xs:annotation>\s*<xs:documentation>(.*?)</xs:documentation>',
    re.DOTALL,
)
_ELEMENT = re.compile(r'<xs:element name="(\w+)" type="ld:(\w+)Type"')


@lru_cache(maxsize=1)
def xsd_sources(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """``{type or element name: (description, source)}`` from the XSD's annotations (``Source: …``)."""
    text = (path or data_dir("schemas") / "liandong-v1.xsd").read_text(encoding="utf-8")
    out = {}
    for name, doc in _COMPLEX.findall(text):
        doc = " ".join(doc.split())
        description, _, source = doc.partition("Source:")
        out[name] = (description.strip(), source.strip().rstrip(".") or "")
    for element, type_name in _ELEMENT.findall(text):
        if element not in out and type_name in out:
            out[element] = out[type_name]
    return out


def document_rows() -> list[Obligation]:
    """One row per document type of the catalogue, its source from the XSD."""
    from broker.documents.catalogue import DIRECTIONS

    sources = xsd_sources()
    rows = []
    for doc_type in DIRECTIONS:
        description, source = sources.get(doc_type, ("", ""))
        rows.append(
            Obligation(
                "Documents",
                f"`{doc_type}`: {description}",
                source or "— (the network's own notice; no seed)",
                CARRIED_BY_DOCUMENT,
                "schemas/liandong-v1.xsd; broker/documents/bodies.py; catalogue DIRECTIONS",
                "tests/test_schema.py::test_examples_cover_every_document_type",
            )
        )
    return rows


def measure_rows() -> list[Obligation]:
    """One row per measure element, its source from the XSD and its units from the catalogue."""
    from broker.documents.catalogue import MEASURE_UNIT_KINDS

    sources = xsd_sources()
    rows = []
    for measure, kinds in MEASURE_UNIT_KINDS.items():
        description, source = sources.get(measure, ("", ""))
        rows.append(
            Obligation(
                "Member unit kinds and their operations",
                f"`{measure}` by {', '.join(sorted(k.value for k in kinds))}: {description}",
                source or "—",
                CARRIED_BY_MEASURE,
                "schemas/liandong-v1.xsd; catalogue MEASURE_UNIT_KINDS; RULE_MEASURE_UNIT_KIND",
                "tests/test_rules.py::test_refused[RULE_MEASURE_UNIT_KIND-…]",
            )
        )
    return rows


def rule_rows() -> list[Obligation]:
    """One row per business rule, its source from ``@rule(source=...)`` (else its codes')."""
    from broker.errors import CATALOGUE
    from broker.rules import RULES

    rows = []
    for r in RULES:
        source = r.source or "; ".join(
            dict.fromkeys(CATALOGUE[c].source for c in r.codes if CATALOGUE[c].source)
        )
        summary = " ".join((r.description or "").split()).split(". ")[0].rstrip(".")
        rows.append(
            Obligation(
                "Rules the software can enforce or help enforce",
                f"[{r.name}](rules.md#{r.name}): {summary}",
                source or "— (the network's own consistency check; no seed)",
                CARRIED_BY_RULE,
                f"{r.function.__module__}",
                f"tests/test_rules.py::test_refused[{r.codes[0]}-…]",
            )
        )
    return rows


def deadline_rows() -> list[Obligation]:
    """One row per line of ``config/deadlines.yaml``, its source from the line."""
    from broker.deadlines.policy import DeadlinePolicy

    rows = []
    for line in DeadlinePolicy.default().rules:
        key = "/".join(
            p for p in (line.doc_type, line.item, line.unit_kind.value if line.unit_kind else None) if p
        )
        rows.append(
            Obligation(
                "Deadlines",
                f"`{key}`{' (urgent)' if line.urgent else ''}: within {line.term}",
                line.source,
                CARRIED_BY_DEADLINE,
                "config/deadlines.yaml",
                "tests/test_deadline_policy.py::test_every_default_rule_cites_a_seed_or_says_why_not",
            )
        )
    return rows


def all_rows() -> list[Obligation]:
    """The whole table: behaviour first (the DOMAIN.md obligations), then the declarations."""
    return [*BEHAVIOUR, *document_rows(), *measure_rows(), *rule_rows(), *deadline_rows()]
