"""The example network's dishonest-debtor list (``examples/build.py``).

:func:`seed` loads the listings the example documents name: 陈国强's listing by the Yunfu court
(``DishonestListing.xml``, corrected and deleted by ``DishonestListingCorrection.xml`` and
``DishonestListingDeletion.xml``, queried by ``QueryNotice-CreditPlatform.xml``) and the earlier
listing of 刘建华 by the Gong'an court that ``DishonestListingRevocation.xml`` revokes. They go
through the platform's own rules (003 失信规定 arts. 2, 4, 6). Loading twice changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from adapters.credit.native import CreditPlatform, Entry

EXAMPLE_NS = uuid.UUID("3d6f0c52-8a4e-5b71-9c2d-6e4f1a0b7c93")
"""The namespace of the example document ids (examples/build.py)."""

YUNFU_COURT, YUNFU_COURT_NAME = "11445300MB0000001W", "广东省云浮市中级人民法院"
GONGAN_COURT, GONGAN_COURT_NAME = "11421022MB0000002J", "湖北省公安县人民法院"
CASE = "（2026）粤53执123号"
GONGAN_CASE = "（2026）鄂1022执45号"

CHEN_LISTING = str(uuid.uuid5(EXAMPLE_NS, "DishonestListing"))
LIU_LISTING = str(uuid.uuid5(EXAMPLE_NS, f"earlier/DishonestListing-{GONGAN_CASE}"))

LISTINGS: list[tuple[Entry, str]] = [
    (
        Entry(
            listing_id=CHEN_LISTING,
            court=YUNFU_COURT,
            court_name=YUNFU_COURT_NAME,
            case_number=CASE,
            subject_kind="person",
            name="陈国强",
            code="445302198004121232",
            gender="M",
            legal_representative=None,
            obligation="支付货款人民币1100000元及逾期付款利息（以1100000元为基数，自2024年9月1日起按LPR计至付清之日止）。",
            performance="全部未履行。",
            conducts=["AbleButRefuses", "ViolatesPropertyReporting"],
            conduct_details="被执行人名下银行账户有资金进出且于2026年2月转出款项，有履行能力而拒不履行；"
            "收到报告财产令后拒不报告财产。",
            basis_issuer=YUNFU_COURT_NAME,
            basis_number="（2025）粤53民初88号",
            filed_on=date(2026, 1, 8),
            decision_date=date(2026, 3, 9),
            base_years=2,
        ),
        "2026-03-10T09:00:00+08:00",
    ),
    (
        Entry(
            listing_id=LIU_LISTING,
            court=GONGAN_COURT,
            court_name=GONGAN_COURT_NAME,
            case_number=GONGAN_CASE,
            subject_kind="person",
            name="刘建华",
            code="421022197603053152",
            gender="M",
            legal_representative=None,
            obligation="偿还借款本金人民币300000元及利息。",
            performance="全部未履行。",
            conducts=["AbleButRefuses"],
            conduct_details="被执行人经营收入稳定，有履行能力而拒不履行。",
            basis_issuer=GONGAN_COURT_NAME,
            basis_number="（2025）鄂1022民初512号",
            filed_on=date(2026, 1, 15),
            decision_date=date(2026, 3, 2),
        ),
        "2026-03-03T10:00:00+08:00",
    ),
]


def seed(native: CreditPlatform) -> None:
    """Load the example listings through the platform's rules (idempotent)."""
    for entry, listed_at in LISTINGS:
        native.enter(f"demo/credit/{entry.listing_id}", entry, datetime.fromisoformat(listed_at))
