"""Composing the bot's replies from knowledge-base entries. Pure functions, no Rasa."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional
from urllib.parse import urlparse

from actions.conversation import Summary
from actions.knowledge import HelpdeskContact, KnowledgeBase, Organisation, RuleEntry


@dataclass
class Reply:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    metadata: Dict[str, object] = field(default_factory=dict)


def dutch_date(kb: KnowledgeBase, day: dt.date) -> str:
    months = kb.phrases["months"]
    return "%d %s %d" % (day.day, months[day.month - 1], day.year)


def link(label: str, url: str) -> str:
    return "[%s](%s)" % (label, url)


def organisation_link(org: Organisation) -> str:
    return link(org.abbreviation, org.website)


def _site(url: str) -> str:
    host = urlparse(url).netloc
    return host[4:] if host.startswith("www.") else host


def _footer(kb: KnowledgeBase, entry: RuleEntry, status: Optional[str]) -> List[str]:
    """Caveats, organisations to contact and the source line with the checked date."""
    parts = []
    if entry.state == "unclear":
        parts.append(kb.phrase("unclear").format(organisation=kb.organisations[entry.organisations[0]].abbreviation))
    if entry.pending_applies(status):
        parts.append("%s: %s" % (kb.phrase("pending"), entry.pending))
    contacts = ", ".join(organisation_link(kb.organisations[o]) for o in entry.organisations)
    parts.append("%s: %s" % (kb.phrase("contact"), contacts))
    sources = " · ".join(link(_site(s.url), s.url) for s in entry.sources)
    parts.append(
        "%s: %s (%s)" % (kb.phrase("source"), sources, kb.phrase("checked").format(date=dutch_date(kb, entry.checked)))
    )
    return parts


def _metadata(entry: RuleEntry, status: Optional[str]) -> Dict[str, object]:
    return {
        "rule_id": entry.id,
        "status": status if entry.depends_on_status else None,
        "state": entry.state,
        "checked": entry.checked.isoformat(),
        "sources": [s.url for s in entry.sources],
    }


def rule_answer(kb: KnowledgeBase, entry: RuleEntry, status: Optional[str]) -> Reply:
    """The full answer for an entry and a status: text, caveats, contacts and source line."""
    parts = ["**%s**" % entry.title]
    if entry.depends_on_status:
        group = kb.status_group(status) or kb.status_group("other")
        parts.append(kb.phrase("answer_for_status").format(status=group.label.lower()))
    parts.append(entry.answer_for(status))
    parts += _footer(kb, entry, status)
    if entry.depends_on_status:
        parts.append(kb.phrase("correct_status_hint"))
    return Reply(text="\n\n".join(parts), metadata=_metadata(entry, status))


def status_buttons(kb: KnowledgeBase) -> List[Dict[str, str]]:
    return [
        {"title": g.button, "payload": "/inform_status%s" % json.dumps({"status": g.id})}
        for g in kb.status_groups
    ]


def ask_status(kb: KnowledgeBase, entry: RuleEntry) -> Reply:
    """The status question; an entry with a shared answer gives that part first."""
    if not entry.answer:
        return Reply(
            text="**%s**\n\n%s" % (entry.title, kb.phrase("ask_status")),
            buttons=status_buttons(kb),
            metadata={"rule_id": entry.id, "asks": "status"},
        )
    parts = ["**%s**" % entry.title, entry.answer] + _footer(kb, entry, None) + [kb.phrase("ask_status_for_rest")]
    metadata = dict(_metadata(entry, None), asks="status")
    return Reply(text="\n\n".join(parts), buttons=status_buttons(kb), metadata=metadata)


def status_noted(kb: KnowledgeBase, status: str) -> Reply:
    group = kb.status_group(status)
    return Reply(text=kb.phrase("status_noted").format(status=group.label.lower()))


def capabilities(kb: KnowledgeBase) -> Reply:
    lines = [kb.phrase("capabilities_intro")]
    lines += ["- %s" % theme.label for theme in kb.themes]
    lines.append(kb.phrase("capabilities_outro"))
    return Reply(text="\n".join(lines))


def organisation_answer(kb: KnowledgeBase, organisation_id: Optional[str]) -> Reply:
    org = kb.organisations.get(organisation_id or "")
    if org is None:
        return Reply(text=kb.phrase("organisation_unknown"))
    name = org.name if org.abbreviation == org.name else "%s (%s)" % (org.name, org.abbreviation)
    text = "**%s**\n\n%s\n\n%s: %s" % (name, org.description, kb.phrase("organisation_website"), link(_site(org.website), org.website))
    return Reply(text=text, metadata={"organisation_id": org.id})


def intent_label(kb: KnowledgeBase, intent: str) -> str:
    entry = kb.rule_for_intent(intent)
    return entry.title if entry else str(kb.phrases["intent_labels"].get(intent, intent))


def did_you_mean(kb: KnowledgeBase, ranking: List[Dict[str, object]], options: int = 2) -> Reply:
    """The first stage of the fallback: the most likely topics as buttons, plus 'something else'."""
    skip = {"nlu_fallback", "out_of_scope", "affirm", "deny"}
    intents = [str(r["name"]) for r in ranking if r.get("name") not in skip][:options]
    if not intents:
        return Reply(text=kb.phrase("rephrase_short"), metadata={"asks": "rephrase"})
    buttons = [{"title": intent_label(kb, i), "payload": "/" + i} for i in intents]
    buttons.append({"title": kb.phrase("something_else"), "payload": "/out_of_scope"})
    return Reply(text=kb.phrase("did_you_mean"), buttons=buttons, metadata={"asks": "intent", "options": intents})


def _site_and_path(url: str) -> str:
    parsed = urlparse(url)
    return (_site(url) + parsed.path).rstrip("/")


def helpdesk_line(kb: KnowledgeBase, contact: HelpdeskContact) -> str:
    key = "helpdesk_web_only"
    if contact.phone:
        key = "helpdesk_with_phone" if contact.hours else "helpdesk_phone_only"
    return kb.phrase(key).format(
        name=contact.name, purpose=contact.purpose.rstrip("."), phone=contact.phone, hours=contact.hours,
        link=link(_site_and_path(contact.url), contact.url),
    )


def summary_lines(kb: KnowledgeBase, summary: Summary) -> List[str]:
    """The conversation so far, for the person who takes over; nothing when nothing is known."""
    if summary.empty:
        return []
    lines = [kb.phrase("handoff_summary")]
    group = kb.status_group(summary.status)
    if group:
        lines.append("- %s: %s" % (kb.phrase("summary_status"), group.label))
    titles = [kb.rule(t).title if kb.rule(t) else t for t in summary.themes]
    if titles:
        lines.append("- %s: %s" % (kb.phrase("summary_themes"), ", ".join(titles)))
    last = kb.rule(summary.last_rule_id)
    if last:
        code = "%s: %s" % (kb.phrase("summary_rule_code"), last.id)
        lines.append("- %s: %s (%s)" % (kb.phrase("summary_last_answer"), last.title, code))
    return lines


def handoff(kb: KnowledgeBase, summary: Summary, fallback: bool = False) -> Reply:
    """Where to get personal help, with a summary of the conversation to pass on.

    `fallback`: the assistant gives up after not understanding (instead of a request for a person).
    The summary also goes out as metadata (`handoff`), for a helpdesk system to take over.
    """
    intro = kb.phrase("fallback_intro" if fallback else "handoff_intro")
    blocks = ["\n".join([intro] + [helpdesk_line(kb, contact) for contact in kb.helpdesk])]
    summary_block = summary_lines(kb, summary)
    if summary_block:
        blocks.append("\n".join(summary_block))
    if fallback:
        blocks.append(kb.phrase("fallback_outro"))
    metadata = {"handoff": summary.as_metadata("fallback" if fallback else "request")}
    return Reply(text="\n\n".join(blocks), metadata=metadata)
