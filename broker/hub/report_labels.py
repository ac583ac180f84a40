"""The words of the office report: column headings and unit kinds in Chinese, as the linkage
office reads them (docs/reports.md gives each heading's English and definition).

Kept apart from the layout (:mod:`broker.hub.report_output`) so the office's wording can change
without touching how tables are drawn. No heading contains 执 (the character of every case
number): the report tests check that no case number leaks by looking for it.
"""

from __future__ import annotations

from types import MappingProxyType

from broker.documents.catalogue import UnitKind

KIND_NAMES = MappingProxyType(
    {
        UnitKind.COURT.value: "人民法院",
        UnitKind.BANK.value: "银行业金融机构",
        UnitKind.PUBLIC_SECURITY.value: "公安",
        UnitKind.NATURAL_RESOURCES.value: "自然资源（不动产登记）",
        UnitKind.HOUSING_CONSTRUCTION.value: "住房和城乡建设",
        UnitKind.MARKET_REGULATION.value: "市场监管",
        UnitKind.TAX.value: "税务",
        UnitKind.CENTRAL_BANK.value: "人民银行（征信）",
        UnitKind.SECURITIES_DEPOSITORY.value: "证券登记结算",
        UnitKind.HOUSING_FUND.value: "住房公积金",
        UnitKind.SOCIAL_INSURANCE.value: "人力资源和社会保障",
        UnitKind.INSURER.value: "保险",
        UnitKind.DEVELOPMENT_REFORM.value: "发展和改革",
        UnitKind.CIVIL_AFFAIRS.value: "民政",
        UnitKind.CREDIT_PLATFORM.value: "全国信用信息共享平台",
        UnitKind.TRANSPORT.value: "交通运输",
        UnitKind.HOSPITALITY.value: "宾馆酒店",
        UnitKind.PROCURATORATE.value: "检察院",
        UnitKind.DISCIPLINE_INSPECTION.value: "纪检监察",
        UnitKind.LINKAGE_OFFICE.value: "联动办公室",
        UnitKind.HUB.value: "枢纽",
    }
)
"""Unit kind (the registry's value) -> its Chinese name (DOMAIN.md "Member unit kinds")."""

NOT_SUPERVISED_KINDS = frozenset({UnitKind.COURT.value, UnitKind.LINKAGE_OFFICE.value, UnitKind.HUB.value})
"""Kinds the office does not supervise as assisting units (003 evaluation index 五(六): the
assisting units' 配合度 is evaluated apart from the courts' own indicators): their rows are left
out of the report."""


def kind_name(kind: str) -> str:
    """The Chinese name of a unit kind; an unknown kind is shown as it is."""
    return KIND_NAMES.get(kind, kind)


# The count columns, in the order of report_output._numbers, keyed by the measure they show.
COUNT_HEADINGS = MappingProxyType(
    {
        "received": "应答件数",
        "on_time": "按期答复",
        "overdue": "逾期合计",
        "late": "逾期答复",
        "open_overdue": "逾期未答复",
        "pending": "未到期",
        "closed": "无需答复",
        "median_hours": "中位用时",
        "p90_hours": "90%用时",
        "extensions": "延期说明",
        "review_suggestions": "审查建议",
        "cooperation_rate": "配合度",
    }
)

UNIT = "单位代码"
NAME = "单位名称"
KIND = "单位类别"
TOTAL = "合计"
WEEK = "周次"
DAYS = "日期"
SINCE = "起始时间"
UNTIL = "截止时间"
