"""Redaction of personal data in a user message, before anything is parsed, logged or stored.

Replaced by the placeholder "[weggelaten]": BSN (9 digits that pass the 11-test), IBAN (the check digits and
the length and format of the country's account number; python-stdnum does both checks),
e-mail addresses, phone numbers (Dutch and international), and dates of birth (a date next to a
word like "geboren", or a full date whose year lies at least 12 years back). Dates of rules
("sinds 29 november 2023") stay, because the assistant needs them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import List, NamedTuple, Optional, Tuple

from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

# One neutral placeholder for every kind: a placeholder such as "[telefoonnummer]" would itself
# steer the intent classifier (towards the organisation's-phone-number questions, measured). The
# kinds removed are kept in the message metadata instead (channels/guard.py).
PLACEHOLDER = "[weggelaten]"

_MONTHS = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
_MONTHS_SHORT = "jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
_DATE = (
    r"(?:\d{1,2}[-/.]\d{1,2}[-/.](?P<y1>\d{4}|\d{2})"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}\s+(?:%s|%s)\.?\s+(?P<y2>\d{4}))" % (_MONTHS, _MONTHS_SHORT)
)
_BIRTH_WORDS = r"(?:geboren|geb\.|geboortedatum|geboorte\s*datum|date of birth|born|dob|verjaardag)"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)\d{2,3}[\s-]?(?:\(0\)\s?)?\d(?:[\s-]?\d){6,10}"  # +31 6 12345678, 0049 30 1234567
    r"|0\d(?:[\s-]?\d){8}"  # 06-12345678, 020 123 4567
    r")(?![\w])"
)
_BSN = re.compile(r"(?<![\d.])\d(?:[\s.]?\d){8}(?![\d])")  # 9 digits, maybe written as 1234.56.789
_BIRTH_CONTEXT = re.compile(_BIRTH_WORDS + r"[^\d\n]{0,25}(" + _DATE + r")", re.IGNORECASE)
_FULL_DATE = re.compile(r"(?<!\d)" + _DATE + r"(?!\d)", re.IGNORECASE)


class Redaction(NamedTuple):
    text: str
    kinds: Tuple[str, ...]  # what was removed, in order of first appearance, without repeats


def passes_eleven_test(digits: str) -> bool:
    """The BSN check (the 11-test), for exactly 9 digits that are not all zeros."""
    if len(digits) != 9 or not digits.isdigit() or int(digits) == 0:
        return False
    return bool(stdnum_bsn.is_valid(digits))


def valid_iban(candidate: str) -> bool:
    """A valid IBAN: check digits, and the length and format of the account number of its country
    (an NL IBAN has 18 characters: NL, 2 check digits, a 4-letter bank code and 10 digits)."""
    return bool(stdnum_iban.is_valid(candidate, check_country=True))


def _year_of(match: re.Match) -> int:
    year = match.group("y1") or match.group("y2")
    if year is None:  # ISO date
        year = match.group(0)[:4]
    year = int(year)
    return year + (1900 if year >= 30 else 2000) if year < 100 else year


def redact(text: str, today: Optional[dt.date] = None) -> Redaction:
    """Returns the text with personal data replaced by placeholders, and the kinds found."""
    today = today or dt.date.today()
    found: List[str] = []

    def replace(kind: str, accept=lambda m: True):
        def substitute(match: re.Match) -> str:
            if not accept(match):
                return match.group(0)
            if kind not in found:
                found.append(kind)
            return PLACEHOLDER

        return substitute

    text = _EMAIL.sub(replace("email"), text)
    text = _IBAN.sub(replace("iban", lambda m: valid_iban(m.group(0))), text)
    text = _BIRTH_CONTEXT.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + replace("birth_date")(m), text)
    text = _FULL_DATE.sub(replace("birth_date", lambda m: _year_of(m) <= today.year - 12), text)
    text = _BSN.sub(replace("bsn", lambda m: passes_eleven_test(re.sub(r"\D", "", m.group(0)))), text)
    text = _PHONE.sub(replace("phone"), text)
    return Redaction(text, tuple(found))
