"""Which rule entries the content team must look at first, and why: a date that passed without a
later check (regelhulp/dates.py), a source page that changed, moved or disappeared after the entry's
last check (the state of the last `make check-sources`), or a check that is long ago. Used by the
kennisbank page and `make insights`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from regelhulp import dates
from regelhulp.knowledge import MAX_CHECKED_AGE_DAYS, KnowledgeBase, RuleEntry
from regelhulp.paths import ROOT

STATE_FILE = ROOT / "reports" / "sources_state.json"  # written by `make check-sources` (ops/check_sources.py)
CHANGE_KINDS = ("changed", "moved", "gone", "unreachable", "back")  # what a source check can report as a change


def load_state(path: Path = STATE_FILE) -> dict:
    """The state of the last source check ({} when there was none or it cannot be read)."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


@dataclass(frozen=True)
class SourceChange:
    url: str
    kind: str  # one of CHANGE_KINDS
    on: dt.date  # the day the change was found


@dataclass(frozen=True)
class Review:
    entry: RuleEntry
    dates: Tuple[dates.Reason, ...] = ()
    sources: Tuple[SourceChange, ...] = ()
    stale_days: Optional[int] = None  # days since `checked`, when more than MAX_CHECKED_AGE_DAYS

    @property
    def needed(self) -> bool:
        return bool(self.dates or self.sources or self.stale_days)

    @property
    def first_date(self) -> dt.date:
        """The earliest date that asks for a review (for sorting)."""
        found = [r.date for r in self.dates] + [s.on for s in self.sources]
        return min(found) if found else self.entry.checked


def entry_urls(entry: RuleEntry) -> List[str]:
    """The entry's source URLs and those of its facets, each once."""
    urls = [s.url for s in entry.sources] + [s.url for f in entry.facets for s in f.sources]
    return list(dict.fromkeys(urls))


def source_changes(entry: RuleEntry, state: dict) -> Tuple[SourceChange, ...]:
    """The changes to the entry's source pages found on or after the day of its last check."""
    records: Dict[str, dict] = state.get("sources") or {}
    found = []
    for url in entry_urls(entry):
        change = (records.get(url) or {}).get("change") or {}
        try:
            on = dt.date.fromisoformat(str(change.get("on")))
        except ValueError:
            continue
        if change.get("kind") in CHANGE_KINDS and on >= entry.checked:
            found.append(SourceChange(url, str(change["kind"]), on))
    return tuple(found)


def review(
    entry: RuleEntry, today: dt.date, state: Optional[dict] = None, max_age_days: int = MAX_CHECKED_AGE_DAYS
) -> Review:
    age = (today - entry.checked).days
    return Review(
        entry,
        tuple(dates.review_reasons(entry, today)),
        source_changes(entry, state or {}),
        age if age > max_age_days else None,
    )


def to_review(
    kb: KnowledgeBase,
    today: Optional[dt.date] = None,
    state: Optional[dict] = None,
    max_age_days: int = MAX_CHECKED_AGE_DAYS,
) -> List[Review]:
    """The entries that need a review, those with a passed date or a changed source first, then
    the long unchecked ones; within each, the earliest date first."""
    today = today or dates.today()
    found = [r for r in (review(e, today, state, max_age_days) for e in kb.rules) if r.needed]
    return sorted(found, key=lambda r: (not (r.dates or r.sources), r.first_date, r.entry.id))


# Dutch words for the reasons, for the staff pages (kennisbank, insights report)
REASON_TEXT = {
    "pending_from": "De geplande verandering zou ingaan op {date}; sindsdien niet nagekeken",
    "until": "Gold tot en met {date}; die datum is voorbij",
    "from": "Geldt pas vanaf {date}",
    "source": "Bron {kind} (gevonden op {date}): {url}",
    "stale": "Al {days} dagen niet nagekeken",
}
SOURCE_KIND_TEXT = {
    "changed": "tekst gewijzigd",
    "moved": "verplaatst",
    "gone": "verdwenen",
    "unreachable": "niet bereikbaar",
    "back": "weer bereikbaar",
}


def reason_lines(item: Review, day_text: Callable[[dt.date], str]) -> List[str]:
    """One Dutch line per reason; DAY_TEXT turns a date into words."""
    lines = [REASON_TEXT[reason.kind].format(date=day_text(reason.date)) for reason in item.dates]
    lines += [
        REASON_TEXT["source"].format(kind=SOURCE_KIND_TEXT.get(c.kind, c.kind), date=day_text(c.on), url=c.url)
        for c in item.sources
    ]
    if item.stale_days:
        lines.append(REASON_TEXT["stale"].format(days=item.stale_days))
    return lines
