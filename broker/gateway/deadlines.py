"""When a document falls due, seen from the gateway: the status view says ``overdue`` when its
deadline passed with no result (docs/gateway.md "Status").

The same policy and working-day calendar the hub supervises with (:mod:`broker.deadlines`,
``config/deadlines.yaml``; DOMAIN.md "Deadlines", all in working days unless stated): the item
kinds of the document pick the rule (:func:`broker.hub.deadlines.document_items`), the kind of
the unit that must act comes from the registry, and the period runs from the time of service
(003 bank rules 16). An extension notice with a reason moves the due time to its proposed
deadline, as the hub does (002 四.7, 四.13, 四.14, 四.17); a review suggestion does not
(001 art. 20: the clock runs on).
"""

from __future__ import annotations

from datetime import datetime
from lxml import etree
from broker.deadlines import Deadline, DeadlinePolicy, WorkingCalendar
from broker.documents.xmlmodel import NS
from broker.errors import LiandongError
from broker.gateway.config import DeadlineSide
from broker.hub.deadlines import SupervisionClock, document_items
from broker.registry import Registry

_DEADLINE = etree.XPath("string(/ld:Document/ld:Header/ld:Deadline)", namespaces={"ld": NS})


class DeadlineView:
    """Due times of the documents a gateway sent or received."""

    def __init__(self, side: DeadlineSide, registry: Registry):
        self.policy = DeadlinePolicy.from_file(side.policy) if side.policy else DeadlinePolicy.default()
        self.calendar = (
            WorkingCalendar.from_file(side.holidays) if side.holidays else WorkingCalendar.default()
        )
        self.clock = SupervisionClock(start=side.clock_start)
        self.registry = registry

    def now(self) -> datetime:
        return self.clock.now()

    def due(
        self, doc_type: str, root: etree._Element, recipient: str, served_at: datetime
    ) -> Deadline | None:
        """The deadline of a document served at ``served_at`` on ``recipient``; ``None`` when no
        rule applies (most documents other than notices) or the calendar does not reach it."""
        kind = self.registry.kind_of(recipient)
        if kind is None:
            return None
        items, urgent = document_items(doc_type, root)
        stated_text = _DEADLINE(root)
        stated = datetime.fromisoformat(stated_text) if stated_text else None
        try:
            return self.policy.due(
                doc_type, items, kind.value, served_at, stated, self.calendar, urgent=urgent
            )
        except LiandongError:  # DEADLINE_NO_RULE, CAL_YEAR_UNKNOWN: nothing to be overdue against
            return None
