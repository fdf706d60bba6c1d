"""The kennisbank page: every rule entry of the knowledge base on one HTML page, for the helpdesk
and the content team. Served at /kennisbank by regelhulp/web/server.py and written into the static
export that nginx serves in the production profile; rendered once, at start-up.

The page is a Jinja2 template with autoescape (regelhulp/templates/kennisbank.html), so every value
from knowledge/ is escaped; answers get only the safe Markdown subset the widget also shows (https
links and **bold**, the `markdown` macro). The page has no inline script,
style or event handler (search and filters are in web/kennisbank.js, the look in
web/kennisbank.css), so it works under CONTENT_SECURITY_POLICY; without JavaScript every entry
is shown and the filter controls stay hidden.

Per entry it shows the dates (checked; per source the version read, `as_of`, and its state in the
last `make check-sources`; `from`, `until` and the planned change's `pending_from`) and marks the
entries that need a review (regelhulp/review.py): the filter "needs review" shows only those.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

from regelhulp import dates
from regelhulp.knowledge import MAX_CHECKED_AGE_DAYS, KnowledgeBase, RuleEntry, Source
from regelhulp.replies import date_text
from regelhulp.review import SOURCE_KIND_TEXT, Review, reason_lines, review
from regelhulp.templating import html_environment, render_html

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

STATE_LABELS = {
    "in_force": "Geldt nu",
    "pending_change": "Wijziging gepland",
    "unclear": "Onduidelijk",
}

TEXT = {
    "title": "Kennisbank van Regelhulp",
    "intro": "Alle regels waarmee Regelhulp antwoordt, met de bronnen en de datum waarop ze zijn "
    "gecontroleerd. Voor de helpdesk en de redactie.",
    "skip": "Direct naar de regels",
    "filters": "Zoeken en filteren",
    "search": "Zoek op trefwoord",
    "theme": "Thema",
    "all_themes": "Alle thema's",
    "status": "Statusgroep",
    "all_status": "Alle statusgroepen",
    "no_results": "Geen regels gevonden. Probeer een ander woord of zet een filter terug.",
    "id": "Id",
    "state": "Stand",
    "checked": "Nagekeken",
    "valid_from": "Geldt vanaf",
    "valid_until": "Geldt tot en met",
    "expired": "Gold tot en met %s",
    "facets": "Concrete vragen",
    "as_of": "stand %s",
    "source_ok": "bij de laatste controle (%s) bereikbaar, HTTP %s",
    "source_change": "%s bij de controle van %s",
    "source_moved_to": "nu: %s",
    "source_unknown": "nog niet gecontroleerd met make check-sources",
    "review": "Nakijken",
    "review_only": "Alleen regels om na te kijken",
    "review_summary": "%d van de %d regels moeten worden nagekeken.",
    "organisations": "Organisaties",
    "sources": "Bronnen",
    "answer_all": "Voor iedereen",
    "pending": "Gepland, nog geen wet",
    "pending_was_planned": "Wat eerder gepland was",
    "pending_from": "Zou ingaan op %s",
    "pending_for": "Gaat over",
    "stale": "Controle nodig: langer dan %d dagen geleden gecontroleerd",
    "stale_summary": "%d van de %d regels zijn langer dan %d dagen niet gecontroleerd.",
    "made": "%d regels · gemaakt op %s · versie %s",
}


def markdown_text(text: str) -> str:
    """TEXT escaped, with **bold** and Markdown links to https addresses as HTML (as on the page)."""
    return html_environment().from_string('{% import "macros.html" as m %}{{ m.markdown(text) }}').render(text=text)


def _answers(kb: KnowledgeBase, entry: RuleEntry, today: dt.date) -> List[Dict[str, Any]]:
    answers: List[Dict[str, Any]] = []
    if entry.answer:
        answers.append({"status": None, "label": TEXT["answer_all"], "text": entry.answer})
    answers += [
        {"status": group.id, "label": group.label, "text": entry.answers[group.id]}
        for group in kb.status_groups
        if group.id in entry.answers
    ]
    return answers


def _pending(kb: KnowledgeBase, entry: RuleEntry, today: dt.date) -> Optional[Dict[str, Any]]:
    if not entry.pending:
        return None
    started = dates.pending_started(entry, today) or dates.expired(entry, today)
    return {
        "groups": " ".join(entry.pending_for),
        "concerns": ", ".join(kb.status_group(g).label for g in entry.pending_for),  # type: ignore[union-attr]
        "label": TEXT["pending_was_planned"] if started else TEXT["pending"],
        "text": entry.pending,
        "start": entry.pending_from,
        "start_words": date_text(kb, entry.pending_from) if entry.pending_from else "",
    }


def _source_state(kb: KnowledgeBase, url: str, state: dict) -> str:
    """The source page in the last `make check-sources`: reachable, or what happened to it."""
    runs = state.get("sources") or {}
    record = runs.get(url)
    if not record:
        return TEXT["source_unknown"]
    fetched = str(record.get("fetched") or state.get("run") or "")[:10]
    when = _day_words(kb, fetched)
    change = record.get("change") or {}
    if change.get("kind"):
        text = TEXT["source_change"] % (
            SOURCE_KIND_TEXT.get(change["kind"], change["kind"]),
            _day_words(kb, str(change.get("on"))),
        )
        if change["kind"] == "moved" and record.get("final_url"):
            text += "; " + TEXT["source_moved_to"] % record["final_url"]
        if record.get("status") and record["status"] >= 400:
            text += "; HTTP %s" % record["status"]
        return text
    if record.get("error") or (record.get("status") or 999) >= 400:
        return "%s (%s)" % (when, record.get("error") or "HTTP %s" % record.get("status"))
    return TEXT["source_ok"] % (when, record.get("status"))


def _day_words(kb: KnowledgeBase, iso: str) -> str:
    try:
        return date_text(kb, dt.date.fromisoformat(iso[:10]))
    except ValueError:
        return iso


def _source(kb: KnowledgeBase, source: Source, state: dict) -> Dict[str, Any]:
    months = kb.phrases_in()["months"]
    version = dates.as_of_text(months, source) if source.as_of else None  # type: ignore[arg-type]
    return {
        "url": source.url,
        "abbreviation": kb.organisations[source.organisation].abbreviation,
        "as_of": source.as_of,
        "version": version,
        "state": _source_state(kb, source.url, state),
    }


def _facets(kb: KnowledgeBase, entry: RuleEntry) -> List[Dict[str, Any]]:
    """The entry's concrete questions with their short answers (per status group where they differ),
    as text, so the page's search finds them."""
    facets = []
    for facet in entry.facets:
        text = facet.text_in()
        answers: List[Tuple[Optional[str], str]] = [(None, text.answer)] if text.answer else []
        answers += [
            (kb.status_group(group).label, answer)  # type: ignore[union-attr]
            for group, answer in text.answers.items()
            if kb.status_group(group)
        ]
        facets.append({"id": facet.id, "question": text.question, "answers": answers})
    return facets


