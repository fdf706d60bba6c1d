"""Today's date and what it means for a rule entry's dates. Pure functions, no Rasa.

An entry has `checked` (its editorial check), optional `pending_from` (when its planned change was
meant to start), `valid_until` (`until`: the rule as written holds up to and including this day)
and `valid_from` (`from`); each source has `as_of` (the version of the page that was read).
Today is $REGELHULP_TODAY (an ISO date, for tests and demos) or else the system date.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence

from regelhulp.knowledge import RuleEntry, Source

TODAY_ENV = "REGELHULP_TODAY"


def today() -> dt.date:
    """$REGELHULP_TODAY when set (YYYY-MM-DD), else the system date."""
    value = os.environ.get(TODAY_ENV, "").strip()
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("%s=%r is not a date like 2026-12-07" % (TODAY_ENV, value)) from None


def pending_started(entry: RuleEntry, day: dt.date) -> bool:
    """The planned change has a start date and that date has come."""
    return bool(entry.pending) and entry.pending_from is not None and day >= entry.pending_from


def pending_overdue(entry: RuleEntry, day: dt.date) -> bool:
    """The planned change was meant to start by now and the entry was not checked since then:
    nobody knows whether it happened, so the change must not be called "planned"."""
    return pending_started(entry, day) and entry.checked < entry.pending_from  # type: ignore[operator]


def expired(entry: RuleEntry, day: dt.date) -> bool:
    """The rule as written held up to and including `until`, and that day is over."""
    return entry.valid_until is not None and day > entry.valid_until


def not_yet_valid(entry: RuleEntry, day: dt.date) -> bool:
    """The rule as written only holds from `from`, and that day has not come."""
    return entry.valid_from is not None and day < entry.valid_from


@dataclass(frozen=True)
class Reason:
    """Why an entry needs a look: `kind` is "pending_from", "until" or "from"; `date` the date that matters."""

    kind: str
    date: dt.date


def review_reasons(entry: RuleEntry, day: dt.date) -> List[Reason]:
    """The dates of ENTRY that have passed (or not come) without a later check, oldest first."""
    reasons = []
    if pending_overdue(entry, day):
        reasons.append(Reason("pending_from", entry.pending_from))  # type: ignore[arg-type]
    if expired(entry, day):
        reasons.append(Reason("until", entry.valid_until))  # type: ignore[arg-type]
    if not_yet_valid(entry, day):
        reasons.append(Reason("from", entry.valid_from))  # type: ignore[arg-type]
    return sorted(reasons, key=lambda r: r.date)


def day_text(months: Sequence[str], day: dt.date) -> str:
    """ "7 december 2026" with the month names of a language (phrases `months`)."""
    return "%d %s %d" % (day.day, months[day.month - 1], day.year)


def month_text(months: Sequence[str], day: dt.date) -> str:
    """ "februari 2026"."""
    return "%s %d" % (months[day.month - 1], day.year)


def as_of_text(months: Sequence[str], source: Source) -> Optional[str]:
    """The version of a source in words: the day when `as_of` names one, else the month."""
    if source.as_of is None:
        return None
    return day_text(months, source.as_of) if source.as_of_day else month_text(months, source.as_of)
