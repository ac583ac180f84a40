"""Identifiers (``broker/documents/identifiers.py``): GB 11643-1999 resident ID numbers,
GB 32100-2015 unified social credit codes, enforcement case numbers."""

from __future__ import annotations

import random
from datetime import date

import pytest

from broker.documents.identifiers import (
    ENFORCEMENT_CASE_WORDS,
    USCC_ALPHABET,
    CaseNumber,
    age_on,
    birth_date_of,
    gender_of,
    make_uscc,
    parse_case_number,
    resident_id_check_char,
    resident_id_is_valid,
    uscc_check_char,
    uscc_is_valid,
)
from tests.helpers import REGISTRY

TODAY = date(2026, 11, 23)
ID_CHECK_CHARS = "0123456789X"


def resident_id(region: str, born: date | str, sequence: str) -> str:
    birth = born if isinstance(born, str) else born.strftime("%Y%m%d")
    first17 = region + birth + sequence
    return first17 + resident_id_check_char(first17)


# --- GB 11643-1999 -------------------------------------------------------------------------------------

# The two numbers printed in GB 11643-1999 itself, then numbers built here (one per check char).
PUBLISHED_IDS = ["11010519491231002X", "440524188001010014"]


def _ids_for_every_check_char() -> dict[str, str]:
    found: dict[str, str] = {}
    rng = random.Random(11643)
    while len(found) < len(ID_CHECK_CHARS):
        born = date(rng.randrange(1950, 2008), rng.randrange(1, 13), rng.randrange(1, 29))
        value = resident_id("445302", born, f"{rng.randrange(1000):03d}")
        found.setdefault(value[17], value)
    return found


CONSTRUCTED_IDS = _ids_for_every_check_char()
VALID_IDS = PUBLISHED_IDS + sorted(CONSTRUCTED_IDS.values())


def test_constructed_ids_cover_every_check_char() -> None:
    assert set(CONSTRUCTED_IDS) == set(ID_CHECK_CHARS)


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_id_number(value: str) -> None:
    assert resident_id_is_valid(value)
    assert birth_date_of(value) is not None


@pytest.mark.parametrize("value", VALID_IDS)
def test_every_wrong_check_char_is_rejected(value: str) -> None:
    wrong = [c for c in ID_CHECK_CHARS if c != value[17]]
    assert len(wrong) == 10
    assert not any(resident_id_is_valid(value[:17] + c) for c in wrong)


@pytest.mark.parametrize("position", range(17))
def test_a_changed_digit_is_detected(position: int) -> None:
    # MOD 11-2 detects every single-digit error.
    value = PUBLISHED_IDS[1]
    for digit in "0123456789":
        if digit != value[position]:
            assert not resident_id_is_valid(value[:position] + digit + value[position + 1 :])


def test_x_check_char() -> None:
    assert resident_id_check_char("11010519491231002") == "X"
    assert resident_id_is_valid("11010519491231002X")
    assert not resident_id_is_valid("11010519491231002x"), "lower-case x is not the GB 11643 form"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "11010519491231002",
        "11010519491231002X0",
        "1101051949123100 X",
        "A1010519491231002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ],
    ids=["empty", "17-chars", "19-chars", "blank", "letter", "full-width"],
)
def test_malformed_id_number(value: str) -> None:
    assert not resident_id_is_valid(value)


@pytest.mark.parametrize("birth", ["19800230", "19810229", "19801301", "19800000", "19801232"])
def test_invalid_birth_date(birth: str) -> None:
    value = resident_id("445302", birth, "123")
    assert resident_id_is_valid(value), "check char and form are fine"
    assert birth_date_of(value) is None
    assert age_on(value, TODAY) is None


def test_leap_day_birth_date_is_valid() -> None:
    assert birth_date_of(resident_id("445302", "20000229", "123")) == date(2000, 2, 29)


@pytest.mark.parametrize(
    ("sequence", "gender"), [("001", "M"), ("123", "M"), ("999", "M"), ("000", "F"), ("246", "F"), ("998", "F")]
)
def test_gender_from_sequence_digit(sequence: str, gender: str) -> None:
    assert gender_of(resident_id("445302", "19800412", sequence)) == gender


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2008, 3, 9), date(2026, 3, 9), 18),  # birthday: a full year more
        (date(2008, 3, 10), date(2026, 3, 9), 17),  # 17 years and 364 days
        (date(2008, 3, 9), date(2026, 3, 8), 17),
        (date(1980, 12, 31), date(2026, 1, 1), 45),
        (date(2026, 11, 23), date(2026, 11, 23), 0),
        # born on 29 February: in common years the birthday falls on 1 March
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2008, 2, 29), date(2028, 2, 28), 19),
    ],
)
def test_age_on(born: date, on: date, age: int) -> None:
    assert age_on(resident_id("445302", born, "123"), on) == age


