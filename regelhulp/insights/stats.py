"""The figures of `make insights`, counted from stored conversations. Pure: the input is each
conversation's events as dicts (what the tracker store keeps as JSON), in stored order.

What counts:
- a *message* is a user event; a *typed* message is one that is not a button payload ("/...");
- a typed message *falls back* when its intent is nlu_fallback or the fallback action answered it;
  it is *out of scope* when its intent is out_of_scope; the rates are shares of the typed messages;
- a *handoff* is a bot message carrying `handoff` metadata (a request for a person, or the last
  step of the fallback);
- a *theme* counts the conversations in which the bot answered, or asked the status for, that
  knowledge-base entry (rule id);
- *feedback* is the widget's `/feedback{"feedback_value": "up"|"down", "feedback_rule": "<rule id>"}`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

from channels.privacy import redact
from regelhulp.conversation import rule_ids

FEEDBACK_VALUES = ("up", "down")
RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,80}$")
FALLBACK_ACTIONS = ("action_default_fallback",)
UNANSWERED_INTENTS = {"nlu_fallback": "fallback", "out_of_scope": "out_of_scope", "request_human": "handoff"}


@dataclass(frozen=True)
class Unanswered:
    """A typed message the bot could not answer, redacted."""

    when: dt.datetime
    kind: str  # fallback | out_of_scope | handoff
    text: str


@dataclass
class Day:
    """The counts of one day; `Figures` has the same counts for the whole period."""

    conversations: int = 0
    messages: int = 0
    typed: int = 0
    fallback: int = 0
    out_of_scope: int = 0


@dataclass
class Figures(Day):
    handoff_requests: int = 0  # request_human, typed or the widget's button
    handoffs: Counter = field(default_factory=Counter)  # reason (request | fallback) -> bot messages
    days: Dict[dt.date, Day] = field(default_factory=dict)
    themes: Counter = field(default_factory=Counter)  # rule id -> conversations
    intents: Counter = field(default_factory=Counter)  # intent -> typed messages
    feedback: Dict[str, Counter] = field(default_factory=dict)  # rule id -> {"up": n, "down": n}
    unanswered: List[Unanswered] = field(default_factory=list)

    @property
    def first_day(self) -> Optional[dt.date]:
        return min(self.days) if self.days else None

    @property
    def last_day(self) -> Optional[dt.date]:
        return max(self.days) if self.days else None

    @property
    def fallback_rate(self) -> float:
        return self.fallback / self.typed if self.typed else 0.0

    @property
    def out_of_scope_rate(self) -> float:
        return self.out_of_scope / self.typed if self.typed else 0.0

    def feedback_total(self, value: str) -> int:
        return sum(counts[value] for counts in self.feedback.values())


def _intent(event: Mapping) -> Optional[str]:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _entity(event: Mapping, name: str) -> Optional[str]:
    for entity in (event.get("parse_data") or {}).get("entities") or []:
        if entity.get("entity") == name and entity.get("value") is not None:
            return str(entity["value"])
    return None


def _when(event: Mapping) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(event.get("timestamp") or 0))


def feedback_of(event: Mapping) -> Optional[tuple]:
    """(rule id, "up"|"down") for a feedback button's message, else None; other values are ignored."""
    if event.get("event") != "user" or _intent(event) != "feedback":
        return None
    value, rule = _entity(event, "feedback_value"), _entity(event, "feedback_rule")
    if value not in FEEDBACK_VALUES or not rule or not RULE_ID.match(rule):
        return None
    return rule, value


def outcomes(events: Sequence[Mapping]) -> List[tuple]:
    """(user event, outcome) per user message; outcome is fallback, out_of_scope, handoff or None."""
    result: List[list] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            result.append([event, UNANSWERED_INTENTS.get(_intent(event) or "")])
        elif kind == "action" and event.get("name") in FALLBACK_ACTIONS and result and result[-1][1] is None:
            result[-1][1] = "fallback"  # the policy fell back on a message NLU did understand
    return [tuple(pair) for pair in result]


def _count_conversation(figures: Figures, events: Sequence[Mapping]) -> None:
    days_seen = set()
    for event, outcome in outcomes(events):
        when = _when(event)
        day = figures.days.setdefault(when.date(), Day())
        if when.date() not in days_seen:
            days_seen.add(when.date())
            day.conversations += 1
        text = str(event.get("text") or "")
        typed = not text.startswith("/")
        figures.messages += 1
        day.messages += 1
        if _intent(event) == "request_human":
            figures.handoff_requests += 1
        feedback = feedback_of(event)
        if feedback:
            figures.feedback.setdefault(feedback[0], Counter({v: 0 for v in FEEDBACK_VALUES}))[feedback[1]] += 1
        if not typed:
            continue
        figures.typed += 1
        day.typed += 1
        figures.intents[_intent(event) or "(geen)"] += 1
        if outcome == "fallback":
            figures.fallback += 1
            day.fallback += 1
        elif outcome == "out_of_scope":
            figures.out_of_scope += 1
            day.out_of_scope += 1
        if outcome:
            figures.unanswered.append(Unanswered(when=when, kind=outcome, text=redact(text).text))
    if days_seen:
        figures.conversations += 1
        figures.themes.update(set(rule_ids(events)))
    for event in events:
        handoff = (event.get("metadata") or {}).get("handoff") if event.get("event") == "bot" else None
        if isinstance(handoff, dict):
            figures.handoffs[str(handoff.get("reason") or "request")] += 1


def compute(conversations: Mapping[str, Iterable[Mapping]]) -> Figures:
    """The figures for the conversations (sender id -> events in stored order)."""
    figures = Figures()
    for events in conversations.values():
        _count_conversation(figures, list(events))
    figures.days = dict(sorted(figures.days.items()))
    figures.unanswered.sort(key=lambda item: item.when)
    return figures
