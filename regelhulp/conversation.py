"""Reading a conversation from its events: the event dicts that rasa-sdk trackers carry and that
the tracker store keeps as JSON (`{"event": "bot", "text": ..., "metadata": {"rule_id": ...}}`).
Pure functions, no Rasa; used by the handoff summary and by the insights report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

Event = Mapping[str, Any]


def current_session(events: Sequence[Event]) -> List[Event]:
    """The events since the last session start (all of them when there is none)."""
    starts = [i for i, e in enumerate(events) if e.get("event") == "session_started"]
    return list(events[starts[-1] + 1 :] if starts else events)


def bot_rule_id(event: Event) -> Optional[str]:
    """The knowledge-base entry a bot message is about (an answer or the status question)."""
    if event.get("event") != "bot":
        return None
    rule_id = (event.get("metadata") or {}).get("rule_id")
    return str(rule_id) if rule_id else None


def states_rule(event: Event) -> bool:
    """True for a bot message that gave a rule with its source (not only the status question)."""
    return bool(bot_rule_id(event)) and bool((event.get("metadata") or {}).get("sources"))


def rule_ids(events: Iterable[Event]) -> List[str]:
    """The entries the bot answered or asked about, in order of first mention, without repeats."""
    found: List[str] = []
    for event in events:
        rule_id = bot_rule_id(event)
        if rule_id and rule_id not in found:
            found.append(rule_id)
    return found


@dataclass(frozen=True)
class Summary:
    """What a helpdesk needs so that nobody starts over."""

    status: Optional[str]  # status-group id
    themes: Tuple[str, ...]  # rule ids asked about in this conversation, in order
    last_rule_id: Optional[str]  # the last entry whose rule was given

    @property
    def empty(self) -> bool:
        return not (self.status or self.themes or self.last_rule_id)

    def as_metadata(self, reason: str) -> dict:
        return {"reason": reason, "status": self.status, "themes": list(self.themes), "last_rule_id": self.last_rule_id}


def summarise(events: Sequence[Event], status: Optional[str], theme: Optional[str]) -> Summary:
    """The summary of the current session; `theme` (the slot, carried over between sessions) is
    added when the session's messages do not mention it."""
    session = current_session(events)
    themes = rule_ids(session)
    if theme and theme not in themes:
        themes.append(theme)
    answered = [bot_rule_id(e) for e in session if states_rule(e)]
    return Summary(status=status or None, themes=tuple(themes), last_rule_id=answered[-1] if answered else None)
