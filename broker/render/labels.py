"""The Chinese words of a rendered 文书: titles, measure and query names, enum values, field labels.

Plain tables, so a reviewer can check the wording against the seeds in one place. A type, field
or value missing here still renders (the generic renderer falls back to the XML name), so a
document type added later is readable before anyone writes its words.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from pydantic.alias_generators import to_pascal

TITLES: Mapping[str, str] = MappingProxyType(
    {
        "AssistanceNotice": "协助执行通知书",  # 001 art. 19; 004 art. 32
        "QueryNotice": "协助查询通知书",  # 003 bank rules 6
        "EnforcementRuling": "执行裁定书",  # 003 bank rules 9
        "OfficerCredentials": "执行人员工作证件",  # 003 bank rules 3
        "ReleaseNotice": "解除协助执行通知书",  # 001 art. 21
        "CaseCompletedNotice": "结案通知书",  # 004 art. 35
        "DishonestListing": "纳入失信被执行人名单决定书",  # 003 失信规定 art. 6
        "DishonestListingCorrection": "失信信息更正决定书",  # 003 失信规定 art. 9
        "DishonestListingRevocation": "撤销纳入失信名单决定书",  # 003 失信规定 art. 9
        "DishonestListingDeletion": "删除失信信息决定书",  # 003 失信规定 art. 10
        "ConsumptionRestrictionOrder": "限制消费令",  # 003 memorandum 19–22
        "JudicialSuggestion": "司法建议书",  # 001 arts. 19, 24
        "ItemEntrustment": "事项委托函",  # 003 事项委托 art. 2
        "EntrustmentFeedback": "委托事项办理反馈函",  # 003 事项委托 art. 11
        "ExecutionReceipt": "协助执行结果回执",  # 003 bank rules 8, 15, 17
        "ExtensionNotice": "延期办理说明",  # 002 四.7, 四.13
        "ReviewSuggestion": "审查建议书",  # 001 art. 20
        "LeadReport": "线索通报",  # 002 四.7(2)
        "MeasureStatusNotice": "协助执行措施状态变更通知",  # 001 art. 12; 003 bank rules 10
        "PunishmentReport": "联合惩戒执行情况反馈",  # 003 memorandum 二
        "ServiceReceipt": "送达回证",  # 003 bank rules 16
        "RejectionNotice": "拒收通知",
        "NonDeliveryNotice": "未签收通知",
        "Reminder": "催办通知",  # 003 事项委托 art. 14
        "Escalation": "督办通知",  # 003 事项委托 art. 14; 004 art. 37
        "AnomalyNotice": "系统异常通报",  # 003 SPC–MPS 四(五)
        "OutstandingMeasuresNotice": "未解除措施通知",  # 004 art. 35
    }
)

ITEMS: Mapping[str, str] = MappingProxyType(
    {
        # measures (broker/documents/measures.py, with the seeds named there)
        "BankFreeze": "冻结存款",
        "BankRotatingFreeze": "轮候冻结存款",
        "BankContinuedFreeze": "续行冻结存款",
        "BankDeduct": "扣划存款",
        "PropertySeize": "查封不动产",
        "PropertyPreSeize": "预查封不动产",
        "PropertyRotatingSeize": "轮候查封不动产",
        "PropertyTransfer": "办理不动产转移登记",
        "RegistrationHalt": "停止办理有关登记手续",
        "ExitRestriction": "限制出境",
        "VehicleSeize": "查封机动车",
        "VehicleTransfer": "办理机动车转移登记",
        "LocatePerson": "查找被执行人",
        "LocateVehicle": "查找车辆",
        "EquityFreeze": "冻结股权",
        "EquityForcedTransfer": "强制转让股权",
        "HousingFundFreeze": "冻结住房公积金",
        "HousingFundExtract": "提取住房公积金",
        "SocialInsuranceFreeze": "冻结社会保险资金",
        "SocialInsuranceExtract": "提取社会保险资金",
        "InsuranceFreeze": "冻结保险理赔款",
        "InsuranceExtract": "提取保险理赔款",
        "TaxRefundExtract": "提取退税款",
        "SecuritiesFreeze": "冻结证券及交易结算资金",
        "SecuritiesDeduct": "扣划证券及交易结算资金",
        "ProjectApprovalHalt": "停止办理投资项目审批、核准和备案手续",
        "CreditRecord": "纳入企业和个人信用信息基础数据库",
        # results and records (broker/documents/results.py)
        "MeasureResult": "执行结果",
        "QueryResult": "查询结果",
        "ReleaseResult": "解除结果",
        "Release": "解除事项",
        "Query": "查询事项",
        "BankAccountRecord": "账户信息",
        "TransactionRecord": "交易明细",
        "PersonRecord": "人员信息",
        "TravelDocumentRecord": "出入境证件",
        "HotelStayRecord": "住宿记录",
        "VehicleRecord": "车辆信息",
        "PropertyRecord": "不动产信息",
        "CompanyRecord": "企业登记信息",
        "EquityRecord": "股权信息",
        "TaxRefundRecord": "退税信息",
        "FundRecord": "资金账户信息",
        "SecuritiesRecord": "证券账户信息",
        "InsuranceRecord": "保险信息",
        "ListingRecord": "失信名单信息",
        "GenericRecord": "其他信息",
        "PersonSighting": "发现被执行人",
        "VehicleSighting": "发现车辆",
        "NaturalPerson": "自然人",
        "Organisation": "法人或其他组织",
    }
)

VALUES: Mapping[str, str] = MappingProxyType(
    {
        # QueryKind
        "BankDeposits": "存款及账户信息",
        "BankTransactions": "交易明细",
        "Identity": "身份信息",
        "Household": "户籍信息",
        "TravelDocuments": "出入境证件及出入境记录",
        "Vehicles": "机动车登记信息",
        "HotelStays": "住宿登记信息",
        "RealEstate": "不动产登记信息",
        "LandRights": "土地使用权",
        "MiningRights": "矿业权",
        "PlanningApprovals": "规划审批",
        "HouseRecords": "房屋网签备案",
        "Mortgages": "抵押登记",
        "CompanyRegistration": "企业登记信息",
        "Investments": "对外投资",
        "TaxRecords": "纳税信息",
        "TaxRefunds": "退税信息",
        "SettlementAccounts": "银行结算账户",
        "Securities": "证券及资金",
        "HousingFund": "住房公积金",
        "SocialInsurance": "社会保险",
        "InsuranceClaims": "保险理赔",
        "ProjectApprovals": "投资项目审批",
        "MarriageRegistration": "婚姻登记",
        "DishonestStatus": "是否为失信被执行人",
        # ResultStatus, QueryStatus, ReleaseStatus
        "Executed": "已执行",
        "PartiallyExecuted": "部分执行",
        "Rotating": "轮候",
        "NotExecuted": "未执行",
        "Found": "查询到",
        "NotFound": "查无信息",
        "Released": "已解除",
        "NotReleased": "未解除",
        # ReleaseKind
        "BankUnfreeze": "解除冻结存款",
        "PropertyUnseize": "解除查封不动产",
        "RegistrationHaltLift": "恢复办理登记手续",
        "ExitRestrictionLift": "解除限制出境",
        "VehicleUnseize": "解除查封机动车",
        "LocateCancel": "撤销查找",
        "EquityUnfreeze": "解除冻结股权",
        "HousingFundUnfreeze": "解除冻结住房公积金",
        "SocialInsuranceUnfreeze": "解除冻结社会保险资金",
        "InsuranceUnfreeze": "解除冻结保险理赔款",
        "SecuritiesUnfreeze": "解除冻结证券及资金",
        "ProjectApprovalHaltLift": "恢复办理投资项目审批",
        "CreditRecordRemoval": "删除信用记录",
        # ReleaseReason, CaseOutcome, DeletionGround (some values are shared)
        "Performed": "已履行完毕",
        "ApplicantAgreed": "申请执行人同意",
        "GuaranteeProvided": "已提供担保",
        "CaseCompleted": "案件已结案",
        "Other": "其他",
        "Settled": "和解履行完毕",
        "Terminated": "终结执行",
        "ConcludedThisRound": "终结本次执行程序",
        "NotEnforced": "不予执行",
        "Withdrawn": "撤回申请",
        "SettlementPerformed": "执行和解协议已履行完毕",
        "ApplicantRequest": "申请执行人申请删除",
        "NoPropertyFound": "无财产可供执行",
        "Suspended": "中止执行",
        "EarlyDeletion": "提前删除",
        "PeriodExpired": "期限届满",
        # DishonestConduct (003 失信规定 art. 1)
        "AbleButRefuses": "有履行能力而拒不履行生效法律文书确定义务",
        "Obstructs": "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
        "Evades": "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
        "ViolatesPropertyReporting": "违反财产报告制度",
        "ViolatesConsumptionRestriction": "违反限制消费令",
        "BreaksSettlement": "无正当理由拒不履行执行和解协议",
        # ConsumptionRestriction (003 memorandum 19–22)
        "Flights": "乘坐飞机",
        "RailPremiumSeats": "乘坐列车软卧、G字头动车组列车全部座位、其他动车组列车一等以上座位",
        "StarHotels": "在星级以上宾馆、酒店、夜总会、高尔夫球场等场所进行高消费",
        "NightclubsAndGolf": "在夜总会、高尔夫球场等场所进行高消费",
        "RealEstatePurchase": "购买不动产或者新建、扩建、高档装修房屋",
        "HolidayTravel": "旅游、度假",
        "PrivateSchools": "子女就读高收费私立学校",
        "HighPremiumInsurance": "支付高额保费购买保险理财产品",
        "LuxuryVehicles": "购买非经营必需车辆",
        # LocateGround (002 四.7(2))
        "AbscondedAfterDetention": "被决定拘留后逃跑",
        "MissingOverThreeMonths": "下落不明超过三个月",
        "LargeAmount": "执行标的额较大",
        # EntrustedItemKind, EntrustmentOutcome
        "Investigation": "调查",
        "Seizure": "查封、扣押、冻结",
        "Service": "送达",
        "Valuation": "评估、拍卖",
        "Completed": "已办结",
        "PartlyCompleted": "部分办结",
        "MaterialRequested": "需补充材料",
        "Returned": "退回",
        # CredentialKind, Gender, AccountStatus, Direction
        "EnforcementCertificate": "执行公务证",
        "WorkCertificate": "工作证",
        "M": "男",
        "F": "女",
        "Normal": "正常",
        "Frozen": "冻结",
        "Dormant": "久悬",
        "Closed": "销户",
        "Debit": "支出",
        "Credit": "收入",
        # AnomalyKind (003 SPC–MPS 四(五))
        "UnitOffline": "单位离线",
        "UnitBackOnline": "单位恢复在线",
        "HubRestarted": "枢纽重启",
        "HubStorageFull": "枢纽存储已满",
        "HubStorageFailed": "枢纽存储故障",
        "SenderFlood": "发送方异常大量发送",
    }
)

FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "subject": "被执行人",
        "account": "账户",
        "amount": "金额",
        "period": "期限",
        "continues": "续冻的原冻结",
        "enforcement_account": "执行款专户",
        "from_freeze": "扣划的冻结",
        "property": "不动产",
        "transferee": "受让人",
        "project": "投资项目",
        "scope": "停止办理的范围",
        "control_requirement": "边控要求",
        "vehicle": "车辆",
        "ground": "事由",
        "detention_decision": "拘留决定书",
        "equity": "股权",
        "policy": "保单",
        "obligation": "应履行的义务",
        "kind": "类别",
        "remark": "备注",
        "ruling": "执行裁定书",
        "ruling_number": "裁定书文号",
        "ruling_date": "裁定日期",
        "court_name": "法院",
        "decision": "裁定内容",
        "legal_basis": "法律依据",
        "name": "姓名",
        "phone": "联系电话",
        "credential_number": "证件号码",
        "credential_kind": "证件种类",
        "scan": "证件扫描件",
        "releases": "解除的措施",
        "reason": "原因",
        "completed_on": "结案日期",
        "outcome": "结案方式",
        "performance": "履行情况",
        "conducts": "失信情形",
        "conduct_details": "失信行为具体情形",
        "basis": "执行依据",
        "issuer": "作出机构",
        "number": "文号",
        "filed_on": "立案日期",
        "decision_date": "决定日期",
        "base_years": "期限（年）",
        "extension_years": "延长（年）",
        "extension_reason": "延长理由",
        "listing": "失信名单文书编号",
        "corrections": "更正事项",
        "field": "更正字段",
        "value": "更正后内容",
        "responsible_persons": "相关责任人",
        "restrictions": "限制消费事项",
        "effective_from": "生效日期",
        "addressee": "致送机关",
        "concern": "发现的问题",
        "suggestion": "司法建议",
        "items": "事项",
        "description": "说明",
        "urgent": "紧急",
        "attachments": "附件",
        "document_id": "文书编号",
        "result": "办理结果",
        "results": "结果",
        "proposed_deadline": "建议办理期限",
        "grounds": "理由",
        "measure_carried_out": "措施是否已执行",
        "regarding": "所涉文书",
        "sighting": "发现情况",
        "contact": "联系人",
        "person": "人员",
        "location": "地点",
        "seen_at": "发现时间",
        "impounded": "是否已扣留",
        "measure": "措施",
        "status": "状态",
        "effective_at": "生效时间",
        "actual_amount": "实际金额",
        "year": "年度",
        "quarter": "季度",
        "entries": "惩戒情况",
        "count": "次数",
        "listings": "失信名单文书",
        "served_document_id": "送达文书编号",
        "served_document_type": "送达文书种类",
        "served_sender": "发送单位",
        "served_recipient": "受送达单位",
        "payload_digest": "文书摘要（SHA-256）",
        "received_at": "送达时间",
        "rejected_document_id": "被拒收文书编号",
        "payload_size": "文书大小（字节）",
        "errors": "拒收原因",
        "code": "错误代码",
        "message_zh": "说明",
        "message_en": "Message",
        "undelivered_to": "未签收单位",
        "first_sent_at": "首次发送时间",
        "unit": "单位",
        "due_at": "办理期限",
        "message": "内容",
        "overdue_since": "逾期起始时间",
        "detected_at": "发现时间",
        "since": "起始时间",
        "measures": "措施",
        "measure_id": "措施编号",
        "measure_type": "措施种类",
        "queries": "查询事项",
        "query_id": "查询编号",
        "release_id": "解除编号",
        "requested_amount": "要求金额",
        "queue_position": "轮候顺位",
        "prior_measures": "在先措施",
        "deducted_amount": "已扣划金额",
        "not_deducted_amount": "未扣划金额",
        "priority_rights": "优先权",
        "publicity_date": "公示日期",
        "released_amount": "已解除金额",
        "records": "查询到的信息",
        "position": "顺位",
        "authority": "机关",
        "authority_code": "机关代码",
        "case_number": "案号",
        "holder": "权利人",
        "branch_name": "开户网点",
        "opened_on": "开户日期",
        "account_type": "账户类型",
        "account_status": "账户状态",
        "balance": "余额",
        "available_balance": "可用余额",
        "freezes": "已有冻结",
        "account_number": "账号",
        "time": "时间",
        "direction": "收支",
        "balance_after": "交易后余额",
        "counterparty_name": "对方户名",
        "counterparty_account": "对方账号",
        "counterparty_bank": "对方开户行",
        "summary": "摘要",
        "id_number": "公民身份号码",
        "gender": "性别",
        "birth_date": "出生日期",
        "former_names": "曾用名",
        "household_address": "户籍地址",
        "residence": "居住地",
        "document_kind": "证件种类",
        "document_number": "证件号码",
        "valid_until": "有效期至",
        "crossings": "出入境记录",
        "port": "口岸",
        "destination": "目的地",
        "hotel_name": "宾馆名称",
        "hotel_address": "宾馆地址",
        "check_in": "入住时间",
        "check_out": "退房时间",
        "model": "型号",
        "vehicle_type": "车辆类型",
        "registered_on": "登记日期",
        "registration_authority": "登记机关",
        "mortgagee": "抵押权人",
        "seizures": "已有查封",
        "owner_name": "权利人",
        "area": "面积（平方米）",
        "use": "用途",
        "encumbrances": "抵押等权利负担",
        "unit_code": "统一社会信用代码",
        "legal_representative": "法定代表人",
        "registered_capital": "注册资本",
        "established_on": "成立日期",
        "address": "住所",
        "investments": "对外投资",
        "refund_account": "退税账户",
        "refund_amount": "退税金额",
        "refund_date": "退税日期",
        "market_value": "市值",
        "settlement_funds": "交易结算资金",
        "claim_amount": "理赔金额",
        "cash_value": "现金价值",
        "listed": "是否在失信名单",
        "listing_document_id": "失信名单文书编号",
        "court": "法院",
        "listed_on": "纳入日期",
        "period_end": "期限届满日",
        "fields": "信息",
        "bank_name": "开户行",
        "account_name": "户名",
        "currency": "币种",
        "unit_number": "不动产单元号",
        "certificate_number": "权属证书号",
        "plate_number": "号牌号码",
        "vin": "车辆识别代号",
        "brand": "品牌",
        "company_name": "公司名称",
        "company_code": "公司统一社会信用代码",
        "contribution": "出资额",
        "ratio": "持股比例（%）",
        "custodian": "托管机构",
        "security_code": "证券代码",
        "quantity": "数量",
        "holder_name": "户名",
        "policy_number": "保单号",
        "insurer": "保险公司",
        "project_code": "项目代码",
        "project_name": "项目名称",
        "officers": "执行人员",
        "mime_type": "文件类型",
        "content": "内容",
        "start": "起始日",
        "end": "截止日",
    }
)


_MEASURE_WORDS: tuple[tuple[str, Mapping[str, str]], ...] = (
    # what the amount and the period of a measure are, in the words of its form (003 bank rules
    # 10, 13: 冻结金额、冻结期限、扣划金额; 001 arts. 11–12: 查封期限; 003 SPC–MPS 三(一): 边控期限)
    ("Freeze", {"amount": "冻结金额", "period": "冻结期限"}),
    ("Deduct", {"amount": "扣划金额"}),
    ("Extract", {"amount": "提取金额"}),
    ("Seize", {"period": "查封期限"}),
    ("ExitRestriction", {"period": "限制出境期限"}),
)


def measure_field(tag: str, name: str) -> str:
    """The label of a measure's field: the amount of a freeze is 冻结金额, of a deduction 扣划金额, …"""
    for part, words in _MEASURE_WORDS:
        if part in tag and name in words:
            return words[name]
    return field(name)


def title(document_type: str) -> str:
    """The 文书's title; an unknown type is shown by its XML name."""
    return TITLES.get(document_type, document_type)


def item(tag: str) -> str:
    """The name of a measure, query, result or record element."""
    return ITEMS.get(tag, tag)


def value(v: Enum | str) -> str:
    """The words for an enum value (its XML value when there are none)."""
    raw = v.value if isinstance(v, Enum) else v
    return VALUES.get(str(raw), str(raw))


def field(name: str) -> str:
    """The label of a model field; a field without one shows its XML element name."""
    return FIELDS.get(name, to_pascal(name))
