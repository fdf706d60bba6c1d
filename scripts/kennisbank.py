"""The kennisbank page: every rule entry of the knowledge base on one HTML page, for the helpdesk
and the content team. Served at /kennisbank by scripts/web_server.py and written into the static
export that nginx serves in the production profile; rendered once, at start-up.

Every value from knowledge/ goes through html.escape; on top of that, answers get only the safe
Markdown subset the widget also shows (https links and **bold**). The page has no inline script,
style or event handler (search and filters are in web/kennisbank.js, the look in
web/kennisbank.css), so it works under CONTENT_SECURITY_POLICY; without JavaScript every entry
is shown and the filter controls stay hidden.

Per entry it shows the dates (checked; per source the version read, `as_of`, and its state in the
last `make check-sources`; `from`, `until` and the planned change's `pending_from`) and marks the
entries that need a review (scripts/review.py): the filter "needs review" shows only those.
"""
from __future__ import annotations

import datetime as dt
import re
from html import escape
from typing import List, Optional

from actions import dates
from actions.answers import date_text
from actions.knowledge import MAX_CHECKED_AGE_DAYS, KnowledgeBase, RuleEntry, Source
from scripts.review import SOURCE_KIND_TEXT, Review, reason_lines, review

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

# the widget's subset, matched on text that is already escaped: **bold** or [label](https://...)
_MARKDOWN = re.compile(r"\*\*([^*]+)\*\*|\[([^\]\[]+)\]\((https://[^\s()]+)\)")


def _markup(match: "re.Match[str]") -> str:
    if match.group(1) is not None:
        return "<strong>%s</strong>" % match.group(1)
    return '<a href="%s" rel="noopener noreferrer">%s</a>' % (match.group(3), match.group(2))


def markdown_text(text: str) -> str:
    """Escapes TEXT, then turns **bold** and Markdown links to https addresses into HTML."""
    return _MARKDOWN.sub(_markup, escape(text, quote=True))


def _link(url: str, label: str) -> str:
    return '<a href="%s" rel="noopener noreferrer">%s</a>' % (escape(url, quote=True), escape(label))


def _answers(kb: KnowledgeBase, entry: RuleEntry, today: dt.date) -> List[str]:
    parts = []
    if entry.answer:
        parts.append(
            '<div class="kb-answer"><h4>%s</h4><p>%s</p></div>'
            % (escape(TEXT["answer_all"]), markdown_text(entry.answer))
        )
    for group in kb.status_groups:
        if group.id in entry.answers:
            parts.append(
                '<div class="kb-answer" data-status="%s"><h4>%s</h4><p>%s</p></div>'
                % (escape(group.id), escape(group.label), markdown_text(entry.answers[group.id]))
            )
    if entry.pending:
        concerns = ""
        groups = ""
        if entry.pending_for:
            groups = ' data-status="%s"' % escape(" ".join(entry.pending_for))
            labels = ", ".join(kb.status_group(g).label for g in entry.pending_for)
            concerns = "<p>%s: %s</p>" % (escape(TEXT["pending_for"]), escape(labels))
        label = TEXT["pending_was_planned"] if dates.pending_started(entry, today) or dates.expired(entry, today) else TEXT["pending"]
        if entry.pending_from:
            concerns += "<p>%s</p>" % _time(entry.pending_from, TEXT["pending_from"], date_text(kb, entry.pending_from))
        parts.append(
            '<div class="kb-pending"%s><h4>%s</h4><p>%s</p>%s</div>'
            % (groups, escape(label), markdown_text(entry.pending), concerns)
        )
    return parts


def _time(day: dt.date, template: str, words: str) -> str:
    """TEMPLATE ("Zou ingaan op %s") with a <time> element for DAY."""
    return escape(template).replace("%s", '<time datetime="%s">%s</time>' % (day.isoformat(), escape(words)))


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
        text = TEXT["source_change"] % (SOURCE_KIND_TEXT.get(change["kind"], change["kind"]), _day_words(kb, str(change.get("on"))))
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


