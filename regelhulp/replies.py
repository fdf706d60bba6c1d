"""Composing the bot's replies from knowledge-base entries. Pure functions, no Rasa."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, cast
from urllib.parse import urlparse

from regelhulp import dates
from regelhulp.conversation import Summary
from regelhulp.knowledge import (
    DEFAULT_LANGUAGE,
    Facet,
    HelpdeskContact,
    KnowledgeBase,
    Organisation,
    Refusal,
    RuleEntry,
    Source,
)

# Every function takes the conversation's language (`lang`: "nl" or "en", Dutch by default) and
# puts it in the reply's metadata, so the widget can mark each message with its language.


@dataclass
class Reply:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    metadata: Dict[str, object] = field(default_factory=dict)


def _reply(text: str, lang: str, buttons: Optional[List[Dict[str, str]]] = None, **metadata: Any) -> Reply:
    return Reply(text=text, buttons=buttons or [], metadata=dict(metadata, lang=lang))


def date_text(kb: KnowledgeBase, day: dt.date, lang: str = DEFAULT_LANGUAGE) -> str:
    """ "5 december 2026" / "5 December 2026"."""
    months = cast(List[str], kb.phrases_in(lang)["months"])
    return "%d %s %d" % (day.day, months[day.month - 1], day.year)


def link(label: str, url: str) -> str:
    return "[%s](%s)" % (label, url)


def organisation_link(org: Organisation) -> str:
    return link(org.abbreviation, org.website)


def _site(url: str) -> str:
    host = urlparse(url).netloc
    return host[4:] if host.startswith("www.") else host


def _organisation_name(kb: KnowledgeBase, entry: RuleEntry) -> str:
    """The entry's first organisation: the one that decides, or is asked first."""
    return kb.organisations[entry.organisations[0]].abbreviation


def _date_notes(kb: KnowledgeBase, entry: RuleEntry, status: Optional[str], lang: str, day: dt.date) -> List[str]:
    """What the answer must say because a date of its entry has passed without a later check."""
    notes = []
    organisation = _organisation_name(kb, entry)
    if dates.expired(entry, day) and entry.valid_until:
        notes.append(
            kb.phrase("until_passed", lang).format(
                date=date_text(kb, entry.valid_until, lang), organisation=organisation
            )
        )
    if (
        entry.pending_applies(status)
        and dates.pending_overdue(entry, day)
        and entry.pending_from
        and not (dates.expired(entry, day) and entry.pending_from == entry.valid_until)
    ):  # one note for one date
        notes.append(
            kb.phrase("pending_may_have_changed", lang).format(
                date=date_text(kb, entry.pending_from, lang), organisation=organisation
            )
        )
    return notes


def _pending_label(kb: KnowledgeBase, entry: RuleEntry, lang: str, day: dt.date) -> str:
    """ "Planned, not law yet" only before the change's start date (and while the entry itself still
    holds); after it, a neutral label: the entry's own text says what was planned."""
    started = dates.pending_started(entry, day) or dates.expired(entry, day)
    return kb.phrase("pending_was_planned" if started else "pending", lang)


def source_line(
    kb: KnowledgeBase, entry: RuleEntry, lang: str = DEFAULT_LANGUAGE, sources: Optional[Sequence[Source]] = None
) -> str:
    """ "Bron: [UWV](url), stand februari 2026 · nagekeken 7 december 2026": the entry's sources, or
    the ones given (a facet's), with the entry's check date."""
    months = kb.phrases_in(lang)["months"]
    lines = []
    for source in entry.sources if sources is None else sources:
        text = link(kb.organisations[source.organisation].abbreviation, source.url)
        version = dates.as_of_text(months, source)  # type: ignore[arg-type]
        lines.append("%s, %s" % (text, kb.phrase("as_of", lang).format(date=version)) if version else text)
    checked = kb.phrase("checked", lang).format(date=date_text(kb, entry.checked, lang))
    return "%s: %s" % (kb.phrase("source", lang), " · ".join(lines + [checked]))