# --- GB 32100-2015 -------------------------------------------------------------------------------------

# The code printed in GB 32100-2015, the registry's units and codes built with make_uscc.
VALID_USCC = sorted(
    {"91350100M000100Y43", *(u.code for u in REGISTRY.units), REGISTRY.hub.code}
    | {make_uscc(p) for p in ("91445302MA4UH8QK2", "31440000MD0000000", "Y1445300MJ1234567")}
)


@pytest.mark.parametrize("value", VALID_USCC)
def test_valid_uscc(value: str) -> None:
    assert uscc_is_valid(value)


@pytest.mark.parametrize("value", VALID_USCC[:4])
def test_wrong_uscc_check_char(value: str) -> None:
    wrong = [c for c in USCC_ALPHABET if c != value[17]]
    assert len(wrong) == 30
    assert not any(uscc_is_valid(value[:17] + c) for c in wrong)


def test_uscc_alphabet_has_no_forbidden_letters() -> None:
    assert len(USCC_ALPHABET) == 31
    assert not set("IOSVZ") & set(USCC_ALPHABET)


@pytest.mark.parametrize("letter", "IOSVZ")
@pytest.mark.parametrize("position", [0, 1, 8, 12, 17])
def test_forbidden_letters_rejected(letter: str, position: int) -> None:
    base = "91445300MA5100003A"
    value = base[:position] + letter + base[position + 1 :]
    assert not uscc_is_valid(value)


@pytest.mark.parametrize(
    "value",
    ["", "91445300MA5100003", "91445300MA5100003AA", "91445300ma5100003a", "914453A0MA5100003A"],
    ids=["empty", "17-chars", "19-chars", "lower-case", "letter-in-region"],
)
def test_malformed_uscc(value: str) -> None:
    assert not uscc_is_valid(value)


def test_make_uscc_appends_the_check_char() -> None:
    assert make_uscc("91350100M000100Y4") == "91350100M000100Y43"
    assert uscc_check_char("91350100M000100Y4") == "3"


# --- case numbers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ENFORCEMENT_CASE_WORDS)
@pytest.mark.parametrize(("left", "right"), [("（", "）"), ("(", ")")], ids=["full-width", "ascii"])
def test_case_number_words_and_parentheses(word: str, left: str, right: str) -> None:
    parsed = parse_case_number(f"{left}2024{right}粤53{word}123号", today=TODAY)
    assert parsed == CaseNumber(2024, "粤53", word, 123)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("（2026）粤53执123号之一", CaseNumber(2026, "粤53", "执", 123)),
        ("（2026）粤53执123号之十二", CaseNumber(2026, "粤53", "执", 123)),
        ("（2026）鄂1022执45号", CaseNumber(2026, "鄂1022", "执", 45)),
        ("（2025）粤53执保7号", CaseNumber(2025, "粤53", "执保", 7)),
        ("（2026）粤执恢1号", CaseNumber(2026, "粤", "执恢", 1)),
        ("（1990）京01执1号", CaseNumber(1990, "京01", "执", 1)),
    ],
)
def test_case_number_parts(value: str, expected: CaseNumber) -> None:
    assert parse_case_number(value, today=TODAY) == expected


@pytest.mark.parametrize(
    "value",
    [
        "（2028）粤53执123号",  # beyond next year
        "（1989）粤53执123号",
        "（26）粤53执123号",
        "（2026）粤53民初123号",
        "（2026）粤53执123",
        "（2026）粤53执0号",
        "（2026）粤53执0123号",
        "（2026）粤53执123号之",
        "（2026）粤53执123号之1",
        "（2026）53执123号",
        "【2026】粤53执123号",
        " （2026）粤53执123号",
    ],
)
def test_malformed_case_number(value: str) -> None:
    assert parse_case_number(value, today=TODAY) is None


def test_case_year_limit_follows_today() -> None:
    assert parse_case_number("（2027）粤53执1号", today=TODAY) is not None
    assert parse_case_number("（2028）粤53执1号", today=TODAY) is None
    assert parse_case_number("（2028）粤53执1号", today=date(2027, 1, 1)) is not None


def test_supreme_court_case_number() -> None:
    assert parse_case_number("（2021）最高法执监172号", today=TODAY) == CaseNumber(2021, "最高法", "执监", 172)