def _source(kb: KnowledgeBase, source: Source, state: dict) -> str:
    months = kb.phrases_in()["months"]
    version = dates.as_of_text(months, source)  # type: ignore[arg-type]
    parts = [escape(kb.organisations[source.organisation].abbreviation)]
    if version and source.as_of:
        parts.append(_time(source.as_of, TEXT["as_of"], version))
    parts.append('<span class="kb-source-state">%s</span>' % escape(_source_state(kb, source.url, state)))
    return "<li>%s (%s)</li>" % (_link(source.url, source.url), ", ".join(parts))


def _facets(kb: KnowledgeBase, entry: RuleEntry) -> List[str]:
    """The entry's concrete questions with their short answers (per status group where they differ),
    as text, so the page's search finds them."""
    if not entry.facets:
        return []
    items = []
    for facet in entry.facets:
        text = facet.text_in()
        answers = [escape(text.answer)] if text.answer else []
        answers += ["<em>%s:</em> %s" % (escape(kb.status_group(group).label), escape(answer))  # type: ignore[union-attr]
                    for group, answer in text.answers.items() if kb.status_group(group)]
        items.append('<li id="%s"><strong>%s</strong> %s</li>' % (
            escape(facet.id, quote=True), escape(text.question), " ".join(answers)))
    return ['<h4>%s</h4><ul class="kb-list kb-facets">%s</ul>' % (escape(TEXT["facets"]), "".join(items))]


def _entry(kb: KnowledgeBase, entry: RuleEntry, theme_label: str, stale: bool, max_age_days: int,
           item: Optional[Review] = None, today: Optional[dt.date] = None, state: Optional[dict] = None) -> str:
    rid = escape(entry.id, quote=True)
    today = today or dates.today()
    state = state or {}
    checked = '<time datetime="%s">%s</time>' % (entry.checked.isoformat(), escape(date_text(kb, entry.checked)))
    if stale:
        checked += ' <strong class="kb-stale">%s</strong>' % escape(TEXT["stale"] % max_age_days)
    needs_review = bool(item and item.needed)
    organisations = "".join(
        "<li>%s (%s)</li>" % (_link(org.website, org.abbreviation), escape(org.name))
        for org in (kb.organisations[o] for o in entry.organisations)
    )
    sources = "".join(_source(kb, s, state) for s in entry.sources)
    meta = [
        (TEXT["id"], '<a href="#%s">%s</a>' % (rid, rid)),
        (TEXT["theme"], escape(theme_label)),
        (TEXT["state"], '<span class="kb-state kb-state-%s">%s</span>' % (
            ("expired", escape(TEXT["expired"] % date_text(kb, entry.valid_until))) if dates.expired(entry, today)  # type: ignore[arg-type]
            else (escape(entry.state), escape(STATE_LABELS[entry.state])))),
        (TEXT["checked"], checked),
        (TEXT["organisations"], '<ul class="kb-list">%s</ul>' % organisations),
    ]
    if entry.valid_from:
        meta.append((TEXT["valid_from"], _time(entry.valid_from, "%s", date_text(kb, entry.valid_from))))
    if entry.valid_until:
        meta.append((TEXT["valid_until"], _time(entry.valid_until, "%s", date_text(kb, entry.valid_until))))
    if entry.facets:
        meta.append((TEXT["facets"], str(len(entry.facets))))
    if needs_review:
        reasons = "".join("<li>%s</li>" % escape(line) for line in reason_lines(item, lambda d: date_text(kb, d)))  # type: ignore[arg-type]
        meta.append((TEXT["review"], '<ul class="kb-list kb-review">%s</ul>' % reasons))
    return "\n".join(
        [
            '<article class="kb-entry%s%s" id="%s" data-theme="%s"%s>' % (
                " kb-entry-stale" if stale else "", " kb-entry-review" if needs_review else "", rid,
                escape(entry.theme, quote=True), ' data-review="1"' if needs_review else ""),
            "<h3>%s</h3>" % escape(entry.title),
            '<dl class="kb-meta">%s</dl>' % "".join("<dt>%s</dt><dd>%s</dd>" % (escape(k), v) for k, v in meta),
            *_answers(kb, entry, today),
            *_facets(kb, entry),
            '<h4>%s</h4><ul class="kb-list kb-sources">%s</ul>' % (escape(TEXT["sources"]), sources),
            "</article>",
        ]
    )