def _footer(
    kb: KnowledgeBase, entry: RuleEntry, status: Optional[str], lang: str, today: Optional[dt.date] = None
) -> List[str]:
    """Notes on passed dates, caveats, organisations to contact and the source line with its dates.
    `today` defaults to regelhulp.dates.today() ($REGELHULP_TODAY or the system date)."""
    day = today or dates.today()
    parts = _date_notes(kb, entry, status, lang, day)
    if entry.state == "unclear":
        parts.append(kb.phrase("unclear", lang).format(organisation=_organisation_name(kb, entry)))
    if entry.pending_applies(status):
        parts.append("%s: %s" % (_pending_label(kb, entry, lang, day), entry.pending_in(lang)))
    contacts = ", ".join(organisation_link(kb.organisations[o]) for o in entry.organisations)
    parts.append("%s: %s" % (kb.phrase("contact", lang), contacts))
    parts.append(source_line(kb, entry, lang))
    return parts


def _metadata(entry: RuleEntry, status: Optional[str]) -> Dict[str, Any]:
    return {
        "rule_id": entry.id,
        "status": status if entry.depends_on_status else None,
        "state": entry.state,
        "checked": entry.checked.isoformat(),
        "sources": [s.url for s in entry.sources],
    }


def _payload(intent: str, **entities: str) -> str:
    return "/%s%s" % (intent, json.dumps(entities) if entities else "")


def facet_buttons(
    entry: RuleEntry,
    lang: str = DEFAULT_LANGUAGE,
    skip: Optional[Facet] = None,
    limit: int = 3,
    status: Optional[str] = None,
) -> List[Dict[str, str]]:
    """The entry's concrete questions as buttons (the ones people ask next), in the file's order;
    with a status known, only the questions that concern it."""
    facets = [f for f in entry.facets if f is not skip and f.concerns(status)][:limit]
    return [{"title": f.label_in(lang), "payload": _payload(entry.intent, facet=f.id)} for f in facets]


def also_button(kb: KnowledgeBase, intent: Optional[str], lang: str = DEFAULT_LANGUAGE) -> List[Dict[str, str]]:
    """ "Ook over: ..." for a neighbouring entry that may also answer the question."""
    other = kb.rule_for_intent(intent)
    return (
        [{"title": kb.phrase("also_about", lang).format(title=other.title_in(lang)), "payload": _payload(other.intent)}]
        if other
        else []
    )


def rule_answer(
    kb: KnowledgeBase, entry: RuleEntry, status: Optional[str], lang: str = DEFAULT_LANGUAGE, also: Optional[str] = None
) -> List[Reply]:
    """The full answer for an entry and a status in two messages: first, short, the title and the
    direct answer for the status; then the background for everybody, caveats, contacts and the
    source line, with buttons for the entry's concrete questions and, when given, a neighbouring
    entry (`also`, an intent)."""
    parts = ["**%s**" % entry.title_in(lang)]
    if entry.depends_on_status:
        group = kb.status_group(status) or kb.status_group("other")
        assert group is not None  # the knowledge base always has the group `other`
        parts.append(kb.phrase("answer_for_status", lang).format(status=group.in_language("label", lang).lower()))
    own, shared = entry.answer_parts(status, lang)
    direct, shared = (own, shared) if own else (shared or "", None)
    lead, more = lead_sentences(direct)
    parts.append(lead)
    rest = [part for part in (more, shared) if part]
    rest += _footer(kb, entry, status, lang)
    if entry.depends_on_status:
        rest.append(kb.phrase("correct_status_hint", lang))
    buttons = facet_buttons(entry, lang, status=status) + also_button(kb, also, lang)
    metadata = _metadata(entry, status)
    return [
        _reply("\n\n".join(parts), lang, part="answer", **metadata),
        _reply("\n\n".join(rest), lang, buttons, part="source", **metadata),
    ]


# The first message of an overview answer holds whole sentences of the direct answer up to about this
# many words (at least one sentence); the rest of the answer follows in the second message.
LEAD_WORDS = 45
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\u00C0-\u00DD'\"(\[*])")


