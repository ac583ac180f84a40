"""A court's case management system on the example network: the worked example of docs/courts.md.

It connects as 广东省云浮市中级人民法院 (examples/config/court-yunfu.yaml), then

1. sends the enforcement ruling (执行裁定书) a bank freeze rests on (003 bank rules 9);
2. builds an assistance notice (协助执行通知书) freezing the debtor's card, checks it locally as the
   hub will, seals and publishes it, and prints the time of service from the hub's service receipt;
3. waits for the bank's sealed receipt of result (协助执行结果回执) and prints each item's result;
4. sends the same freeze to the police, which cannot carry it out, and prints the hub's rejection.

Everything else that reaches the court (extension notices, review suggestions, lead reports,
reminders, ...) goes through the same handler. Needs the broker, the hub and the bank adapter
of docs/quickstart.md ("Try it by hand") running on this machine; from the top of the tree:

    .venv/bin/python examples/court_example.py [COURT_CONFIG.yaml]

Exit status 0 when the notice was served and the bank answered.
"""

from __future__ import annotations

import queue
import sys
from datetime import timedelta
from pathlib import Path

from broker.checking import DocumentChecker
from broker.configuration import load_unit_config
from broker.court import CourtClient
from broker.documents import codec
from broker.documents.bodies import AssistanceNotice, EnforcementRuling
from broker.documents.common import BankAccount, Money, NaturalPerson, Officer, Period, RulingRef
from broker.documents.document import Document, now
from broker.documents.measures import BankFreeze
from broker.registry import load_registry
from broker.transport.unit import Received

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "config" / "court-yunfu.yaml"

COURT = "11445300MB0000001W"  # 广东省云浮市中级人民法院
BANK = "91445300MA5100003A"  # 中国工商银行股份有限公司云浮分行
POLICE = "11445300MB00000046"  # 云浮市公安局
CASE = "（2026）粤53执123号"
OFFICERS = [  # 003 bank rules 3: the officers handling the case, on every notice
    Officer(name="李明", phone="0766-8923101", credential_number="粤53执证0012"),
    Officer(name="王芳", phone="0766-8923102", credential_number="粤53执证0027"),
]
DEBTOR = NaturalPerson(name="陈国强", id_number="445302198004121232", gender="M")
CARD = BankAccount(
    bank_name="中国工商银行云浮分行", account_number="6222022010001234567", account_name="陈国强", currency="CNY"
)

# Everything the hub delivers to the court arrives here, once per document id, already verified
# end to end (the sender's own seal, the XSD, the rules) and stored in the court's local store.
arrived: queue.Queue[Received] = queue.Queue()


def handler(received: Received) -> None:
    # Runs on the client's hand-over thread: return quickly. The client has already verified the
    # sender's seal and that the document is addressed to this court (ROUTE_NOT_RECIPIENT); if
    # this raises, the client keeps the document and hands it over again with backoff.
    arrived.put(received)


def wait_for(doc_type: str, in_reply_to: str, timeout: float = 60.0) -> Received:
    """The first document of ``doc_type`` answering ``in_reply_to``; print the others meanwhile."""
    while True:
        received = arrived.get(timeout=timeout)  # queue.Empty after ``timeout`` seconds of silence
        if received.doc_type == doc_type and received.in_reply_to == in_reply_to:
            return received
        print(f"  (also arrived: {received.doc_type} {received.document_id} from {received.sender})")


def main(argv: list[str]) -> int:
    config = load_unit_config(argv[1] if len(argv) > 1 else CONFIG)
    # Drafts are checked without a seal: parse, XSD and business rules, with the registry's rules.
    drafts = DocumentChecker(None, load_registry(config.registry))
    today = now().date()

    with CourtClient(config, handler=handler) as court:
        # 1. The ruling (执行裁定书). Document.create gives a new id and the current time.
        ruling = Document.create(
            EnforcementRuling(
                ruling_number=f"{CASE}之一",
                ruling_date=today,
                court_name="广东省云浮市中级人民法院",
                decision="冻结被执行人陈国强在金融机构的存款人民币500000元。本裁定立即执行。",
            ),
            sender=COURT,
            recipient=BANK,
            case_number=CASE,
        )
        answer = court.publish(ruling)
        print(f"ruling {ruling.header.document_id}: served at {answer.received_at}")

        # 2. The notice: one freeze, for a year, resting on that ruling.
        notice = Document.create(
            AssistanceNotice(
                ruling=RulingRef(ruling_number=f"{CASE}之一", document_id=ruling.header.document_id),
                measures=[
                    BankFreeze(
                        measure_id="M1",
                        subject=DEBTOR,
                        account=CARD,
                        amount=Money.cny("500000.00"),
                        period=Period(start=today, end=today + timedelta(days=364)),
                    )
                ],
                remark="请立即办理，并将执行结果通过联动网络回执本院。",
            ),
            sender=COURT,
            recipient=BANK,
            case_number=CASE,
            officers=OFFICERS,
        )
        draft = drafts.check(codec.to_bytes(notice), signed=False)
        if not draft.ok:
            print("not sent, the hub would refuse it:", draft.codes)
            return 1
        answer = court.publish(notice, timeout=60)  # seals with the court's key, waits for the hub
        if not answer.accepted:
            for code, _zh, en in answer.errors:
                print(f"rejected: {code} {en}")
            return 1
        print(f"notice {answer.document_id}: served at {answer.received_at} (the time of service)")
        print(f"  service receipt {answer.notice.document_id}, sealed by the hub {answer.notice.sender}")

        # 3. The bank's receipt of result.
        try:
            receipt = wait_for("ExecutionReceipt", answer.document_id)
        except queue.Empty:
            print("no receipt from the bank within 60 s: is its adapter running? It is delivered when it is.")
            return 1
        body = receipt.document().body
        print(f"receipt {receipt.document_id} from {receipt.sender}, sealed by the bank:")
        for result in body.results:
            line = f"  {result.measure_id}: {result.status.value}"
            if result.actual_amount is not None:
                line += f", frozen {result.actual_amount.value} of {result.requested_amount.value} {result.actual_amount.currency}"
            if result.period is not None:
                line += f", {result.period.start} to {result.period.end}"
            if result.reason:
                line += f" ({result.reason})"
            print(line)

        # 4. The same freeze sent to the police: the hub refuses it with a sealed rejection.
        wrong = Document.create(notice.body, sender=COURT, recipient=POLICE, case_number=CASE, officers=OFFICERS)
        print("local check of the police notice:", drafts.check(codec.to_bytes(wrong), signed=False).codes)
        answer = court.publish(wrong)
        print(f"police notice {answer.document_id}: accepted={answer.accepted}")
        for code, zh, en in answer.errors:
            print(f"  {code} {en} / {zh}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