def _options(first: str, items) -> str:  # type: ignore[no-untyped-def]
    options = ['<option value="">%s</option>' % escape(first)]
    options += ['<option value="%s">%s</option>' % (escape(value, quote=True), escape(label)) for value, label in items]
    return "".join(options)


def render_page(kb: KnowledgeBase, today: Optional[dt.date] = None, max_age_days: int = MAX_CHECKED_AGE_DAYS,
                sources_state: Optional[dict] = None) -> str:
    """The whole page, every rule entry grouped by theme (in the order of themes.yml).
    SOURCES_STATE: the state of the last `make check-sources` (check_sources.load_state())."""
    today = today or dates.today()
    reviews = {r.id: review(r, today, sources_state, max_age_days) for r in kb.rules}
    stale = {rid for rid, item in reviews.items() if item.stale_days}
    sections = []
    for theme in kb.themes:
        entries = [r for r in kb.rules if r.theme == theme.id]
        if not entries:
            continue
        sections.append(
            '<section class="kb-theme" data-theme="%s" aria-labelledby="thema-%s">\n<h2 id="thema-%s">%s</h2>\n%s\n</section>'
            % (escape(theme.id, quote=True), escape(theme.id, quote=True), escape(theme.id, quote=True), escape(theme.label),
               "\n".join(_entry(kb, r, theme.label, r.id in stale, max_age_days, reviews[r.id], today, sources_state)
                         for r in entries))
        )
    summary = ""
    if stale:
        summary = '<p class="kb-stale-summary">%s</p>' % escape(TEXT["stale_summary"] % (len(stale), len(kb.rules), max_age_days))
    to_review = sum(1 for item in reviews.values() if item.needed)
    if to_review:
        summary += '\n<p class="kb-stale-summary kb-review-summary">%s</p>' % escape(TEXT["review_summary"] % (to_review, len(kb.rules)))
    made = TEXT["made"] % (len(kb.rules), date_text(kb, today), kb.fingerprint)
    return """<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/kennisbank.css">
<script src="/kennisbank.js" defer></script>
</head>
<body>
<a class="kb-skip" href="#kb-results">{skip}</a>
<header class="kb-header">
<h1>{title}</h1>
<p>{intro}</p>
<p class="kb-made">{made}</p>
{summary}
</header>
<div class="kb-filters" id="kb-filters" role="search" aria-label="{filters}" hidden>
<div class="kb-field"><label for="kb-search">{search}</label><input type="search" id="kb-search" autocomplete="off"></div>
<div class="kb-field"><label for="kb-theme">{theme}</label><select id="kb-theme">{themes}</select></div>
<div class="kb-field"><label for="kb-status">{status}</label><select id="kb-status">{groups}</select></div>
<div class="kb-field kb-check"><label><input type="checkbox" id="kb-review"> {review_only}</label></div>
<p class="kb-count" id="kb-count" role="status" aria-live="polite"></p>
</div>
<main id="kb-results">
<p class="kb-empty" id="kb-empty" hidden>{no_results}</p>
{sections}
</main>
</body>
</html>
""".format(
        title=escape(TEXT["title"]),
        skip=escape(TEXT["skip"]),
        intro=escape(TEXT["intro"]),
        made=escape(made),
        summary=summary,
        filters=escape(TEXT["filters"], quote=True),
        search=escape(TEXT["search"]),
        theme=escape(TEXT["theme"]),
        themes=_options(TEXT["all_themes"], ((t.id, t.label) for t in kb.themes)),
        status=escape(TEXT["status"]),
        groups=_options(TEXT["all_status"], ((g.id, g.label) for g in kb.status_groups)),
        no_results=escape(TEXT["no_results"]),
        review_only=escape(TEXT["review_only"]),
        sections="\n".join(sections),
    )