def lead_sentences(text: str, limit: int = LEAD_WORDS) -> Tuple[str, str]:
    """TEXT split into its first sentences of at most LIMIT words together (at least one) and the rest."""
    sentences = _SENTENCE_END.split(text.strip())
    count, words = 0, 0
    for sentence in sentences:
        length = len(sentence.split())
        if count and words + length > limit:
            break
        count, words = count + 1, words + length
    return " ".join(sentences[:count]), " ".join(sentences[count:])


def _for_status(kb: KnowledgeBase, status: str, lang: str) -> str:
    group = kb.status_group(status)
    if status == "other" or group is None:
        return kb.phrase("for_other_status", lang)
    return kb.phrase("for_status", lang).format(status=group.in_language("label", lang).lower())


def facet_answer(
    kb: KnowledgeBase,
    entry: RuleEntry,
    facet: Facet,
    status: Optional[str],
    lang: str = DEFAULT_LANGUAGE,
    also: Optional[str] = None,
    today: Optional[dt.date] = None,
) -> List[Reply]:
    """The direct answer to one concrete question in one short message (with the status it is for
    when it is written for one status), then one line with its source and dates, and buttons: the
    entry's overview ("Meer over ..."), at most two related questions, "Gaat het om iemand anders?"
    for a status-specific answer, and a neighbouring entry when the question also fits one. The
    planned-change note, the organisations and the full source list belong to the overview."""
    answer = facet.answer_for(status, lang) or ""
    specific = bool(status) and facet.specific_to(status)
    if specific:
        answer = "%s: %s" % (_for_status(kb, status, lang), answer)  # type: ignore[arg-type]
    metadata = dict(_metadata(entry, status if specific else None), facet_id=facet.id)
    first = _reply(answer, lang, part="answer", **metadata)
    parts = _date_notes(kb, entry, status, lang, today or dates.today())
    parts.append(source_line(kb, entry, lang, facet.sources or entry.sources[:1]))
    buttons = [
        {"title": kb.phrase("more_about", lang).format(title=entry.title_in(lang)), "payload": _payload(entry.intent)}
    ]
    buttons += facet_buttons(entry, lang, skip=facet, limit=2, status=status)
    if specific:
        buttons.append({"title": kb.phrase("other_person", lang), "payload": "/inform_status"})
    buttons += also_button(kb, also, lang)
    return [first, _reply("\n\n".join(parts), lang, buttons, part="source", **metadata)]


def two_status_answer(
    kb: KnowledgeBase, entry: RuleEntry, facet: Optional[Facet], statuses: List[str], lang: str = DEFAULT_LANGUAGE
) -> Reply:
    """A question that names two status groups: a short part for each."""
    title = facet.question_in(lang) if facet else entry.title_in(lang)
    parts = ["**%s**" % title, kb.phrase("two_statuses", lang)]
    for status in statuses:
        answer = (facet.answer_for(status, lang) if facet and facet.concerns(status) else None) or entry.answer_for(
            status, lang
        )
        parts.append("**%s:** %s" % (_for_status(kb, status, lang), answer))
    parts += _footer(kb, entry, None, lang)
    metadata = dict(_metadata(entry, None), statuses=list(statuses), facet_id=facet.id if facet else None)
    return _reply("\n\n".join(parts), lang, facet_buttons(entry, lang, skip=facet), **metadata)


def refusal(kb: KnowledgeBase, refused: Optional[Refusal], lang: str = DEFAULT_LANGUAGE) -> Reply:
    """A polite refusal that says what Regelhulp does and where to go instead; never topic buttons."""
    key = refused.reply if refused else "refusal_general"
    return _reply(kb.phrase(key, lang), lang, refusal=refused.id if refused else "general")


def other_language(kb: KnowledgeBase, language: str) -> Reply:
    """A message in another language: one short reply in Dutch and English."""
    key = "other_language_ukrainian" if language in ("uk", "ru") else "other_language"
    return _reply(kb.phrase(key), DEFAULT_LANGUAGE, other_language=language)


def status_buttons(kb: KnowledgeBase, lang: str = DEFAULT_LANGUAGE) -> List[Dict[str, str]]:
    return [
        {"title": g.in_language("button", lang), "payload": "/inform_status%s" % json.dumps({"status": g.id})}
        for g in kb.status_groups
    ]


