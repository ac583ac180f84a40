"""The example bank's data: the accounts, balances, priority rights, transactions and earlier
freezes that ``examples/build.py`` writes into its bank documents, so that the signed examples
(``examples/signed/QueryNotice.xml``, ``AssistanceNotice.xml``, ``ReleaseNotice.xml``, ...) and the
demo run against the stand-in and get the answers of the example receipts.

    from adapters.bank.demo import seed
    seed(CoreBanking(path))                    # does nothing when the bank has accounts already

or ``adapter: {demo: true}`` in the adapter's configuration, or
``python -m adapters.bank.demo var/bank-core.db``.

The constants mirror ``examples/build.py`` (CHEN, HENGDA, CHEN_CARD, ..., PRESERVATION_NOTICE);
``tests/test_adapter_bank.py`` checks they still agree.
"""

from __future__ import annotations

import sys
import uuid
from datetime import date, datetime
from decimal import Decimal

from adapters.bank.native import CoreBanking, Court, MeasureKey, Party
from broker.documents.document import CHINA_TZ

EXAMPLE_NS = uuid.UUID("3d6f0c52-8a4e-5b71-9c2d-6e4f1a0b7c93")
"""examples/build.py: namespace of the example document ids."""

YUNFU_COURT = Court("11445300MB0000001W", "广东省云浮市中级人民法院", "（2025）粤53执保7号")
GONGAN_COURT = Court("11421022MB0000002J", "湖北省公安县人民法院", "（2026）鄂1022执45号")
YUNCHENG_COURT = Court(None, "云浮市云城区人民法院", "（2025）粤5302执1234号")
"""Not a member of the example network: its freeze can only be lifted off the network."""

CHEN = Party("陈国强", "445302198004121232")
HENGDA = Party("云浮市恒达石材有限公司", "91445302MA4UH8QK2A")

BANK_NAME = "中国工商银行云浮分行"
YUNCHENG_BRANCH = "中国工商银行云浮分行云城支行"
HEAD_BRANCH = "中国工商银行云浮分行营业部"

CHEN_CARD = "6222022010001234567"
CHEN_SAVINGS = "6222022010007654321"
CHEN_OLD_CARD = "6222022010005550001"
"""Closed in 2025: listed by queries (003 规范7 "含已注销的账户"), refused by measures (规范17)."""
HENGDA_BASIC = "2017002109000123456"
HENGDA_GENERAL = "2017002109000234567"
HENGDA_USD = "2017002129000345678"

PRESERVATION_NOTICE = uuid.uuid5(EXAMPLE_NS, "earlier/AssistanceNotice-（2025）粤53执保7号")
"""The earlier preservation freeze (F1) that the example notice's continued freeze M3 continues."""
GONGAN_NOTICE = uuid.uuid5(EXAMPLE_NS, "earlier/AssistanceNotice-（2026）鄂1022执45号")
"""Gong'an county court's earlier freeze (F1) of Hengda's basic account (not among the examples;
its document id lets that court lift it by a release notice)."""


def _at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)


