"""The example network's police data (``examples/build.py``), and a small command line for demos.

:func:`seed` loads the persons, travel documents, hotel stays and vehicles that the example
documents name (``QueryNotice-PublicSecurity.xml``, ``AssistanceNotice-PublicSecurity.xml``,
``ExecutionReceipt-PublicSecurity.xml``, ``LeadReport*.xml``), and the earlier seizure of the truck
by 湖北省公安县人民法院 that makes the Yunfu court's seizure a rotating one (002 四.7(3)).
Loading twice changes nothing.

A sighting for a running adapter (002 四.7(2)): the bureau's own systems record it in the
register, and the adapter sends the lead report within ``poll_seconds``::

    python -m adapters.police.demo --db var/police/police.db seed
    python -m adapters.police.demo --db var/police/police.db sighting \\
        --id-number 445302198004121232 --location 云浮市云城区河滨路1号云浮国际大酒店
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import uuid
from datetime import datetime

from adapters.police.native import PoliceSystem
from broker.documents.document import CHINA_TZ

EXAMPLE_NS = uuid.UUID("3d6f0c52-8a4e-5b71-9c2d-6e4f1a0b7c93")
"""The namespace of the example document ids (examples/build.py)."""

GONGAN_COURT = "11421022MB0000002J"
GONGAN_COURT_NAME = "湖北省公安县人民法院"
GONGAN_CASE = "（2026）鄂1022执45号"
GONGAN_SEIZURE = str(uuid.uuid5(EXAMPLE_NS, f"earlier/AssistanceNotice-PublicSecurity-{GONGAN_CASE}"))
"""The earlier notice (not among the examples) by which the Gong'an court seized the truck, item S1."""

CHEN = "445302198004121232"  # 陈国强, the debtor
HUANG = "44538119850923246X"  # 黄美玲, of the same household
LI = "445321197906170513"  # 李伟文, buyer of the sold car
LIU = "421022197603053152"  # 刘建华, debtor in the Gong'an case
HENGDA = "91445302MA4UH8QK2A"  # 云浮市恒达石材有限公司
TRUCK, CAR, SOLD_CAR = "粤W3K218", "粤W5C907", "粤W8A661"

_YUNCHENG = "445302-0012"

PERSONS = [
    (
        CHEN,
        "陈国强",
        "M",
        "1980-04-12",
        ["陈强"],
        _YUNCHENG,
        "广东省云浮市云城区云城街道新平路12号",
        "广东省云浮市云城区兴云西路8号2栋502房",
        "13802660412",
    ),
    (
        HUANG,
        "黄美玲",
        "F",
        "1985-09-23",
        [],
        _YUNCHENG,
        "广东省云浮市云城区云城街道新平路12号",
        "广东省云浮市云城区兴云西路8号2栋502房",
        None,
    ),
    (LI, "李伟文", "M", "1979-06-17", [], "445321-0307", "广东省云浮市新兴县新城镇东堤北路3号", None, None),
    (LIU, "刘建华", "M", "1976-03-05", [], "421022-0451", "湖北省荆州市公安县斗湖堤镇油江路21号", None, None),
]
TRAVEL_DOCUMENTS = [("E12345678", CHEN, "普通护照", "2031-07-08")]
CROSSINGS = [
    ("E12345678", "2025-12-20T08:15:00+08:00", "出境", "珠海拱北口岸", "澳门"),
    ("E12345678", "2025-12-23T19:42:00+08:00", "入境", "珠海拱北口岸", None),
]
HOTEL_STAYS = [
    (
        CHEN,
        "云浮国际大酒店",
        "云浮市云城区河滨路1号",
        "2026-02-10T22:31:00+08:00",
        "2026-02-12T11:05:00+08:00",
    )
]
_DMV = "云浮市公安局交通警察支队车辆管理所"
VEHICLES = [
    (
        TRUCK,
        "LGAX4DD39H1012345",
        "东风天龙",
        "DFH4250A",
        "重型半挂牵引车",
        "2017-09-14",
        _DMV,
        "东风汽车金融有限公司",
        HENGDA,
        "云浮市恒达石材有限公司",
    ),
    (
        CAR,
        "LFV2A21K6K4123456",
        "大众迈腾",
        "FV7187TATG",
        "小型轿车",
        "2019-05-30",
        _DMV,
        None,
        HENGDA,
        "云浮市恒达石材有限公司",
    ),
    (
        SOLD_CAR,
        "LVSHFFAC5JF654321",
        "福特蒙迪欧",
        "CAF7200A",
        "小型轿车",
        "2018-11-02",
        _DMV,
        None,
        CHEN,
        "陈国强",
    ),
]