def _entry(
    kb: KnowledgeBase,
    entry: RuleEntry,
    theme_label: str,
    stale: bool,
    max_age_days: int,
    item: Optional[Review] = None,
    today: Optional[dt.date] = None,
    state: Optional[dict] = None,
) -> Dict[str, Any]:
    """What the template shows of one entry (kennisbank.html, macro `entry`)."""
    today = today or dates.today()
    expired = dates.expired(entry, today)
    return {
        "id": entry.id,
        "theme": entry.theme,
        "theme_label": theme_label,
        "title": entry.title,
        "stale": stale,
        "reasons": list(reason_lines(item, lambda d: date_text(kb, d))) if item and item.needed else [],
        "state_class": "expired" if expired else entry.state,
        "state_label": TEXT["expired"] % date_text(kb, entry.valid_until) if expired else STATE_LABELS[entry.state],  # type: ignore[arg-type]
        "checked": entry.checked,
        "checked_words": date_text(kb, entry.checked),
        "organisations": [kb.organisations[o] for o in entry.organisations],
        "valid_from": entry.valid_from,
        "valid_from_words": date_text(kb, entry.valid_from) if entry.valid_from else "",
        "valid_until": entry.valid_until,
        "valid_until_words": date_text(kb, entry.valid_until) if entry.valid_until else "",
        "answers": _answers(kb, entry, today),
        "pending": _pending(kb, entry, today),
        "facets": _facets(kb, entry),
        "sources": [_source(kb, s, state or {}) for s in entry.sources],
    }


def render_page(
    kb: KnowledgeBase,
    today: Optional[dt.date] = None,
    max_age_days: int = MAX_CHECKED_AGE_DAYS,
    sources_state: Optional[dict] = None,
) -> str:
    """The whole page, every rule entry grouped by theme (in the order of themes.yml).
    SOURCES_STATE: the state of the last `make check-sources` (regelhulp.review.load_state())."""
    today = today or dates.today()
    reviews = {r.id: review(r, today, sources_state, max_age_days) for r in kb.rules}
    stale = {rid for rid, item in reviews.items() if item.stale_days}
    sections = []
    for theme in kb.themes:
        entries = [
            _entry(kb, r, theme.label, r.id in stale, max_age_days, reviews[r.id], today, sources_state)
            for r in kb.rules
            if r.theme == theme.id
        ]
        if entries:
            sections.append({"theme": theme, "entries": entries})
    made = TEXT["made"] % (len(kb.rules), date_text(kb, today), kb.fingerprint)
    to_review = sum(1 for item in reviews.values() if item.needed)
    return render_html(
        "kennisbank.html",
        TEXT=TEXT,
        made=made,
        max_age_days=max_age_days,
        stale_summary=TEXT["stale_summary"] % (len(stale), len(kb.rules), max_age_days) if stale else "",
        review_summary=TEXT["review_summary"] % (to_review, len(kb.rules)) if to_review else "",
        themes=kb.themes,
        status_groups=kb.status_groups,
        sections=sections,
    )
