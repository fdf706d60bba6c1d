"""The kennisbank page: every rule entry of the knowledge base on one HTML page, for the helpdesk
and the content team. Served at /kennisbank by scripts/web_server.py and written into the static
export that nginx serves in the production profile; rendered once, at start-up.

Every value from knowledge/ goes through html.escape; on top of that, answers get only the safe
Markdown subset the widget also shows (https links and **bold**). The page has no inline script,
style or event handler (search and filters are in web/kennisbank.js, the look in
web/kennisbank.css), so it works under CONTENT_SECURITY_POLICY; without JavaScript every entry
is shown and the filter controls stay hidden.
"""
from __future__ import annotations

import datetime as dt
import re
from html import escape
from typing import List, Optional

from actions.answers import date_text
from actions.knowledge import MAX_CHECKED_AGE_DAYS, KnowledgeBase, RuleEntry, stale_rules

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
    "checked": "Gecontroleerd",
    "organisations": "Organisaties",
    "sources": "Bronnen",
    "answer_all": "Voor iedereen",
    "pending": "Gepland, nog geen wet",
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


def _answers(kb: KnowledgeBase, entry: RuleEntry) -> List[str]:
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
        parts.append(
            '<div class="kb-pending"%s><h4>%s</h4><p>%s</p>%s</div>'
            % (groups, escape(TEXT["pending"]), markdown_text(entry.pending), concerns)
        )
    return parts


def _entry(kb: KnowledgeBase, entry: RuleEntry, theme_label: str, stale: bool, max_age_days: int) -> str:
    rid = escape(entry.id, quote=True)
    checked = '<time datetime="%s">%s</time>' % (entry.checked.isoformat(), escape(date_text(kb, entry.checked)))
    if stale:
        checked += ' <strong class="kb-stale">%s</strong>' % escape(TEXT["stale"] % max_age_days)
    organisations = "".join(
        "<li>%s (%s)</li>" % (_link(org.website, org.abbreviation), escape(org.name))
        for org in (kb.organisations[o] for o in entry.organisations)
    )
    sources = "".join(
        "<li>%s (%s)</li>" % (_link(s.url, s.url), escape(kb.organisations[s.organisation].abbreviation))
        for s in entry.sources
    )
    meta = [
        (TEXT["id"], '<a href="#%s">%s</a>' % (rid, rid)),
        (TEXT["theme"], escape(theme_label)),
        (TEXT["state"], '<span class="kb-state kb-state-%s">%s</span>' % (escape(entry.state), escape(STATE_LABELS[entry.state]))),
        (TEXT["checked"], checked),
        (TEXT["organisations"], '<ul class="kb-list">%s</ul>' % organisations),
    ]
    return "\n".join(
        [
            '<article class="kb-entry%s" id="%s" data-theme="%s">' % (" kb-entry-stale" if stale else "", rid, escape(entry.theme, quote=True)),
            "<h3>%s</h3>" % escape(entry.title),
            '<dl class="kb-meta">%s</dl>' % "".join("<dt>%s</dt><dd>%s</dd>" % (escape(k), v) for k, v in meta),
            *_answers(kb, entry),
            '<h4>%s</h4><ul class="kb-list kb-sources">%s</ul>' % (escape(TEXT["sources"]), sources),
            "</article>",
        ]
    )


def _options(first: str, items) -> str:  # type: ignore[no-untyped-def]
    options = ['<option value="">%s</option>' % escape(first)]
    options += ['<option value="%s">%s</option>' % (escape(value, quote=True), escape(label)) for value, label in items]
    return "".join(options)


def render_page(kb: KnowledgeBase, today: Optional[dt.date] = None, max_age_days: int = MAX_CHECKED_AGE_DAYS) -> str:
    """The whole page, every rule entry grouped by theme (in the order of themes.yml)."""
    today = today or dt.date.today()
    stale = {r.id for r in stale_rules(kb, today, max_age_days)}
    sections = []
    for theme in kb.themes:
        entries = [r for r in kb.rules if r.theme == theme.id]
        if not entries:
            continue
        sections.append(
            '<section class="kb-theme" data-theme="%s" aria-labelledby="thema-%s">\n<h2 id="thema-%s">%s</h2>\n%s\n</section>'
            % (escape(theme.id, quote=True), escape(theme.id, quote=True), escape(theme.id, quote=True), escape(theme.label),
               "\n".join(_entry(kb, r, theme.label, r.id in stale, max_age_days) for r in entries))
        )
    summary = ""
    if stale:
        summary = '<p class="kb-stale-summary">%s</p>' % escape(TEXT["stale_summary"] % (len(stale), len(kb.rules), max_age_days))
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
        sections="\n".join(sections),
    )