def seed(native: PoliceSystem) -> None:
    """Load the example network's registers (idempotent: a second call changes nothing)."""

    def load(db: sqlite3.Connection) -> None:
        for p in PERSONS:
            db.execute(
                "INSERT OR IGNORE INTO persons (id_number, name, gender, birth_date, former_names, household_id,"
                " household_address, residence, phone) VALUES (?,?,?,?,?,?,?,?,?)",
                (*p[:4], json.dumps(p[4], ensure_ascii=False), *p[5:]),
            )
        db.executemany("INSERT OR IGNORE INTO travel_documents VALUES (?,?,?,?)", TRAVEL_DOCUMENTS)
        db.executemany("INSERT OR IGNORE INTO border_crossings VALUES (?,?,?,?,?)", CROSSINGS)
        db.executemany("INSERT OR IGNORE INTO hotel_stays VALUES (?,?,?,?,?)", HOTEL_STAYS)
        db.executemany("INSERT OR IGNORE INTO vehicles VALUES (?,?,?,?,?,?,?,?,?,?)", VEHICLES)
        # 002 四.7(3): the Gong'an court's notice came first, so its seizure of the truck is in effect.
        # It was served on paper before the network: the court can release it by its notice id, but
        # what the bureau owes that court about it goes without InReplyTo (the hub never saw it).
        db.execute(
            "INSERT OR IGNORE INTO measures (kind, court, court_name, case_number, document_id, measure_id, target,"
            " period_start, period_end, state, registered_at, effective_at, origin)"
            " VALUES ('VehicleSeize',?,?,?,?,'S1',?,'2026-01-21','2028-01-20','active',?,?,'paper')",
            (
                GONGAN_COURT,
                GONGAN_COURT_NAME,
                GONGAN_CASE,
                GONGAN_SEIZURE,
                TRUCK,
                "2026-01-21T10:30:00+08:00",
                "2026-01-21T10:30:00+08:00",
            ),
        )

    native.once("demo/police/example-network/v1", load)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.police.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--db", required=True, help="the bureau's register (the adapter's data_dir/police.db)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("seed", help="load the example network's registers")
    found = sub.add_parser("sighting", help="record a person or vehicle found (002 四.7(2))")
    what = found.add_mutually_exclusive_group(required=True)
    what.add_argument("--id-number")
    what.add_argument("--plate")
    found.add_argument("--location", required=True)
    found.add_argument("--seen-at", help="ISO time with offset; default now")
    found.add_argument("--sighting-id", help="the bureau's record number; default a new one")
    found.add_argument("--impounded", action="store_true")
    args = parser.parse_args(argv)
    native = PoliceSystem(args.db)
    try:
        if args.command == "seed":
            seed(native)
            return
        now = datetime.now(CHINA_TZ).replace(microsecond=0)
        sighting_id = args.sighting_id or f"demo-{uuid.uuid4()}"
        owed = native.record_sighting(
            sighting_id=sighting_id,
            kind="person" if args.id_number else "vehicle",
            target=args.id_number or args.plate,
            location=args.location,
            seen_at=datetime.fromisoformat(args.seen_at) if args.seen_at else now,
            recorded_at=now,
            impounded=args.impounded,
        )
        print(f"sighting {sighting_id}: {owed} lead report(s) owed; the running adapter sends them")
    finally:
        native.close()


if __name__ == "__main__":
    main()
