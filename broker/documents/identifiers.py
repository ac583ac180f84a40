"""Identifier checks: resident ID numbers, unified social credit codes, case numbers.

- Resident ID number (公民身份号码), GB 11643-1999: 6-digit region, 8-digit birth date,
  3-digit sequence (odd for men, even for women), check character by ISO 7064 MOD 11-2.
- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from a 31-symbol
  alphabet (no I, O, S, V, Z), check character by weighted sum modulo 31. DOMAIN.md makes it
  the identifier of every unit in the network.
- Case numbers (案号), e.g. ``（2024）粤53执123号``: year, court abbreviation, case-type word,
  sequence (DOMAIN.md "Identifiers").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

# --- GB 11643-1999 ---------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_FORM = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # re.ASCII: \d would take "４" or "٤", which int() reads


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


@lru_cache(maxsize=65536)  # the same debtors recur in document after document
def resident_id_is_valid(value: str) -> bool:
    """Form and check character only; :func:`birth_date_of` checks the date."""
    return bool(_ID_FORM.match(value)) and resident_id_check_char(value[:17]) == value[17]


def birth_date_of(id_number: str) -> date | None:
    """The birth date inside an 18-character ID number, or None when it is not a real date."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def gender_of(id_number: str) -> str:
    """``M`` or ``F`` from the sequence digit (odd: male)."""
    return "M" if int(id_number[16]) % 2 else "F"


def age_on(id_number: str, on: date) -> int | None:
    """Full years of age on ``on``; None when the birth date is invalid."""
    born = birth_date_of(id_number)
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- GB 32100-2015 -----------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_FORM = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", re.ASCII)


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


@lru_cache(maxsize=65536)  # a network has a few thousand unit codes
def uscc_is_valid(value: str) -> bool:
    return bool(_USCC_FORM.match(value)) and uscc_check_char(value[:17]) == value[17]


def make_uscc(first17: str) -> str:
    """Complete a 17-character prefix with its check character (for examples and tests)."""
    return first17 + uscc_check_char(first17)


# --- case numbers --------------------------------------------------------------------------------

# Case-type words of enforcement cases and of the court-to-court entrustment channel.
ENFORCEMENT_CASE_WORDS = ("执恢", "执保", "执异", "执复", "执监", "执协", "执他", "执配", "执")

_CASE = re.compile(
    r"^[（(](?P<year>\d{4})[）)]"
    r"(?P<court>[\u4e00-\u9fff]{1,3}\d{0,4})"  # 粤53, 鄂1022, 最高法
    r"(?P<word>" + "|".join(ENFORCEMENT_CASE_WORDS) + r")"
    r"(?P<seq>[1-9]\d{0,5})号"
    r"(?:之[一二三四五六七八九十]+)?$",
    re.ASCII,  # only [0-9] for \d; the CJK ranges are written out
)


@dataclass(frozen=True)
class CaseNumber:
    year: int
    court: str
    word: str
    sequence: int


def parse_case_number(value: str, *, today: date | None = None) -> CaseNumber | None:
    """Parse ``（2024）粤53执123号``; None when it is not a well-formed enforcement case number."""
    m = _CASE.match(value)
    if not m:
        return None
    year = int(m["year"])
    latest = (today or date.today()).year + 1
    if not 1990 <= year <= latest:
        return None
    return CaseNumber(year, m["court"], m["word"], int(m["seq"]))
