"""The credit platform adapter (全国信用信息共享平台): the dishonest-debtor list and its status query.

Documents (003 失信规定; 004 art. 17), over :class:`~adapters.credit.native.CreditPlatform`:

- ``DishonestListing``: entry with the art. 6 record and the art. 2 period; a minor is refused
  (art. 4), even though the hub refuses one too (defence in depth: the hub checks the decision
  date, the platform also the day of entry, and every correction);
- ``DishonestListingCorrection`` (art. 9 para. 2), ``DishonestListingRevocation`` (art. 9 para. 1),
  ``DishonestListingDeletion`` (art. 10; art. 2 para. 2): within 3 working days — at once here;
- ``QueryNotice`` with ``DishonestStatus`` queries: is this subject listed? (``ListingRecord``).
  The same answer is :meth:`CreditAdapter.status` for the platform's own users (punishing units,
  003 joint punishment memorandum 二).

**Receipts for whole documents.** The four listing documents have no items, but each is a court
decision the court must know was carried out (the hub watches the 3-working-day deadlines of
corrections, revocations and deletions and closes them on the receipt). So each document handler
returns one result, and the SDK sends it as the ``ExecutionReceipt`` answering the document
(``DocumentReply``, adapters/sdk/adapter.py). The result's item id is the document type
(:data:`RESULT_IDS`):

======================================  =================================================================
document                                result
======================================  =================================================================
``DishonestListing``                    ``MeasureResult MeasureId="DishonestListing"``: Executed, with the
                                        period (decision date to its end) and when it was entered; or
                                        NotExecuted with the reason (a minor, art. 4; a record incomplete)
``DishonestListingCorrection``          ``MeasureResult MeasureId="DishonestListingCorrection"``
``DishonestListingRevocation``          ``ReleaseResult ReleaseId="DishonestListingRevocation"``: Released
``DishonestListingDeletion``            ``ReleaseResult ReleaseId="DishonestListingDeletion"``: Released
======================================  =================================================================

A refusal is a NotExecuted (NotReleased) result with the reason, never a ``PermanentError``: the
SDK sends no receipt for a document handler that raises one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.credit.demo import seed
from adapters.credit.native import CreditPlatform, Entry, Listing, Refusal, record_restriction
from adapters.sdk import Adapter, Context, TransientError, handles, on_document
from broker.documents.bodies import (
    ConsumptionRestrictionOrder,
    DishonestListing,
    DishonestListingCorrection,
    DishonestListingDeletion,
    DishonestListingRevocation,
)
from broker.documents.catalogue import UnitKind
from broker.documents.common import NaturalPerson, Period, Subject
from broker.documents.document import CHINA_TZ, Document
from broker.documents.queries import Query, QueryKind
from broker.documents.results import (
    ListingRecord,
    MeasureResult,
    QueryResult,
    QueryStatus,
    ReleaseResult,
    ReleaseStatus,
    Result,
    ResultStatus,
)

RESULT_IDS = {
    "DishonestListing": "DishonestListing",
    "DishonestListingCorrection": "DishonestListingCorrection",
    "DishonestListingRevocation": "DishonestListingRevocation",
    "DishonestListingDeletion": "DishonestListingDeletion",
    "ConsumptionRestrictionOrder": "ConsumptionRestrictionOrder",
}
"""The item id of the one result answering each whole document (see the module docstring)."""


class CreditSettings(BaseModel):
    """``adapter:`` section of the credit platform adapter's configuration."""

    model_config = ConfigDict(extra="forbid")

    demo: bool = Field(
        False, description="load the example network's listings at start (adapters/credit/demo.py)"
    )