def seed(native: CoreBanking) -> bool:
    """Load the example bank's data; returns False (and changes nothing) if there are accounts."""
    if not native.is_empty():
        return False
    # 陈国强: a debit card with the transactions of examples ExecutionReceipt-BankQuery Q3,
    # a savings account under the preservation freeze that M3 continues, a closed card.
    native.open_account(
        CHEN_CARD, holder=CHEN, account_type="个人借记卡", bank_name=BANK_NAME, branch=HEAD_BRANCH,
        opened_on=date(2012, 5, 18), balance="186432.57", phone="13802660412",
    )
    for time, direction, amount, after, name, account, bank, summary in (
        ("2025-07-10 15:02:11", "Credit", "20000.00", "186432.57", HENGDA.name, HENGDA_GENERAL, YUNCHENG_BRANCH, "工资"),
        ("2026-01-15 10:22:41", "Credit", "80000.00", "266432.57", HENGDA.name, HENGDA_GENERAL, YUNCHENG_BRANCH, "往来款"),
        ("2026-02-06 16:05:09", "Debit", "50000.00", "216432.57", "黄美玲", "6217002870012345678", "中国建设银行云浮分行", "转账"),
        ("2026-02-25 09:47:33", "Debit", "30000.00", "186432.57", None, None, None, "ATM取款"),
    ):
        native.add_history(
            CHEN_CARD, time=_at(time), direction=direction, amount=amount, balance_after=after,
            counterparty_name=name, counterparty_account=account, counterparty_bank=bank, summary=summary,
        )
    native.open_account(
        CHEN_SAVINGS, holder=CHEN, account_type="个人储蓄账户", bank_name=BANK_NAME, branch=HEAD_BRANCH,
        opened_on=date(2015, 11, 2), balance="120000.00", phone="13802660412",
    )
    native.open_account(
        CHEN_OLD_CARD, holder=CHEN, account_type="个人借记卡", bank_name=BANK_NAME, branch=HEAD_BRANCH,
        opened_on=date(2010, 3, 1), balance="0", status="Closed", closed_on=date(2025, 6, 30),
    )
    # 云浮市恒达石材有限公司: a basic account fully frozen by two earlier courts (the example's
    # rotating freeze M2 queues third), a general account with a margin (rule 12; M4 deducts
    # around it), a USD account (rule 13; M5).
    native.open_account(
        HENGDA_BASIC, holder=HENGDA, account_type="单位基本存款账户", bank_name=YUNCHENG_BRANCH,
        branch=YUNCHENG_BRANCH, opened_on=date(2016, 8, 9), balance="412600.00", phone="0766-8812345",
    )
    native.open_account(
        HENGDA_GENERAL, holder=HENGDA, account_type="单位一般存款账户", bank_name=YUNCHENG_BRANCH,
        branch=YUNCHENG_BRANCH, opened_on=date(2018, 3, 27), balance="262500.00", phone="0766-8812345",
    )
    native.add_priority_right(HENGDA_GENERAL, holder="中国工商银行云浮分行", kind="Margin", amount="50000.00")
    native.open_account(
        HENGDA_USD, holder=HENGDA, account_type="单位经常项目外汇账户", bank_name=YUNCHENG_BRANCH,
        branch=YUNCHENG_BRANCH, opened_on=date(2019, 4, 15), currency="USD", balance="20000.00",
        phone="0766-8812345",
    )
    for key, court, measure, account, holder, amount, start, end, registered in (
        ("seed/preservation", YUNFU_COURT, MeasureKey(str(PRESERVATION_NOTICE), "F1"), CHEN_SAVINGS, CHEN,
         "120000.00", date(2025, 3, 16), date(2026, 3, 15), "2025-03-16 09:10:00"),
        ("seed/gongan", GONGAN_COURT, MeasureKey(str(GONGAN_NOTICE), "F1"), HENGDA_BASIC, HENGDA,
         "350000.00", date(2026, 1, 20), date(2027, 1, 19), "2026-01-20 10:31:00"),
        ("seed/yuncheng", YUNCHENG_COURT, None, HENGDA_BASIC, HENGDA,
         "62600.00", date(2026, 2, 3), date(2027, 2, 2), "2026-02-03 14:05:00"),
    ):
        native.freeze(
            key, court=court, measure=measure,
            measure_type="BankFreeze", account=account, holder=holder, account_name=holder.name,
            account_currency="CNY", amount=Decimal(amount), currency="CNY", start=start, end=end,
            now=_at(registered), origin="seed",
        )
    return True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m adapters.bank.demo CORE_DB", file=sys.stderr)
        return 2
    native = CoreBanking(args[0])
    try:
        print("seeded" if seed(native) else "the bank has accounts already: unchanged")
    finally:
        native.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
