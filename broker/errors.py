"""Stable error codes with messages in Chinese and English.

Every check in liandong (hardened parsing, XSD, business rules, signatures, routing, the hub)
reports through this catalogue, so a rejection always carries a code a machine can match on
and a message a Chinese and an English reader can act on. Codes never change meaning once
released; new problems get new codes. ``docs/error-codes.md`` is generated from this table.

Messages are templates: ``{name}`` placeholders are filled from the keyword arguments of
:func:`problem`. Placeholders must never receive personal data (ID numbers, names): the
messages end up in logs and in rejection notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class ErrorSpec:
    """One entry of the catalogue: the code, both messages and where the rule comes from."""

    code: str
    zh: str
    en: str
    source: str = ""


_SPECS: tuple[ErrorSpec, ...] = (
    # --- transport and hardened parsing -------------------------------------------------
    ErrorSpec("XML_TOO_LARGE", "文书大小 {size} 字节超过上限 {limit} 字节", "document of {size} bytes exceeds the limit of {limit} bytes"),
    ErrorSpec("XML_EMPTY", "文书内容为空", "the document is empty"),
    ErrorSpec("XML_NOT_UTF8", "文书必须使用 UTF-8 编码", "the document must be encoded in UTF-8"),
    ErrorSpec("XML_MALFORMED", "XML 格式错误：{detail}", "malformed XML: {detail}"),
    ErrorSpec("XML_DTD_FORBIDDEN", "禁止使用文档类型定义（DTD）", "document type declarations (DTD) are forbidden"),
    ErrorSpec("XML_EXTERNAL_ENTITY", "禁止声明外部实体（XXE）", "external entity declarations (XXE) are forbidden"),
    ErrorSpec("XML_ENTITY_DECLARATION", "禁止声明实体（实体扩展攻击）", "entity declarations are forbidden (entity expansion attack)"),
    ErrorSpec("XML_PROCESSING_INSTRUCTION", "禁止使用处理指令", "processing instructions are forbidden"),
    ErrorSpec("XML_TOO_DEEP", "XML 嵌套深度超过上限 {limit}", "XML nesting deeper than the limit of {limit}"),
    ErrorSpec("XML_TOO_MANY_NODES", "XML 元素数量超过上限 {limit}", "more XML elements than the limit of {limit}"),
    # --- schema --------------------------------------------------------------------------
    ErrorSpec("SCHEMA_INVALID", "不符合 XSD 结构定义：{detail}", "not valid against the XSD: {detail}"),
    ErrorSpec("SCHEMA_UNKNOWN_ROOT", "未知的根元素 {tag}", "unknown root element {tag}"),
    ErrorSpec("DOC_DECODE", "文书内容无法解析：{detail}", "the document content cannot be read: {detail}"),
    ErrorSpec("DOC_TIME_OUT_OF_RANGE", "{field} 的年份超出允许范围（{earliest} 至 {latest} 年）", "{field} lies outside the years allowed ({earliest} to {latest})", "docs/signature-profile.md"),
    ErrorSpec("CHECK_INTERNAL_ERROR", "检查文书时发生内部错误，文书未被接收：请联系枢纽运维人员", "internal error while checking the document; it was not accepted: contact the hub's operators"),
    # --- signatures (docs/signature-profile.md) -----------------------------------------------
    ErrorSpec("SIG_MISSING", "文书未加盖电子印章（缺少 ds:Signature）", "the document carries no electronic seal (no ds:Signature)", "003 SPC–MPS 四(三)"),
    ErrorSpec("SIG_MULTIPLE", "文书含有多个签名，只允许一个", "more than one signature; exactly one is allowed"),
    ErrorSpec("SIG_LOCATION", "签名必须是根元素的直接子元素", "the signature must be a direct child of the root element"),
    ErrorSpec("SIG_REFERENCE_COUNT", "签名必须恰好包含一个引用，实际为 {count}", "the signature must have exactly one reference, found {count}"),
    ErrorSpec("SIG_REFERENCE_URI", "签名引用必须指向整个根元素（URI 为空或为根元素 Id）", "the signature reference must cover the whole root (empty URI or the root's Id)"),
    ErrorSpec("SIG_DUPLICATE_ID", "文书中 Id 属性值重复：{value}", "duplicate Id attribute value in the document: {value}"),
    ErrorSpec("SIG_ALGORITHM", "不允许的签名算法：{algorithm}", "signature algorithm not allowed: {algorithm}"),
    ErrorSpec("SIG_SUITE_NOT_ALLOWED", "本网络不接受 {suite} 算法套件的电子印章（接受：{allowed}）", "this network does not accept seals of the {suite} algorithm suite (accepted: {allowed})", "docs/signature-profile.md 4.5"),
    ErrorSpec("SIG_DIGEST_ALGORITHM", "不允许的摘要算法：{algorithm}", "digest algorithm not allowed: {algorithm}"),
    ErrorSpec("SIG_C14N", "必须使用排他规范化（exc-c14n），实际为 {algorithm}", "exclusive canonicalization (exc-c14n) is required, found {algorithm}"),
    ErrorSpec("SIG_TRANSFORMS", "引用的变换必须是 enveloped-signature 加 exc-c14n：{detail}", "reference transforms must be enveloped-signature then exc-c14n: {detail}"),
    ErrorSpec("SIG_KEYINFO", "KeyInfo 必须且只能携带 X509 证书链：{detail}", "KeyInfo must carry the X.509 certificate chain and nothing else: {detail}"),
    ErrorSpec("SIG_TAMPERED", "签名内容已被篡改（摘要不符）", "the signed content was altered (digest mismatch)"),
    ErrorSpec("SIG_INVALID", "签名校验失败（文书可能已被篡改）：{detail}", "signature verification failed (the document may have been altered): {detail}"),
    ErrorSpec("SIG_KEY_UNSUPPORTED", "签名密钥不符合规范（RSA 至少 2048 位或 ECDSA P-256）：{detail}", "signing key not allowed (RSA of 2048 bits or more, or ECDSA P-256): {detail}"),
    # --- certificates -------------------------------------------------------------------------
    ErrorSpec("CERT_MISSING", "签名未携带签名证书", "the signature carries no signing certificate"),
    ErrorSpec("CERT_MALFORMED", "证书无法解析", "a certificate cannot be parsed"),
    ErrorSpec("CERT_CURVE_UNSUPPORTED", "签名证书的椭圆曲线 {curve} 不受支持（只允许 P-256 和 SM2）", "the signing certificate's elliptic curve {curve} is not supported (only P-256 and SM2 are allowed)", "docs/signature-profile.md"),
    ErrorSpec("CERT_KEY_INVALID", "签名证书的公钥无效：{detail}", "the signing certificate's public key is invalid: {detail}", "SEC 1 3.2.2"),
    ErrorSpec("CERT_EXTENSION_MALFORMED", "签名证书的 {extension} 扩展格式错误", "the signing certificate's {extension} extension is malformed", "RFC 5280 4.2"),
    ErrorSpec("CERT_NAME_MALFORMED", "签名证书链中某证书的 {name} 名称无法解析", "the {name} name of a certificate of the signing chain cannot be read", "RFC 5280 4.1.2.4"),
    ErrorSpec("CERT_UNTRUSTED", "签名证书无法验证到受信任的根证书：{detail}", "the signing certificate does not chain to a trusted root: {detail}"),
    ErrorSpec("CERT_EXPIRED", "签名证书在签署时间 {at} 已过期（有效期至 {not_after}）", "the signing certificate had expired at signing time {at} (valid until {not_after})"),
    ErrorSpec("CERT_NOT_YET_VALID", "签名证书在签署时间 {at} 尚未生效（生效于 {not_before}）", "the signing certificate was not yet valid at signing time {at} (valid from {not_before})"),
    ErrorSpec("CERT_REVOKED", "签名证书已于 {revoked_at} 被吊销", "the signing certificate was revoked at {revoked_at}"),
    ErrorSpec("CERT_KEY_USAGE", "证书用途不允许签署文书：{detail}", "the certificate is not allowed to sign documents: {detail}"),
    ErrorSpec("CERT_NO_UNIT", "签名证书未载明单位代码（organizationIdentifier）", "the signing certificate names no unit code (organizationIdentifier)"),
    ErrorSpec("CERT_NOT_REGISTERED", "签名证书未在成员单位名册中登记（指纹 {fingerprint}）", "the signing certificate is not registered for the unit (fingerprint {fingerprint})"),
    ErrorSpec("CERT_UNIT_MISMATCH", "签名证书属于单位 {cert_unit}，而文书发送方为 {sender}", "the signing certificate belongs to unit {cert_unit} but the document's sender is {sender}"),
    ErrorSpec("CRL_INVALID", "证书吊销列表无效：{detail}", "certificate revocation list invalid: {detail}"),
    ErrorSpec("CRL_MISSING", "签发证书的机构（{issuer}）未配置证书吊销列表，无法检查吊销状态", "no certificate revocation list is configured for the issuing CA ({issuer}): revocation cannot be checked"),
    ErrorSpec("CRL_STALE", "证书吊销列表已过期（下次更新时间 {next_update}）", "the certificate revocation list is out of date (next update was {next_update})"),
    ErrorSpec("SIG_TIME_SKEW", "签发时间 {issued_at} 与接收时间 {received_at} 相差过大", "issue time {issued_at} is too far from the reception time {received_at}"),
    # --- identifiers (GB 11643-1999, GB 32100-2015) ---------------------------------------------
    ErrorSpec("RULE_ID_NUMBER", "居民身份证号码校验位错误或格式不符（{path}）", "resident ID number has a wrong check character or form ({path})", "GB 11643-1999"),
    ErrorSpec("RULE_ID_BIRTHDATE", "居民身份证号码中的出生日期无效（{path}）", "the birth date inside the resident ID number is invalid ({path})", "GB 11643-1999"),
    ErrorSpec("RULE_GENDER_MISMATCH", "性别与身份证号码不一致（{path}）", "gender does not match the resident ID number ({path})", "GB 11643-1999"),
    ErrorSpec("RULE_USCC", "统一社会信用代码校验位错误或格式不符：{value}（{path}）", "unified social credit code has a wrong check character or form: {value} ({path})", "GB 32100-2015"),
    ErrorSpec("RULE_UNIT_CODE_DIGITS", "单位代码只能由 ASCII 数字与大写字母组成（{path}）", "a unit code may hold only ASCII digits and capital letters ({path})", "GB 32100-2015"),
    ErrorSpec("RULE_CASE_NUMBER", "案号格式不符：{value}", "malformed case number: {value}", "DOMAIN.md Identifiers"),
    ErrorSpec("RULE_CASE_NUMBER_REQUIRED", "{doc_type} 必须载明案号", "{doc_type} must state a case number"),
    ErrorSpec("RULE_ID_ATTRIBUTE", "根元素 Id 必须为 ld- 加文书编号", "the root Id must be 'ld-' followed by the document id"),
    ErrorSpec("RULE_BODY_TYPE", "文书类型 {doc_type} 与正文元素 {body} 不一致", "document type {doc_type} does not match the body element {body}"),
    ErrorSpec("RULE_SELF_ADDRESSED", "发送方与接收方不能相同", "sender and recipient must differ"),
    ErrorSpec("RULE_REPLY_REQUIRED", "{doc_type} 必须载明所答复的文书（InReplyTo）", "{doc_type} must name the document it answers (InReplyTo)"),
    ErrorSpec("RULE_DUPLICATE_ITEM_ID", "条目编号重复：{value}", "duplicate item id: {value}"),
    ErrorSpec("RULE_AMOUNT_NOT_POSITIVE", "金额必须大于零（{path}）", "amounts must be greater than zero ({path})", "003 银行网络执行查控工作规范 9"),
    ErrorSpec("RULE_PERIOD_ORDER", "截止日期必须晚于起始日期（{path}）", "the end date must be after the start date ({path})", "003 银行网络执行查控工作规范 10"),
    ErrorSpec("RULE_MEASURE_REFERENCE", "{measure} 必须指明所续行或解除的措施（{path}）", "{measure} must name the measure it continues or releases ({path})", "003 银行网络执行查控工作规范 10; 001 第二十一条"),
    ErrorSpec("RULE_ENFORCEMENT_ACCOUNT_UNREGISTERED", "执行款专户 {account} 未在本院登记（{path}）", "enforcement account {account} is not registered for this court ({path})", "003 银行网络执行查控工作规范 4"),
    ErrorSpec("RULE_AMOUNT_NEGATIVE", "金额不得为负数（{path}）", "amounts may not be negative ({path})"),
    ErrorSpec("RULE_AMOUNT_NOT_FINITE", "金额必须是有限的数值（{path}）", "amounts must be finite numbers ({path})"),
    ErrorSpec("RULE_ENFORCEMENT_ACCOUNT", "扣划或提取必须载明法院执行款专户（{path}）", "a deduction or extraction must name the court's enforcement account ({path})", "003 银行网络执行查控工作规范 13–14"),
    ErrorSpec("RULE_FOREIGN_CURRENCY_ACCOUNT", "外币扣划必须划至外币执行款专户（{path}）", "a foreign-currency deduction must go to a foreign-currency enforcement account ({path})", "003 银行网络执行查控工作规范 13"),
    ErrorSpec("RULE_RULING_REQUIRED", "冻结、续冻、扣划等措施必须随附执行裁定书（{path}）", "freezes, continued freezes and deductions must come with an enforcement ruling ({path})", "003 银行网络执行查控工作规范 9"),
    ErrorSpec("RULE_OFFICERS_REQUIRED", "{doc_type} 必须载明执行人员姓名、电话与证件号", "{doc_type} must name the officers with phone and credential number", "003 银行网络执行查控工作规范 3; 002 四.7"),
    ErrorSpec("RULE_PERSON_REQUIRED", "{measure} 的对象必须是自然人（{path}）", "the subject of {measure} must be a natural person ({path})", "003 SPC–MPS 三(一)"),
    ErrorSpec("RULE_TRANSACTION_PERIOD", "查询交易明细必须载明查询区间（{path}）", "a transaction query must state the period ({path})", "003 银行网络执行查控工作规范 6"),
    ErrorSpec("RULE_MEASURE_UNIT_KIND", "{measure} 不能送达 {unit_kind} 类单位执行", "{measure} cannot be carried out by a unit of kind {unit_kind}"),
    ErrorSpec("RULE_QUERY_UNIT_KIND", "{query} 查询不能送达 {unit_kind} 类单位", "a {query} query cannot go to a unit of kind {unit_kind}"),
    ErrorSpec("RULE_DIRECTION", "{doc_type} 不能由 {sender_kind} 发往 {recipient_kind}", "{doc_type} cannot go from {sender_kind} to {recipient_kind}"),
    ErrorSpec("RULE_STATUS_QUERY_ONLY", "法院以外的单位只能向信用信息共享平台查询失信状态", "units other than courts may only ask the credit platform whether a subject is listed", "003 失信规定 第八条"),
    ErrorSpec("RULE_NOT_SUPERIOR_COURT", "{doc_type} 必须发往受托法院 {court} 的上级法院 {expected}", "{doc_type} must go to {expected}, the superior court of the entrusted court {court}", "003 事项委托 第十三条"),
    ErrorSpec("RULE_UNKNOWN_UNIT", "单位 {unit} 不是联动网络成员", "unit {unit} is not a member of the network"),
    ErrorSpec("RULE_LISTING_MINOR", "被执行人在决定日为未成年人，不得纳入失信被执行人名单（{path}）", "the debtor is a minor on the decision date and may not be listed as dishonest ({path})", "003 失信规定 第四条"),
    ErrorSpec("RULE_LISTING_PERIOD", "失信名单期限为二年，延长须为一至三年并说明理由：{detail}", "a dishonest listing lasts two years; an extension must be one to three years with a reason: {detail}", "003 失信规定 第二条"),
    ErrorSpec("RULE_LISTING_DATES", "失信名单的立案日期、决定日期与签发时间顺序不符：{detail}", "the listing's filing date, decision date and issue time are out of order: {detail}", "003 失信规定 第五条、第六条"),
    ErrorSpec("RULE_LISTING_FIELDS", "失信名单信息缺少第六条规定的事项：{detail}", "the listing lacks a field required by article 6: {detail}", "003 失信规定 第六条"),
    ErrorSpec("RULE_REVIEW_REFUSES", "审查建议不得拒绝采取措施", "a review suggestion may not refuse to carry out the measure", "001 第二十条"),
    ErrorSpec("RULE_RESULT_REASON", "未执行或部分执行的结果必须说明原因（{path}）", "a result that was not or only partly executed must give the reason ({path})", "003 银行网络执行查控工作规范 17"),
    ErrorSpec("RULE_DEDUCT_BALANCE", "实际扣划金额与未扣划金额之和必须等于应扣划金额（{path}）", "deducted plus not-deducted must equal the requested amount ({path})", "003 银行网络执行查控工作规范 15"),
    ErrorSpec("RULE_FREEZE_RESULT", "实际冻结金额不得超过应冻结金额（{path}）", "the actually frozen amount may not exceed the requested amount ({path})", "003 银行网络执行查控工作规范 10"),
    ErrorSpec("RULE_ENTRUSTMENT_DEADLINE", "事项委托期限应为十至二十日，紧急事项为二十四小时：{detail}", "an entrustment deadline must be 10 to 20 days, or 24 hours when urgent: {detail}", "003 事项委托 第六条"),
    ErrorSpec("RULE_EXTENSION_REASON", "延期说明必须说明理由并提出新的期限", "an extension notice must give the reason and a new deadline", "002 四.7、四.13"),
    ErrorSpec("RULE_DEADLINE_ORDER", "期限必须晚于签发时间", "the deadline must be after the issue time"),
    # --- registry ------------------------------------------------------------------------------------
    ErrorSpec("REG_INVALID", "成员单位名册无效：{detail}", "the member registry is invalid: {detail}"),
    ErrorSpec("UNIT_CONFIG_INVALID", "单位配置文件无效：{detail}", "the unit configuration is invalid: {detail}"),
    ErrorSpec("HUB_CONFIG_INVALID", "枢纽配置文件无效：{detail}", "the hub configuration is invalid: {detail}"),
    ErrorSpec("REG_UNIT_DUPLICATE", "单位代码 {unit_code} 已在成员单位名册中（或为枢纽代码）", "unit code {unit_code} is already in the member registry (or is the hub's)"),
    ErrorSpec("REG_KIND_UNKNOWN", "不存在的单位类别 {kind}；可选：{kinds}", "there is no unit kind {kind}; the kinds are: {kinds}", "DOMAIN.md; broker/documents/catalogue.py"),
    ErrorSpec("REG_UNIT_INVALID", "无法加入成员单位：{detail}", "the unit cannot be added: {detail}", "docs/registry.md"),
    ErrorSpec("REG_RELOAD_FAILED", "重新加载成员单位名册失败，继续使用原名册：{detail}", "reloading the member registry failed; the previous one stays in use: {detail}"),
    # --- enrolment (liandong pki) --------------------------------------------------------------------
    ErrorSpec("PKI_CODE_INVALID", "{unit_code} 不是有效的统一社会信用代码", "{unit_code} is not a valid unified social credit code", "GB 32100-2015"),
    ErrorSpec("PKI_USCC_FORM", "{value} 不符合统一社会信用代码的格式（17 位前缀或 18 位代码，不含 I、O、S、V、Z）", "{value} is not in the form of a unified social credit code (17-character prefix or 18-character code, no I, O, S, V, Z)", "GB 32100-2015"),
    ErrorSpec("PKI_CSR_INVALID", "证书请求 {source} 无效：{detail}", "the certificate request {source} is invalid: {detail}", "RFC 2986"),
    ErrorSpec("PKI_CSR_NO_CODE", "证书请求的主体缺少 {field}", "the certificate request's subject lacks {field}", "docs/signature-profile.md"),
    ErrorSpec("PKI_CSR_CODE_MISMATCH", "证书请求所载单位代码 {unit_code} 与预期的 {expected} 不一致", "the certificate request names unit {unit_code}, not the expected {expected}"),
    ErrorSpec("PKI_CSR_KEY", "证书请求的公钥类型不受支持（{detail}）：只接受 P-256 或 RSA", "the certificate request's key is not supported ({detail}): P-256 or RSA only", "docs/signature-profile.md"),
    ErrorSpec("PKI_CA_MISSING", "缺少签发证书的 CA 文件：{files}", "the issuing CA's files are missing: {files}"),
    ErrorSpec("PKI_CA_SUITE", "印章 CA {ca} 签发 {ca_suite} 证书，与所选算法套件 {suite} 不符（SM2 印章请用 --seal-ca 指定 SM2 CA）", "the seal CA {ca} issues {ca_suite} certificates, not {suite} (for SM2 seals name the SM2 CA with --seal-ca)", "docs/signature-profile.md 4.7"),
    ErrorSpec("PKI_FILE_EXISTS", "文件 {path} 已存在，不予覆盖", "{path} exists already and is not overwritten"),
    # --- routing and hub -----------------------------------------------------------------------------
    ErrorSpec("ROUTE_SENDER_MISMATCH", "发送方 {sender} 与发布客户端 {client_unit} 不一致", "the sender {sender} is not the publishing client {client_unit}"),
    ErrorSpec("ROUTE_TYPE_NOT_ACCEPTED", "接收方 {recipient} 不接收 {doc_type} 类文书", "the recipient {recipient} does not accept {doc_type}"),
    ErrorSpec("ROUTE_REPLY_UNKNOWN", "所答复的文书 {document_id} 未送达过该单位", "the answered document {document_id} was never delivered to this unit"),
    ErrorSpec("ROUTE_REPLY_WRONG_RECIPIENT", "答复必须发往原文书的发送方 {expected}", "an answer must go to the sender of the original document, {expected}"),
    ErrorSpec("ROUTE_RATING_NOT_COMPLETED", "只能评价已办结的事项委托：评价须答复受托法院的办结反馈并指明该事项委托（所答复的文书 {document_id}）", "only a completed entrustment may be rated: a rating answers the entrusted court's completing feedback and names that entrustment (answered document {document_id})", "003 事项委托 第十三条"),
    ErrorSpec("ROUTE_NOT_RECIPIENT", "文书的接收方为 {recipient}，不是收到该文书的单位 {unit}：不予处理", "the document is addressed to {recipient}, not to {unit}, which received it: not acted on"),
    ErrorSpec("DOC_ID_REUSED", "文书编号 {document_id} 已用于另一份文书，请使用新的编号", "document id {document_id} was already used for another document; use a new id"),
    ErrorSpec("HUB_DUPLICATE_CONFLICT", "文书编号 {document_id} 已被另一份内容不同的文书使用", "document id {document_id} was already used by a document with different content"),
    ErrorSpec("MSG_MALFORMED", "消息格式错误：{detail}", "malformed message: {detail}"),
    ErrorSpec("BROKER_UNREACHABLE", "{seconds} 秒内未能连接消息代理 {endpoints}：请检查地址、端口、TLS 证书以及代理是否在运行", "could not connect to the MQTT broker at {endpoints} within {seconds} s: check the address, the port, the TLS certificates and that the broker is running"),
    ErrorSpec("BROKER_CERT_FILES_MISSING", "消息代理的证书文件缺失（证书目录 {certs}）：{files}；目录结构应与 certs-example/ 相同", "the broker's certificate files are missing (certificate folder {certs}): {files}; lay it out like certs-example/"),
    ErrorSpec("HUB_INTERNAL", "枢纽内部错误，文书未被接收，请重发", "internal hub error; the document was not accepted, please resend"),
    ErrorSpec("HUB_CHECK_FAILED", "枢纽检查该文书时发生意外错误，再次单独检查仍然失败：不予接收（摘要 {digest}），请联系枢纽运维人员", "the hub's check of this document failed unexpectedly, again when checked alone: not accepted (digest {digest}); contact the hub's operators"),
    ErrorSpec("HUB_WORKER_DIED", "枢纽检查该文书的进程异常终止，再次单独检查时再次终止：不予接收（摘要 {digest}），请联系枢纽运维人员", "the hub process checking this document died, and again when it was checked alone: not accepted (digest {digest}); contact the hub's operators"),
    ErrorSpec("HUB_STORAGE_FULL", "账本存储空间已满，暂停受理", "ledger storage is full: refusing work"),
    ErrorSpec("HUB_STORAGE_FAILED", "账本写入失败，暂停受理并重试", "writing to the ledger failed: refusing work and retrying"),
    # the ledger of several chains (issue 16; docs/hub.md "Chains and anchors")
    ErrorSpec("LEDGER_NOT_MIGRATED", "账本为单链旧格式：请停止枢纽后运行 liandong ledger migrate", "this ledger predates chains: stop its hubs and run `liandong ledger migrate`"),
    ErrorSpec("LEDGER_PARTITION_FIXED", "账本已按 {recorded} 分链，不能改回单链", "this ledger is partitioned by {recorded}; it cannot go back to one chain"),
    ErrorSpec("LEDGER_PARTITION_UNKNOWN", "未知的分链方式 {partition}（可选：single、court、case）", "unknown partition {partition} (single, court or case)"),
    # readiness (GET /readyz on the hub's health_port, docs/deployment.md "Monitoring")
    ErrorSpec("HUB_BROKER_DISCONNECTED", "枢纽未连接消息服务器，暂不能收发文书", "the hub is not connected to the broker: it can neither receive nor deliver documents"),
    ErrorSpec("HUB_SEAL_EXPIRING", "枢纽电子印章证书将于 {not_after} 到期（剩余 {days_left} 天，不足 {threshold_days} 天），请及时更换", "the hub's seal certificate expires on {not_after} ({days_left} days left, fewer than {threshold_days}): renew it"),
    ErrorSpec("HUB_SEAL_NOT_VALID", "枢纽电子印章证书不在有效期内（{not_before} 至 {not_after}），枢纽出具的回执将无法验证", "the hub's seal certificate is not within its validity ({not_before} to {not_after}): the receipts the hub seals will not verify"),
    # --- working-day calendar and deadlines (broker.deadlines) ---------------------------------------
    ErrorSpec("CAL_YEAR_UNKNOWN", "{year} 年的法定节假日安排未知（chinesecalendar 覆盖 {package_years} 年，补充文件 {override_file} 覆盖 {override_years}）：请按国务院办公厅当年部分节假日安排的通知，在补充文件中添加 {year} 年的 holidays（放假日）与 workdays（调休上班日），或升级 chinesecalendar", "the official holiday arrangement for {year} is unknown (chinesecalendar covers {package_years}, the override file {override_file} covers {override_years}): add {year} with its holidays and make-up workdays to the override file from the State Council General Office notice for that year, or upgrade chinesecalendar", "国务院办公厅关于部分节假日安排的通知"),
    ErrorSpec("CAL_OVERRIDE_INVALID", "节假日补充文件无效：{detail}", "the holiday override file is invalid: {detail}"),
    ErrorSpec("DEADLINE_POLICY_INVALID", "期限规则表无效：{detail}", "the deadline policy is invalid: {detail}"),
    ErrorSpec("DEADLINE_NO_RULE", "期限规则表中没有适用于 {doc_type}（{items}，{unit_kind}）的规则", "the deadline policy has no rule for {doc_type} ({items}, {unit_kind})"),
    ErrorSpec("DEADLINE_STATED_TOO_SHORT", "文书载明的期限 {stated} 短于规则允许的最短期限 {bound}（{source}），按规则表期限 {due} 计算", "the deadline stated in the document, {stated}, is shorter than the shortest allowed, {bound} ({source}); the policy deadline {due} applies"),
    ErrorSpec("DEADLINE_STATED_TOO_LONG", "文书载明的期限 {stated} 长于规则允许的最长期限 {bound}（{source}），按规则表期限 {due} 计算", "the deadline stated in the document, {stated}, is longer than the longest allowed, {bound} ({source}); the policy deadline {due} applies"),
    # --- files given to the liandong command (liandong validate, liandong verify) ----------------------
    ErrorSpec("FILE_NOT_FOUND", "文件不存在", "no such file"),
    ErrorSpec("FILE_IS_DIRECTORY", "这是目录而不是文件", "a directory, not a file"),
    ErrorSpec("FILE_UNREADABLE", "文件无法读取：{detail}", "the file cannot be read: {detail}"),
    ErrorSpec("FILE_ANCHOR_INVALID", "信任锚证书文件 {file} 无法读取或解析：{detail}", "the trust anchor file {file} cannot be read or parsed: {detail}"),
    ErrorSpec("FILE_CHECK_FAILED", "检查该文件时发生内部错误（{error}），未得出结论：请报告此问题", "internal error while checking the file ({error}); no verdict: please report it"),
    # --- the demo (liandong demo) --------------------------------------------------------------------
    ErrorSpec("DEMO_WORKDIR_NOT_EMPTY", "演示工作目录 {workdir} 不是空目录，也不是以前演示留下的目录：请换一个空目录，或不带 --workdir 运行（使用临时目录）", "the demo working folder {workdir} is neither empty nor one an earlier demo made: choose an empty folder, or run without --workdir (a temporary folder)"),
    # --- rendering documents as 文书 (broker.render, liandong render, docs/render.md) ------------------
    ErrorSpec("RENDER_PDF_ENGINE", "无法生成 PDF：PDF 引擎（WeasyPrint 及 Pango）不可用（{detail}），请运行 ./run 安装", "cannot make the PDF: the PDF engine (WeasyPrint with Pango) is not available ({detail}); run ./run to install it"),
    ErrorSpec("RENDER_FAILED", "生成文书时发生内部错误（{error}），未生成：请报告此问题", "internal error while rendering the document ({error}); nothing was rendered: please report it"),
    ErrorSpec("RENDER_OUTPUT", "无法写入输出文件 {file}：{detail}", "cannot write the output file {file}: {detail}"),
    # --- a court's inbox (liandong court inbox|show|wait) --------------------------------------------
    ErrorSpec("COURT_STORE_MISSING", "法院本地库 {path} 不存在：法院客户端尚未运行，或配置中的 store 指向了别的文件", "the court's store {path} does not exist: the court's client has not run yet, or the configuration's store names another file"),
    ErrorSpec("COURT_DOCUMENT_UNKNOWN", "法院本地库中没有文书 {document_id}", "no document {document_id} in the court's store"),
    ErrorSpec("COURT_RESULT_NOT_YET", "{seconds} 秒内未收到文书 {document_id} 的执行回执（当前：{state}）", "no execution receipt for {document_id} within {seconds} s (so far: {state})"),
    # --- the gateway's HTTP API (broker.gateway, docs/gateway.md) ------------------------------------------
    ErrorSpec("GW_TOKEN_MISSING", "缺少 API 令牌：请在 Authorization 头中提供 Bearer 令牌", "no API token: send it as 'Authorization: Bearer <token>'"),
    ErrorSpec("GW_TOKEN_INVALID", "API 令牌无效", "the API token is not valid"),
    ErrorSpec("GW_SCOPE_MISSING", "令牌 {who} 没有 {scope} 权限", "the token {who} lacks the {scope} scope"),
    ErrorSpec("GW_BODY_TOO_LARGE", "请求体超过上限 {limit} 字节", "the request body exceeds the limit of {limit} bytes"),
    ErrorSpec("GW_MEDIA_TYPE", "不支持的内容类型 {content_type}：请使用 application/json 或 application/xml", "unsupported content type {content_type}: use application/json or application/xml"),
    ErrorSpec("GW_JSON_MALFORMED", "JSON 格式错误：{detail}", "malformed JSON: {detail}"),
    ErrorSpec("GW_FIELD_INVALID", "字段 {path} 无效：{detail}", "field {path} is invalid: {detail}"),
    ErrorSpec("GW_PARAMETER_INVALID", "参数 {path} 无效：{detail}", "parameter {path} is invalid: {detail}"),
    ErrorSpec("GW_SENDER_NOT_GATEWAY", "发送方 {sender} 不是本网关的单位 {unit}", "the sender {sender} is not this gateway's unit {unit}"),
    ErrorSpec("GW_IDEMPOTENCY_CONFLICT", "幂等键 {key} 已用于内容不同的请求", "the Idempotency-Key {key} was already used with a different body"),
    ErrorSpec("GW_ANSWER_CONFLICT", "文书 {document_id} 已有不同的答复（回执 {receipt_id}）", "document {document_id} was already answered differently (receipt {receipt_id})"),
    ErrorSpec("GW_NOT_ANSWERABLE", "{doc_type} 类文书不能以执行结果答复", "a {doc_type} cannot be answered with a result"),
    ErrorSpec("GW_ANSWER_NOT_FOR", "{doc_type} 类文书不能以{answer_zh}答复", "a {doc_type} cannot be answered with {answer_en}"),
    ErrorSpec("GW_ITEM_UNKNOWN", "文书 {document_id} 中没有条目 {item}", "document {document_id} has no item {item}"),
    ErrorSpec("GW_KIND_UNKNOWN", "{path} 的种类 {kind} 不在可选种类中：{allowed}", "{path}: the Kind {kind} is not one of {allowed}"),
    ErrorSpec("GW_CLIENT_CERT_UNKNOWN", "客户端证书 {subject} 未在网关配置中登记", "the client certificate {subject} is not in the gateway's configuration"),
    ErrorSpec("GW_NOT_FOUND", "本网关没有文书或案件 {what}", "this gateway has no document or case {what}"),
    ErrorSpec("GW_ROUTE_NOT_FOUND", "没有这个接口：{method} {path}", "no such endpoint: {method} {path}"),
    ErrorSpec("GW_METHOD_NOT_ALLOWED", "接口 {path} 不支持 {method} 方法", "the endpoint {path} does not take {method}"),
    ErrorSpec("GW_INTERNAL", "网关内部错误，请求未完成：请联系网关运维人员", "internal error in the gateway; the request was not completed: contact the gateway's operators"),
    # the gateway's readiness (GET /readyz, docs/gateway.md "Operations")
    ErrorSpec("GW_BROKER_DISCONNECTED", "网关未连接消息服务器，暂不能收发文书", "the gateway is not connected to the broker: it can neither send nor receive documents"),
    ErrorSpec("GW_STORE_NOT_WRITABLE", "网关存储 {store} 不可写：{detail}", "the gateway's store {store} is not writable: {detail}"),
    ErrorSpec("GW_SEAL_EXPIRING", "本单位电子印章证书将于 {not_after} 到期（剩余 {days_left} 天，不足 {threshold_days} 天），请及时更换", "this unit's seal certificate expires on {not_after} ({days_left} days left, fewer than {threshold_days}): renew it"),
    ErrorSpec("GW_SEAL_NOT_VALID", "本单位电子印章证书不在有效期内（{not_before} 至 {not_after}），网关盖章的文书将无法验证", "this unit's seal certificate is not within its validity ({not_before} to {not_after}): the documents the gateway seals will not verify"),
    # --- the console (broker/console, docs/console.md) -------------------------------------------
    ErrorSpec("CONSOLE_LOGIN_FAILED", "用户名或密码错误", "wrong user name or password"),
    ErrorSpec("CONSOLE_ACCOUNT_LOCKED", "连续输错密码次数过多，账户已锁定：请联系系统管理员解锁", "too many wrong passwords in a row: the account is locked; ask an administrator to unlock it"),
    ErrorSpec("CONSOLE_TOTP_INVALID", "动态验证码错误或已过期", "the one-time code is wrong or has expired"),
    ErrorSpec("CONSOLE_CSRF", "表单已失效（缺少或错误的防伪令牌），请重新打开页面后再提交", "the form is not valid (missing or wrong CSRF token): open the page again and resubmit"),
    ErrorSpec("CONSOLE_FORBIDDEN", "无权访问：{what}", "not permitted: {what}", "003 SPC–MPS 五(二)"),
    ErrorSpec("CONSOLE_SESSION_EXPIRED", "登录已过期，请重新登录", "the session has expired: log in again"),
    ErrorSpec("CONSOLE_ACCOUNT_INVALID", "账户信息无效：{detail}", "the account is not valid: {detail}"),
    ErrorSpec("CONSOLE_ACCOUNT_EXISTS", "用户名 {username} 已存在", "the user name {username} is taken"),
    ErrorSpec("CONSOLE_UNIT_UNKNOWN", "本控制台没有单位 {unit}", "this console serves no unit {unit}"),
    ErrorSpec("CONSOLE_NO_LEDGER", "控制台未配置枢纽台账，无法显示督办统计", "the console has no hub ledger configured: no supervision figures"),
    ErrorSpec("CONSOLE_FIELD_INVALID", "{field} 填写有误：{detail}", "{field} is not valid: {detail}"),
    # the gateway's folders (broker.gateway.folders, docs/gateway.md "Folders")
    ErrorSpec("GW_FOLDER_FILE_TYPE", "发件目录中的文件 {name} 无法处理：只接受 .json 或 .xml 文书，或名为 <文书编号>.result.json（或 .extension.json、.review.json、.lead.json）的答复", "the file {name} in the outgoing folder cannot be handled: only .json or .xml documents, or an answer named <document id>.result.json (or .extension.json, .review.json, .lead.json)"),
    ErrorSpec("GW_FOLDER_FILE_TOO_LARGE", "发件目录中的文件超过上限 {limit} 字节", "the file in the outgoing folder exceeds the limit of {limit} bytes"),
)

CATALOGUE: dict[str, ErrorSpec] = {spec.code: spec for spec in _SPECS}


class _SafeFormat(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Problem(BaseModel):
    """One finding about a document: stable code, both messages, where in the document."""

    model_config = ConfigDict(frozen=True)

    code: str
    message_zh: str
    message_en: str
    path: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en} / {self.message_zh}"


def problem(code: str, *, path: str | None = None, **params: Any) -> Problem:
    """Build the :class:`Problem` for ``code`` with its message placeholders filled in."""
    spec = CATALOGUE[code]
    values = _SafeFormat(params)
    if path is not None:
        values.setdefault("path", path)
    return Problem(
        code=code,
        message_zh=spec.zh.format_map(values),
        message_en=spec.en.format_map(values),
        path=path,
    )


class LiandongError(Exception):
    """Raised with one or more :class:`Problem`; ``codes`` lists them for quick matching."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    @classmethod
    def of(cls, code: str, **params: Any) -> "LiandongError":
        return cls([problem(code, **params)])