def ask_status(
    kb: KnowledgeBase, entry: RuleEntry, lang: str = DEFAULT_LANGUAGE, facet: Optional[Facet] = None
) -> Reply:
    """The status question; an entry with a shared answer gives that part first. For a concrete
    question (`facet`) whose answer depends on the status, the question is the title."""
    if facet is not None:
        text = "**%s**\n\n%s" % (facet.question_in(lang), kb.phrase("ask_status", lang))
        return _reply(text, lang, status_buttons(kb, lang), rule_id=entry.id, facet_id=facet.id, asks="status")
    title = "**%s**" % entry.title_in(lang)
    if not entry.answer:
        text = "%s\n\n%s" % (title, kb.phrase("ask_status", lang))
        return _reply(text, lang, status_buttons(kb, lang), rule_id=entry.id, asks="status")
    parts = [title, entry.shared_answer_in(lang) or ""] + _footer(kb, entry, None, lang)
    parts.append(kb.phrase("ask_status_for_rest", lang))
    return _reply("\n\n".join(parts), lang, status_buttons(kb, lang), asks="status", **_metadata(entry, None))


def status_noted(kb: KnowledgeBase, status: str, lang: str = DEFAULT_LANGUAGE) -> Reply:
    group = kb.status_group(status)
    if group is None:
        raise LookupError("unknown status group %r" % status)
    return _reply(kb.phrase("status_noted", lang).format(status=group.in_language("label", lang).lower()), lang)


def capabilities(kb: KnowledgeBase, lang: str = DEFAULT_LANGUAGE) -> Reply:
    lines = [kb.phrase("capabilities_intro", lang)]
    lines += ["- %s" % theme.in_language("label", lang) for theme in kb.themes]
    lines.append(kb.phrase("capabilities_outro", lang))
    return _reply("\n".join(lines), lang)


def organisation_answer(kb: KnowledgeBase, organisation_id: Optional[str], lang: str = DEFAULT_LANGUAGE) -> Reply:
    org = kb.organisations.get(organisation_id or "")
    if org is None:
        return _reply(kb.phrase("organisation_unknown", lang), lang)
    name = org.name if org.abbreviation == org.name else "%s (%s)" % (org.name, org.abbreviation)
    website = "%s: %s" % (kb.phrase("organisation_website", lang), link(_site(org.website), org.website))
    text = "**%s**\n\n%s\n\n%s" % (name, org.in_language("description", lang), website)
    return _reply(text, lang, organisation_id=org.id)


def intent_label(kb: KnowledgeBase, intent: str, lang: str = DEFAULT_LANGUAGE) -> str:
    entry = kb.rule_for_intent(intent)
    if entry:
        return entry.title_in(lang)
    return str(cast(Dict[str, str], kb.phrases_in(lang)["intent_labels"]).get(intent, intent))


def did_you_mean(kb: KnowledgeBase, options: List[str], lang: str = DEFAULT_LANGUAGE) -> Reply:
    """ "Bedoel je ...?": the candidate topics (intents) as buttons, plus 'something else'; without
    candidates, a request to rephrase."""
    if not options:
        return _reply(kb.phrase("rephrase_short", lang), lang, asks="rephrase")
    buttons = [{"title": intent_label(kb, i, lang), "payload": "/" + i} for i in options]
    buttons.append({"title": kb.phrase("something_else", lang), "payload": "/out_of_scope"})
    return _reply(kb.phrase("did_you_mean", lang), lang, buttons, asks="intent", options=list(options))


def did_you_mean_question(
    kb: KnowledgeBase, entry: RuleEntry, facets: List[Facet], lang: str = DEFAULT_LANGUAGE
) -> Reply:
    """A short message after an answer that is not clearly a question of the entry ("hoe lang heeft
    hij daarvoor?"): the entry's likely concrete questions as buttons, its overview and 'something else'."""
    buttons = [{"title": f.label_in(lang), "payload": _payload(entry.intent, facet=f.id)} for f in facets]
    buttons.append(
        {"title": kb.phrase("more_about", lang).format(title=entry.title_in(lang)), "payload": _payload(entry.intent)}
    )
    buttons.append({"title": kb.phrase("something_else", lang), "payload": "/out_of_scope"})
    text = kb.phrase("did_you_mean_question", lang).format(title=entry.title_in(lang))
    return _reply(text, lang, buttons, asks="facet", rule_id=entry.id, options=[f.id for f in facets])


