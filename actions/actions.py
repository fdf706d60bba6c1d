"""Rasa custom actions. Thin: look up the knowledge base, compose, send.

The knowledge base is loaded once when the action server starts; a broken knowledge base
raises `KnowledgeError` here, so the action server refuses to start instead of answering wrongly.
"""

from __future__ import annotations

import abc
import logging
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from regelhulp import conversation, replies
from regelhulp.facet_selection import FOLLOW_UP_SCORE, FacetSelector
from regelhulp.knowledge import DEFAULT_LANGUAGE, LANGUAGES, Facet, KnowledgeBase, Refusal, RuleEntry, load
from regelhulp.language import asks_something, foreign_language, opens_follow_up, refers_back

logger = logging.getLogger(__name__)

KB: KnowledgeBase = load()
logger.info("Knowledge base loaded: %d rules, fingerprint %s", len(KB.rules), KB.fingerprint)


def send(dispatcher: CollectingDispatcher, reply: replies.Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None, **reply.metadata)


def _language(tracker: Tracker) -> str:
    """The conversation's language (slot `language`, set from each message by the NLU)."""
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _entity_values(tracker: Tracker, entity: str) -> List[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


SELECTOR = FacetSelector(KB)
# With the status unknown, a concrete question must be at least this probable (else the status is
# asked for the overview). Chosen on eval/development/real_*.yml together with the browser tests' vague questions.
UNKNOWN_STATUS_FACET_PROBABILITY = 0.3
# A message that is clearly like one concrete question (when the classifier saw no rule question in it).
CLEAR_FACET_SCORE = 0.45
# "Bedoel je ...?" offers at most this many topics, each at least this likely.
MAX_OPTIONS = 2
OPTION_FLOOR = 0.1
# One rule topic at least this likely and no other above OPTION_FLOOR: answered instead of a "Bedoel je"
# with one topic. Chosen on eval/development/real*.yml (8 December 2026; see the closing note of that day).
SINGLE_OPTION_FLOOR = 0.3
# A message of at most this many words after an answer, which the classifier does not take for a rule
# question and which is no known kind of refusal, is probably about the answer ("hoe lang heeft hij
# daarvoor?"): the entry's likely concrete questions are offered (at most FOLLOW_UP_OPTIONS of them).
MAX_FOLLOW_UP_WORDS = 8
FOLLOW_UP_OPTIONS = 3
# A message that names two status groups is about their rules: a rule intent this likely is answered
# with a part per status, even when the classifier is not sure enough for a single answer.
TWO_STATUS_FLOOR = 0.15
# After this many messages in a row that were not understood, the helpdesk contacts are given.
MAX_NOT_UNDERSTOOD = 2
# A message of at most this many words that names a status and asks nothing ("ik kom uit Oekraïne,
# tijdelijke bescherming"), or starts like a follow-up ("en voor een statushouder?"), gives the
# status for the question of the conversation, whatever rule intent the classifier sees in it.
MAX_STATUS_STATEMENT_WORDS = 20
MAX_STATUS_FOLLOW_UP_WORDS = 8
# "Wat doet het COA, en wat is het verschil met VluchtelingenWerk?": a card for each, at most this many
MAX_ORGANISATIONS = 2


def _text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def _previous_user_message(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The user message before the latest one (its parse data), if any."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    return users[-2] if len(users) >= 2 else None


def _rule_intents(ranking: List[Dict[str, Any]], floor: float = OPTION_FLOOR) -> List[str]:
    return [
        str(r["name"])
        for r in ranking
        if KB.rule_for_intent(r.get("name")) and float(r.get("confidence") or 0) >= floor
    ]


def _for_status(entry: RuleEntry, status: Optional[str], ranking: List[Dict[str, Any]]) -> RuleEntry:
    """ENTRY, or, when it does not concern STATUS (reporting a Ukrainian employee, for an asylum
    seeker), the likeliest intent of RANKING that neighbours it (routing.yml) and does concern STATUS."""
    if entry.concerns(status):
        return entry
    neighbours = [
        other
        for other in (KB.rule_for_intent(intent) for intent in _rule_intents(ranking, floor=0.0))
        if other is not None and KB.overlap(other.intent, entry.intent) and other.concerns(status)
    ]
    # the status mattered to the question: a neighbour whose answer depends on it first
    return next((o for o in neighbours if o.depends_on_status), next(iter(neighbours), entry))


def _also(ranking: List[Dict[str, Any]], entry: RuleEntry) -> Optional[str]:
    """A neighbouring entry among the likely intents of the message, offered as "Ook over: ..."."""
    others = [i for i in _rule_intents(ranking) if i != entry.intent]
    return next((i for i in others[:2] if KB.overlap(i, entry.intent)), None)


def _is_payload(text: str) -> bool:
    return text.startswith("/")


class RegelhulpAction(Action, metaclass=abc.ABCMeta):
    """An action of this assistant: NAME is its name in domain.yml, `act` answers and returns the
    events. None of them awaits anything; rasa-sdk skips this abstract class when it registers."""

    NAME = ""

    def name(self) -> Text:
        return self.NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return self.act(dispatcher, tracker)

    @abc.abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        """Sends the replies through DISPATCHER; returns the events for the tracker."""


class ActionAnswerRule(RegelhulpAction):
    """Answers a rule question for the remembered status, or asks for the status first; a status
    given later answers the question that was waiting for it."""

    NAME = "action_answer_rule"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        return answer_rule(dispatcher, tracker, _latest_intent(tracker))


def _gives_status(tracker: Tracker) -> bool:
    """Whether the latest message gives the status for the conversation's question rather than
    asking a new one: it names a status and asks nothing, or is a short follow-up about someone else."""
    text = _text(tracker)
    if _is_payload(text) or not (_entity_values(tracker, "status") or _entity_values(tracker, "status_option")):
        return False
    words = len(text.split())
    # a statement answers the question only when the assistant was waiting for the status (or did
    # not understand the question): after a full answer, "ik ben statushouder en wil studeren" is new
    statement = _states_status(tracker) and _status_awaited(tracker)
    follow_up = words <= MAX_STATUS_FOLLOW_UP_WORDS and opens_follow_up(text)
    return (statement or follow_up) and _waiting_question(tracker)[0] is not None


def _states_status(tracker: Tracker) -> bool:
    """Whether the latest message names a status and asks nothing ("he lives in the azc and works in a bakery")."""
    text = _text(tracker)
    return (
        bool(_entity_values(tracker, "status") or _entity_values(tracker, "status_option"))
        and len(text.split()) <= MAX_STATUS_STATEMENT_WORDS
        and not asks_something(text)
    )


def _status_awaited(tracker: Tracker) -> bool:
    """Whether the assistant's reply to the previous message asked for the status or did not understand it."""
    previous = _previous_user_message(tracker)
    if previous is None:
        return False
    if ((previous.get("parse_data") or {}).get("intent") or {}).get("name") == "nlu_fallback":
        return True
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest:
                return False
            seen_latest = True
        elif event.get("event") == "bot" and seen_latest and (event.get("metadata") or {}).get("asks") == "status":
            return True
    return False


def answer_rule(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> List[EventType]:
    lang = _language(tracker)
    if intent == "inform_status" or _gives_status(tracker):
        return _status_given(dispatcher, tracker)
    entry = KB.rule_for_intent(intent)
    if entry is None:
        send(dispatcher, replies.capabilities(KB, lang))
        return []
    ranking = tracker.latest_message.get("intent_ranking") or []
    entry = _for_status(entry, tracker.get_slot("status"), ranking)
    text = _text(tracker)
    facet = KB.facet(next(iter(_entity_values(tracker, "facet")), None))
    if facet is None and not _is_payload(text):
        # with the status still unknown, a vague question ("mag hij studeren?") gets the status
        # question of the overview rather than a guess at a concrete question
        unsure = (
            entry.depends_on_status and not tracker.get_slot("status") and not _entity_values(tracker, "status_option")
        )
        match = SELECTOR.select(text, lang, entry.id, UNKNOWN_STATUS_FACET_PROBABILITY if unsure else None)
        facet = match.facet if match else None
    return _answer(dispatcher, tracker, entry, facet, _also(ranking, entry))


def _answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    entry: RuleEntry,
    facet: Optional[Facet],
    also: Optional[str] = None,
) -> List[EventType]:
    """Sends the answer of an entry (or one of its facets) for the conversation's status."""
    lang = _language(tracker)
    status = tracker.get_slot("status")
    options = [o for o in _entity_values(tracker, "status_option") if KB.status_group(o)]
    if facet is not None and not facet.concerns(status):
        # "how do I apply for a volunteer statement?" for a status holder: the overview says none is needed
        facet = None
    if len(options) >= 2 and not entry.depends_on_status and (facet is None or not _facet_depends_on_status(facet)):
        # "two candidates, one with a permit, one from Ukraine: what must I arrange?": the neighbouring
        # entry whose answer differs per status gives each of them a part
        neighbour = _status_dependent_candidate(tracker, entry)
        if neighbour is not None:
            entry, facet = neighbour, None
    events: List[EventType] = [SlotSet("theme", entry.id), SlotSet("facet", facet.id if facet else None)]
    needs_status = entry.depends_on_status if facet is None else _facet_depends_on_status(facet)
    if len(options) >= 2 and (entry.depends_on_status or needs_status):
        send(dispatcher, replies.two_status_answer(KB, entry, facet, options, lang))
    elif needs_status and not status:
        send(dispatcher, replies.ask_status(KB, entry, lang, facet))
    elif facet is not None:
        for reply in replies.facet_answer(KB, entry, facet, status, lang, also):
            send(dispatcher, reply)
    else:
        for reply in replies.rule_answer(KB, entry, status, lang, also):
            send(dispatcher, reply)
    return events


def _status_dependent_candidate(tracker: Tracker, entry: Optional[RuleEntry] = None) -> Optional[RuleEntry]:
    """Among the message's likely rule intents, the first whose answer depends on the status (and
    that answers a question neighbouring `entry`'s, when given)."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    for intent in _rule_intents(ranking, floor=TWO_STATUS_FLOOR)[:3]:
        candidate = KB.rule_for_intent(intent)
        if candidate and candidate.depends_on_status and (entry is None or KB.overlap(intent, entry.intent)):
            return candidate
    return None


def _facet_depends_on_status(facet: Facet) -> bool:
    return facet.answer_for(None) is None or any(facet.specific_to(g.id) for g in KB.status_groups)


def _waiting_question(tracker: Tracker) -> Tuple[Optional[RuleEntry], Optional[Facet]]:
    """The question a status given now belongs to: the entry (and facet) of the conversation, else
    the best rule intent of the previous message when that was not understood."""
    status = tracker.get_slot("status")
    previous = _previous_user_message(tracker)
    parse = (previous or {}).get("parse_data") or {}
    text = (previous or {}).get("text") or ""
    entry = KB.rule(tracker.get_slot("theme"))
    if entry is not None:
        concerning = _for_status(entry, status, parse.get("intent_ranking") or [])
        if concerning is entry:
            return entry, KB.facet(tracker.get_slot("facet"))
        match = SELECTOR.select(text, _language(tracker), concerning.id)
        return concerning, match.facet if match else None
    if previous is None:
        return None, None
    candidates = _rule_intents(parse.get("intent_ranking") or [])
    entry = KB.rule_for_intent(candidates[0]) if candidates else None
    if entry is not None:
        entry = _for_status(entry, status, parse.get("intent_ranking") or [])
    if entry is None:
        # not a rule question for the classifier ("which organisation must my employer contact?"):
        # the concrete question it is most like, when it is clearly like one
        best = next(iter(SELECTOR.ranking(text, _language(tracker))), None)
        if best is None or best.score < CLEAR_FACET_SCORE:
            return None, None
        return KB.rule(best.facet.entry), best.facet
    match = SELECTOR.select(text, _language(tracker), entry.id)
    return entry, match.facet if match else None


def _status_dependent_neighbour(tracker: Tracker, entry: RuleEntry) -> Tuple[Optional[RuleEntry], Optional[Facet]]:
    """For a status given after a status-independent answer ("wat moet ik regelen?", then "she has
    temporary protection"): the concrete question of a neighbouring entry that has an answer of its
    own for this status, else a neighbouring entry of the question that depends on the status."""
    previous = _previous_user_message(tracker) or {}
    status = tracker.get_slot("status")
    neighbours = [r for r in KB.rules if r is entry or KB.overlap(r.intent, entry.intent)]
    for match in SELECTOR.ranking(previous.get("text") or "", _language(tracker), [r.id for r in neighbours])[:3]:
        if match.score >= FOLLOW_UP_SCORE and match.facet.specific_to(status):
            return KB.rule(match.facet.entry), match.facet
    for intent in _rule_intents((previous.get("parse_data") or {}).get("intent_ranking") or [])[:3]:
        other = KB.rule_for_intent(intent)
        if other and other.depends_on_status and KB.overlap(intent, entry.intent):
            return other, None
    return None, None


def _status_given(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    lang = _language(tracker)
    status = tracker.get_slot("status")
    entry, facet = _waiting_question(tracker)
    if entry is not None and _is_payload(_text(tracker)) and not _entity_values(tracker, "status"):
        # the button "Gaat het om iemand anders?": ask again whom the question is about
        send(dispatcher, replies.ask_status(KB, entry, lang, facet))
        return [SlotSet("theme", entry.id), SlotSet("facet", facet.id if facet else None)]
    if entry is not None and facet is not None and not _facet_depends_on_status(facet):
        facet = None  # the facet's answer holds for everybody: the status matters for the entry
    if entry is not None and facet is None and not entry.depends_on_status:
        neighbour, neighbour_facet = _status_dependent_neighbour(tracker, entry)
        if neighbour is not None:
            entry, facet = neighbour, neighbour_facet
        # else: the entry's answer holds for everybody; it is given again, now for this status
    if entry is None:
        send(dispatcher, replies.status_noted(KB, status, lang) if status else replies.capabilities(KB, lang))
        return []
    return _answer(dispatcher, tracker, entry, facet)


class ActionNotUnderstood(RegelhulpAction):
    """A message the classifier is not sure about (nlu_fallback). In order: a status for the
    question that waits for it; a follow-up about the entry of the conversation; the helpdesk after
    repeated misunderstanding; else "Bedoel je ...?" with the likely topics (or a request to rephrase)."""

    NAME = "action_not_understood"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        lang = _language(tracker)
        text = _text(tracker)
        if _entity_values(tracker, "status") or _entity_values(tracker, "status_option"):
            entry, _ = _waiting_question(tracker)
            if entry is not None:
                return _status_given(dispatcher, tracker)
        follow_up = _follow_up(dispatcher, tracker)
        if follow_up is not None:
            return follow_up
        if len(_entity_values(tracker, "status_option")) >= 2:
            candidate = _status_dependent_candidate(tracker)  # "een Oekraïner en een asielzoeker: wat moet ik regelen?"
            if candidate is not None:
                return _answer(dispatcher, tracker, candidate, None)
        ranking = [r for r in tracker.latest_message.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        options = _rule_intents(ranking)[:MAX_OPTIONS]
        theme = KB.rule(tracker.get_slot("theme"))
        if theme is not None and options and (options[0] == theme.intent or KB.overlap(options[0], theme.intent)):
            return answer_rule(dispatcher, tracker, options[0])  # a follow-up in the same area
        refused = KB.refusal_for(text)
        if refused is not None and (
            refused.decides or not options or "out_of_scope" in [r.get("name") for r in ranking[:2]]
        ):
            send(dispatcher, replies.refusal(KB, refused, lang))  # out of scope, and of a kind we know
            return []
        if _not_understood_in_a_row(tracker) >= MAX_NOT_UNDERSTOOD:
            send(dispatcher, replies.handoff(KB, _summary(tracker), fallback=True, lang=lang))
            return []
        if not options or options[0] in ("out_of_scope",) or not _rule_intents(ranking, floor=0.3):
            offered = _follow_up_options(dispatcher, tracker, refused)
            if offered is not None:
                return offered
        if len(options) == 1 and refused is None and _confidence(ranking, options[0]) >= SINGLE_OPTION_FLOOR:
            return answer_rule(dispatcher, tracker, options[0])  # one likely topic: "Bedoel je" would offer only it
        send(dispatcher, replies.did_you_mean(KB, options, lang))
        return []


def _confidence(ranking: List[Dict[str, Any]], intent: str) -> float:
    return next((float(r.get("confidence") or 0) for r in ranking if r.get("name") == intent), 0.0)


def _follow_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """A message about a concrete question of the conversation's entry ("hoe lang duurt dat?"):
    answered, else None."""
    theme = KB.rule(tracker.get_slot("theme"))
    if theme is None:
        return None
    text, lang = _text(tracker), _language(tracker)
    match = SELECTOR.follow_up(text, lang, [theme.id])
    if match is None:
        # "and how long does that take?" after an answer about paid work: the TWV's procedure time
        match = SELECTOR.follow_up(
            text, lang, [theme.id] + [r.id for r in KB.rules if KB.overlap(r.intent, theme.intent)]
        )
    return _answer(dispatcher, tracker, KB.rule(match.facet.entry) or theme, match.facet) if match else None


def _follow_up_options(
    dispatcher: CollectingDispatcher, tracker: Tracker, refused: Optional[Refusal]
) -> Optional[List[EventType]]:
    """A short message after an answer, not clearly about one of its concrete questions and of no
    known kind of refusal (`refused`, the caller's KB.refusal_for): the entry's most similar concrete
    questions as buttons (instead of a refusal or other topics), else None."""
    theme = KB.rule(tracker.get_slot("theme"))
    text = _text(tracker)
    if refused is not None or theme is None or _is_payload(text) or len(text.split()) > MAX_FOLLOW_UP_WORDS:
        return None
    if not refers_back(text):
        return None
    status = tracker.get_slot("status")
    ranked = [m.facet for m in SELECTOR.ranking(text, _language(tracker), [theme.id]) if m.facet.concerns(status)]
    if not ranked:
        return None
    send(dispatcher, replies.did_you_mean_question(KB, theme, ranked[:FOLLOW_UP_OPTIONS], _language(tracker)))
    return []


def _not_understood_in_a_row(tracker: Tracker) -> int:
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


class ActionRefuse(RegelhulpAction):
    """Out of scope: a polite refusal that says where to go instead (knowledge/refusals.yml)."""

    NAME = "action_refuse"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        text = "" if _is_payload(_text(tracker)) else _text(tracker)
        refused = KB.refusal_for(text)
        if text and (refused is None or not refused.screen):
            if tracker.get_slot("theme") and _states_status(tracker):
                # "asking for my cousin, he lives in the azc" after an answer: the status of that question
                return _status_given(dispatcher, tracker)
            follow_up = _follow_up(dispatcher, tracker)  # "hoe lang duurt dat?" after a question about a TWV
            if follow_up is not None:
                return follow_up
            offered = _follow_up_options(dispatcher, tracker, refused)  # "hoe lang heeft hij daarvoor?"
            if offered is not None:
                return offered
        send(dispatcher, replies.refusal(KB, refused, _language(tracker)))
        return []


class ActionOtherLanguage(RegelhulpAction):
    """A message in a language other than Dutch or English."""

    NAME = "action_other_language"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        send(dispatcher, replies.other_language(KB, foreign_language(_text(tracker)) or "other"))
        return []


class ActionDeny(RegelhulpAction):
    """ "No". A "no" that names a status ("nee, hij heeft al een verblijfsvergunning") corrects the
    status: the last rule is answered again for it. Any other "no" gets the response utter_deny."""

    NAME = "action_deny"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        # the slot `status` is already set from the message (components/status_extractor.py)
        if tracker.get_slot("theme") and _entity_values(tracker, "status"):
            return _status_given(dispatcher, tracker)
        dispatcher.utter_message(response="utter_deny")
        return []


class ActionAnswerOrganisation(RegelhulpAction):
    """Tells what an organisation does and where to find it."""

    NAME = "action_answer_organisation"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        named = [KB.organisation_in_text(m) for m in _entity_values(tracker, "organisation")]
        found = [o for o in named if o] + KB.organisations_in_text(_text(tracker))
        organisations: Sequence[Optional[str]] = list(dict.fromkeys(found))[:MAX_ORGANISATIONS] or [None]
        for organisation in organisations:
            send(dispatcher, replies.organisation_answer(KB, organisation, _language(tracker)))
        return []


class ActionListCapabilities(RegelhulpAction):
    """Lists the themes the assistant can answer."""

    NAME = "action_list_capabilities"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        send(dispatcher, replies.capabilities(KB, _language(tracker)))
        return []


class ActionStoreFeedback(RegelhulpAction):
    """Feedback on an answer. From the widget's buttons it is stored silently (the user event keeps
    feedback_value and feedback_rule in the tracker); typed feedback gets a short reply."""

    NAME = "action_store_feedback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        if not _entity_values(tracker, "feedback_value"):
            lang = _language(tracker)
            dispatcher.utter_message(text=KB.phrase("feedback_typed", lang), lang=lang)
        return []


def _summary(tracker: Tracker) -> conversation.Summary:
    return conversation.summarise(tracker.events, tracker.get_slot("status"), tracker.get_slot("theme"))


class ActionHandoff(RegelhulpAction):
    """ "Ik wil een medewerker": the helpdesk contacts and a summary of the conversation."""

    NAME = "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        send(dispatcher, replies.handoff(KB, _summary(tracker), lang=_language(tracker)))
        return []


class ActionDefaultFallback(RegelhulpAction):
    """Replaces Rasa's default fallback (the last step of the two-stage fallback and RulePolicy's
    core fallback): the same handoff, and, like Rasa's own, the message that was not understood
    is undone so it does not steer the next prediction."""

    NAME = "action_default_fallback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        send(dispatcher, replies.handoff(KB, _summary(tracker), fallback=True, lang=_language(tracker)))
        return [UserUtteranceReverted()]