class CreditAdapter(Adapter):
    """Credit platform (信用信息共享平台): the dishonest-debtor list — entry, correction, revocation, deletion, status."""

    name = "credit"
    unit_kinds = frozenset({UnitKind.CREDIT_PLATFORM})
    open_queries = frozenset({QueryKind.DISHONEST_STATUS})  # every unit checks the list (失信规定 art. 8)
    settings_model = CreditSettings

    def __init__(self, settings: CreditSettings, runtime) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, runtime)
        self.settings: CreditSettings = settings
        self.native = CreditPlatform(runtime.data_dir / "credit.db")

    def start(self) -> None:
        if self.settings.demo:
            seed(self.native)
        now = self.runtime.now().astimezone(CHINA_TZ)
        expired = self.native.expire(now.date(), now)  # art. 10 para. 2: a period over is not published
        self.runtime.log.info(
            "credit.started", expired=expired, awaiting_deletion=len(self.native.awaiting_deletion())
        )

    def stop(self) -> None:
        self.native.close()

    # --- the list (003 失信规定) ----------------------------------------------------------------------

    @on_document("ConsumptionRestrictionOrder")
    def restriction(self, doc: Document, ctx: Context) -> list[Result]:
        """限制消费令: recorded for the punishing units that carry it out (003 memorandum 19-22)."""
        body: ConsumptionRestrictionOrder = doc.body  # type: ignore[assignment]
        outcome, refusal = _decide(
            lambda: record_restriction(
                self.native,
                ctx.idempotency_key,
                order_id=ctx.document_id,
                court=ctx.court,
                case_number=ctx.case_number,
                code=_code(body.subject),
                restrictions=[r.value for r in body.restrictions],
                persons=len(body.responsible_persons),
                effective_from=body.effective_from.isoformat(),
                at=_now(ctx),
            )
        )
        result_id = RESULT_IDS["ConsumptionRestrictionOrder"]
        if refusal is not None:
            return [MeasureResult(measure_id=result_id, status=ResultStatus.NOT_EXECUTED, reason=refusal)]
        ctx.log.info("credit.restriction_recorded", restrictions=len(body.restrictions))
        return [
            MeasureResult(
                measure_id=result_id,
                status=ResultStatus.EXECUTED,
                effective_at=datetime.fromisoformat(outcome["recorded_at"]),
                remark="限制消费令已记录，并推送至交通运输、民航、铁路、宾馆等惩戒单位执行。",
            )
        ]

    @on_document("DishonestListing")
    def listing(self, doc: Document, ctx: Context) -> list[Result]:
        """Enter a debtor (arts. 1–2, 4–7); refused with the reason, e.g. a minor (art. 4)."""
        body: DishonestListing = doc.body  # type: ignore[assignment]
        result_id = RESULT_IDS["DishonestListing"]
        subject = body.subject
        person = isinstance(subject, NaturalPerson)
        period = body.period
        entry = Entry(
            listing_id=ctx.document_id,
            court=ctx.court,
            court_name=self._court_name(ctx.court),
            case_number=ctx.case_number,
            subject_kind="person" if person else "organisation",
            name=subject.name,
            code=_code(subject),
            gender=subject.gender.value if person and subject.gender else None,  # type: ignore[union-attr]
            legal_representative=None if person else subject.legal_representative,  # type: ignore[union-attr]
            obligation=body.obligation,
            performance=body.performance,
            conducts=[c.value for c in body.conducts],
            conduct_details=body.conduct_details,
            basis_issuer=body.basis.issuer,
            basis_number=body.basis.number,
            filed_on=body.filed_on,
            decision_date=body.decision_date,
            base_years=period.base_years if period else None,
            extension_years=period.extension_years if period else None,
            extension_reason=period.extension_reason if period else None,
        )
        outcome, refusal = _decide(lambda: self.native.enter(ctx.idempotency_key, entry, _now(ctx)))
        if refusal is not None:
            ctx.log.info("credit.listing_refused")
            return [MeasureResult(measure_id=result_id, status=ResultStatus.NOT_EXECUTED, reason=refusal)]
        end = outcome["period_end"]
        ctx.log.info("credit.listed", period_end=end)
        return [
            MeasureResult(
                measure_id=result_id,
                status=ResultStatus.EXECUTED,
                period=Period(start=outcome["decision_date"], end=end) if end else None,
                effective_at=outcome["listed_at"],
                remark="已纳入失信被执行人名单并公布。"
                + ("" if end else "未设纳入期限，至删除时止（失信规定第二条、第十条）。"),
            )
        ]

    @on_document("DishonestListingCorrection")
    def correction(self, doc: Document, ctx: Context) -> list[Result]:
        """Correct inaccurate information (art. 9 para. 2), all fields or none."""
        body: DishonestListingCorrection = doc.body  # type: ignore[assignment]
        result_id = RESULT_IDS["DishonestListingCorrection"]
        outcome, refusal = _decide(
            lambda: self.native.correct(
                ctx.idempotency_key,
                listing_id=str(body.listing),
                court=ctx.court,
                corrections=[(c.field, c.value) for c in body.corrections],
                reason=body.reason,
                at=_now(ctx),
            )
        )
        if refusal is not None:
            ctx.log.info("credit.correction_refused")
            return [MeasureResult(measure_id=result_id, status=ResultStatus.NOT_EXECUTED, reason=refusal)]
        ctx.log.info("credit.corrected", fields=outcome["fields"])
        return [
            MeasureResult(
                measure_id=result_id, status=ResultStatus.EXECUTED, effective_at=outcome["corrected_at"]
            )
        ]

    @on_document("DishonestListingRevocation")
    def revocation(self, doc: Document, ctx: Context) -> list[Result]:
        """Revoke a wrongful listing (art. 9 para. 1)."""
        body: DishonestListingRevocation = doc.body  # type: ignore[assignment]
        return self._end(
            ctx,
            RESULT_IDS["DishonestListingRevocation"],
            lambda at: self.native.revoke(
                ctx.idempotency_key, listing_id=str(body.listing), court=ctx.court, reason=body.reason, at=at
            ),
        )

    @on_document("DishonestListingDeletion")
    def deletion(self, doc: Document, ctx: Context) -> list[Result]:
        """Delete a listing (art. 10; art. 2 para. 2; at the end of its period, art. 10 para. 2)."""
        body: DishonestListingDeletion = doc.body  # type: ignore[assignment]
        return self._end(
            ctx,
            RESULT_IDS["DishonestListingDeletion"],
            lambda at: self.native.delete(
                ctx.idempotency_key,
                listing_id=str(body.listing),
                court=ctx.court,
                ground=body.ground.value,
                reason=body.remark,
                at=at,
            ),
        )

    # --- the status query (003 失信规定 arts. 7–8) -------------------------------------------------------

    @handles(Query, kinds={QueryKind.DISHONEST_STATUS})
    def dishonest_status(self, query: Query, ctx: Context) -> QueryResult:
        """Is the subject listed today? One ``ListingRecord`` per listing in force; a single
        ``ListingRecord Listed=false`` when none is (a definite answer, not "not found")."""
        try:
            records = self.status(query.subject, on=_now(ctx).date())
        except sqlite3.OperationalError as exc:  # busy: retried by the SDK
            raise TransientError() from exc
        ctx.log.info("credit.status_query", listed=any(r.listed for r in records))
        return QueryResult(query_id=query.query_id, status=QueryStatus.FOUND, records=records)

    def status(self, subject: Subject | str, on: date | None = None) -> list[ListingRecord]:
        """The platform's answer to "is this subject on the dishonest list?" for a subject or its
        ID number / unified social credit code, on ``on`` (default today). Deleted, revoked and
        expired listings are not in force (art. 10; 003 tendering notice 四: punishments end)."""
        code = subject if isinstance(subject, str) else _code(subject)
        day = on or self.runtime.now().astimezone(CHINA_TZ).date()
        found = [_record(x) for x in self.native.status(code, day)]
        return found or [ListingRecord(listed=False)]

    # --- helpers ------------------------------------------------------------------------------------

    def _end(self, ctx: Context, result_id: str, act: Callable[[datetime], dict[str, Any]]) -> list[Result]:
        outcome, refusal = _decide(lambda: act(_now(ctx)))
        if refusal is not None:
            ctx.log.info("credit.end_refused", kind=result_id)
            return [ReleaseResult(release_id=result_id, status=ReleaseStatus.NOT_RELEASED, reason=refusal)]
        ctx.log.info("credit.ended", kind=result_id, already=outcome["already"])
        return [
            ReleaseResult(
                release_id=result_id, status=ReleaseStatus.RELEASED, effective_at=outcome["ended_at"]
            )
        ]

    def _court_name(self, court: str) -> str:
        entry = self.runtime.registry.unit(court)
        return entry.name if entry else court


def _decide(act: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """The native outcome, or the refusal's reason (which becomes a NotExecuted result: a
    document handler raising PermanentError would send no receipt at all)."""
    try:
        return act(), None
    except Refusal as exc:
        return {}, exc.reason
    except sqlite3.OperationalError as exc:  # busy: retried by the SDK
        raise TransientError() from exc


def _now(ctx: Context) -> datetime:
    return ctx.runtime.now().astimezone(CHINA_TZ).replace(microsecond=0)


def _code(subject: Subject) -> str:
    return subject.id_number if isinstance(subject, NaturalPerson) else subject.unit_code


def _record(x: Listing) -> ListingRecord:
    return ListingRecord(
        listed=True,
        listing_document_id=x.listing_id,
        court=x.court_name,
        case_number=x.case_number,
        listed_on=x.listed_on,
        period_end=x.period_end,
    )