def _site_and_path(url: str) -> str:
    parsed = urlparse(url)
    return (_site(url) + parsed.path).rstrip("/")


def helpdesk_line(kb: KnowledgeBase, contact: HelpdeskContact, lang: str = DEFAULT_LANGUAGE) -> str:
    key = "helpdesk_web_only"
    if contact.phone:
        key = "helpdesk_with_phone" if contact.hours else "helpdesk_phone_only"
    return kb.phrase(key, lang).format(
        name=contact.name,
        purpose=contact.purpose_in(lang).rstrip("."),
        phone=contact.phone,
        hours=contact.hours_in(lang),
        link=link(_site_and_path(contact.url), contact.url),
    )


def summary_lines(
    kb: KnowledgeBase, summary: Summary, lang: str = DEFAULT_LANGUAGE, today: Optional[dt.date] = None
) -> List[str]:
    """The conversation so far, for the person who takes over; nothing when nothing is known."""
    if summary.empty:
        return []
    lines = [kb.phrase("handoff_summary", lang)]
    group = kb.status_group(summary.status)
    if group:
        lines.append("- %s: %s" % (kb.phrase("summary_status", lang), group.in_language("label", lang)))
    titles = [kb.rule(t).title_in(lang) if kb.rule(t) else t for t in summary.themes]  # type: ignore[union-attr]
    if titles:
        lines.append("- %s: %s" % (kb.phrase("summary_themes", lang), ", ".join(titles)))
    last = kb.rule(summary.last_rule_id)
    if last:
        code = "%s: %s" % (kb.phrase("summary_rule_code", lang), last.id)
        lines.append("- %s: %s (%s)" % (kb.phrase("summary_last_answer", lang), last.title_in(lang), code))
        lines.append(
            "- %s: %s" % (kb.phrase("summary_dates", lang), _summary_dates(kb, last, lang, today or dates.today()))
        )
    return lines


def _summary_dates(kb: KnowledgeBase, entry: RuleEntry, lang: str, day: dt.date) -> str:
    """ "bronnen tot februari 2026, nagekeken 7 december 2026", and the dates that passed since."""
    months = kb.phrases_in(lang)["months"]
    dated = [s for s in entry.sources if s.as_of]
    newest = dates.as_of_text(months, max(dated, key=lambda s: s.as_of)) if dated else "?"  # type: ignore[arg-type, return-value]
    text = kb.phrase("summary_dates_text", lang).format(as_of=newest, checked=date_text(kb, entry.checked, lang))
    passed = [r.date for r in dates.review_reasons(entry, day) if r.kind in ("pending_from", "until")]
    for changed_on in sorted(set(passed)):
        text += "; " + kb.phrase("summary_date_passed", lang).format(date=date_text(kb, changed_on, lang))
    return text


def handoff(kb: KnowledgeBase, summary: Summary, fallback: bool = False, lang: str = DEFAULT_LANGUAGE) -> Reply:
    """Where to get personal help, with a summary of the conversation to pass on.

    `fallback`: the assistant gives up after not understanding (instead of a request for a person).
    The summary also goes out as metadata (`handoff`), for a helpdesk system to take over.
    """
    intro = kb.phrase("fallback_intro" if fallback else "handoff_intro", lang)
    blocks = ["\n".join([intro] + [helpdesk_line(kb, contact, lang) for contact in kb.helpdesk])]
    summary_block = summary_lines(kb, summary, lang)
    if summary_block:
        blocks.append("\n".join(summary_block))
    if fallback:
        blocks.append(kb.phrase("fallback_outro", lang))
    return _reply("\n\n".join(blocks), lang, handoff=summary.as_metadata("fallback" if fallback else "request"))
