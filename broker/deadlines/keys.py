"""What a deadline rule can be keyed on: document types, events, item kinds, unit kinds.

A rule names the document (or event) that starts the clock, optionally one item kind inside it
(a measure element, a query kind, a release kind, ...) and optionally the kind of unit that must
act. These tables let the policy loader reject a misspelt or impossible key (a ``BankFreeze``
at ``PublicSecurity``) instead of silently never matching it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

from broker.documents.bodies import EntrustedItemKind, EntrustmentOutcome
from broker.documents.catalogue import (
    DIRECTIONS,
    MEASURE_UNIT_KINDS,
    QUERY_UNIT_KINDS,
    RELEASE_UNIT_KINDS,
    UnitKind,
)
from broker.documents.measures import ReleaseKind
from broker.documents.queries import QueryKind

EVENTS: Mapping[str, str] = MappingProxyType(
    {
        # Steps with a deadline in the seeds that no document type of the catalogue starts yet.
        # The hub starts their clock from the event's own time (e.g. when the person was found).
        "PersonFound": "公安机关发现被执行人下落，24 小时内通知法院 (002 四.7(2))",
        "VehicleFound": "查扣到被执行人车辆，立即通知法院办理交接 (002 四.7(3))",
        "DetentionStopProposal": "建议停止执行拘留通知书，法院 24 小时内决定 (002 四.7(4))",
        "CaseRefusalDecision": "公安机关决定不予立案，3 个工作日内出具不予立案决定书 (002 四.7(4))",
        "CaseRefusalObjection": "法院对不予立案有异议，3 个工作日内提请检察监督 (002 四.7(4))",
        "UnitDispute": "成员单位之间事项争议，7 个工作日内磋商 (002 三(四))",
        "DishonestListingApplication": "申请执行人申请纳入失信名单，15 日内审查决定 (003 失信规定 第五条)",
        "DishonestCorrectionRequest": "对纳入失信名单申请纠正，15 日内审查 (003 失信规定 第十二条)",
        "DishonestListingExpired": "纳入期限届满，3 个工作日内删除失信信息 (003 失信规定 第十条)",
        "PunishmentQuarterEnded": "季度结束，惩戒单位反馈本季度惩戒执行情况 (003 联合惩戒备忘录 二)",
    }
)

ITEM_KINDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "AssistanceNotice": frozenset(MEASURE_UNIT_KINDS),
        "QueryNotice": frozenset(k.value for k in QueryKind),
        "ReleaseNotice": frozenset(k.value for k in ReleaseKind),
        "ItemEntrustment": frozenset(k.value for k in EntrustedItemKind),
        "EntrustmentFeedback": frozenset(k.value for k in EntrustmentOutcome),
    }
)
"""For each document type whose body lists items, the item kinds a rule may name."""

_ITEM_UNIT_KINDS: Mapping[str, Mapping[str, frozenset[UnitKind]]] = MappingProxyType(
    {
        "AssistanceNotice": MEASURE_UNIT_KINDS,
        "QueryNotice": {k.value: v for k, v in QUERY_UNIT_KINDS.items()},
        "ReleaseNotice": {k.value: v for k, v in RELEASE_UNIT_KINDS.items()},
    }
)


def check_key(doc_type: str, item: str | None, unit_kind: UnitKind | None) -> None:
    """Raise ``ValueError`` naming the problem if no real document could ever match this key."""
    if doc_type not in DIRECTIONS and doc_type not in EVENTS:
        raise ValueError(f"unknown document type or event {doc_type!r}")
    if item is not None:
        kinds = ITEM_KINDS.get(doc_type)
        if kinds is None:
            raise ValueError(f"{doc_type} has no items, so a rule for it cannot name item {item!r}")
        if item not in kinds:
            raise ValueError(f"{item!r} is not an item kind of {doc_type}")
    if unit_kind is None:
        return
    allowed = _ITEM_UNIT_KINDS.get(doc_type, {}).get(item or "")
    if allowed is None and doc_type in DIRECTIONS:
        allowed = DIRECTIONS[doc_type].recipients
    if allowed is not None and unit_kind not in allowed:
        raise ValueError(f"a unit of kind {unit_kind.value} never receives {doc_type} {item or ''}".rstrip())
