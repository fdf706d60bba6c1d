"""Rasa custom actions. Thin: look up the knowledge base, compose, send.

The knowledge base is loaded once when the action server starts; a broken knowledge base
raises `KnowledgeError` here, so the action server refuses to start instead of answering wrongly.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from actions import answers, conversation
from actions.knowledge import DEFAULT_LANGUAGE, LANGUAGES, KnowledgeBase, load

logger = logging.getLogger(__name__)

KB: KnowledgeBase = load()
logger.info("Knowledge base loaded: %d rules, fingerprint %s", len(KB.rules), KB.fingerprint)


def send(dispatcher: CollectingDispatcher, reply: answers.Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None, **reply.metadata)


def _language(tracker: Tracker) -> str:
    """The conversation's language (slot `language`, set from each message by the NLU)."""
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _entity_values(tracker: Tracker, entity: str) -> List[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


class ValidateSlotMappings(ValidationAction):
    """Fills the `status` slot from what the user said, normalised to a status-group id."""

    def name(self) -> Text:
        return "action_validate_slot_mappings"

    async def extract_status(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # A button payload carries the status id itself.
        ids = [v for v in _entity_values(tracker, "status") if KB.status_group(v)]
        # Otherwise the longest status phrase in the message wins ("in het azc, maar met een
        # verblijfsvergunning" is a status holder); entity values are tried when the text has none.
        candidates = [tracker.latest_message.get("text") or ""] + _entity_values(tracker, "status")
        status = ids[0] if ids else next(filter(None, (KB.status_in_text(c) for c in candidates)), None)
        return {"status": status} if status else {}


class ActionAnswerRule(Action):
    """Answers a rule question for the remembered status, or asks for the status first."""

    def name(self) -> Text:
        return "action_answer_rule"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return answer_rule(dispatcher, tracker, _latest_intent(tracker))


def answer_rule(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> List[EventType]:
    """The entry of `intent`, else the one last asked about (a status was given), for the status."""
    status = tracker.get_slot("status")
    lang = _language(tracker)
    entry = KB.rule_for_intent(intent) or KB.rule(tracker.get_slot("theme"))
    if entry is not None and intent == "inform_status" and not entry.depends_on_status:
        entry = None  # a status given after a status-independent answer: just note it
    if entry is None:
        send(dispatcher, answers.status_noted(KB, status, lang) if status else answers.capabilities(KB, lang))
        return []
    if entry.depends_on_status and not status:
        send(dispatcher, answers.ask_status(KB, entry, lang))
    else:
        send(dispatcher, answers.rule_answer(KB, entry, status, lang))
    return [SlotSet("theme", entry.id)]


class ActionDeny(Action):
    """"No". A "no" that names a status ("nee, hij heeft al een verblijfsvergunning") corrects the
    status: the last rule is answered again for it. Any other "no" gets the response utter_deny."""

    def name(self) -> Text:
        return "action_deny"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if tracker.get_slot("theme") and KB.status_in_text(tracker.latest_message.get("text") or ""):
            return answer_rule(dispatcher, tracker, "inform_status")
        dispatcher.utter_message(response="utter_deny")
        return []


class ActionAnswerOrganisation(Action):
    """Tells what an organisation does and where to find it."""

    def name(self) -> Text:
        return "action_answer_organisation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        mentions = _entity_values(tracker, "organisation") + [tracker.latest_message.get("text") or ""]
        organisation = next(filter(None, (KB.organisation_in_text(m) for m in mentions)), None)
        send(dispatcher, answers.organisation_answer(KB, organisation, _language(tracker)))
        return []


class ActionListCapabilities(Action):
    """Lists the themes the assistant can answer."""

    def name(self) -> Text:
        return "action_list_capabilities"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        send(dispatcher, answers.capabilities(KB, _language(tracker)))
        return []


class ActionAskWhichTopic(Action):
    """First stage of the two-stage fallback: offers the two most likely topics as buttons."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        send(dispatcher, answers.did_you_mean(KB, ranking, lang=_language(tracker)))
        return []


class ActionStoreFeedback(Action):
    """Feedback on an answer. From the widget's buttons it is stored silently (the user event keeps
    feedback_value and feedback_rule in the tracker); typed feedback gets a short reply."""

    def name(self) -> Text:
        return "action_store_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if not _entity_values(tracker, "feedback_value"):
            lang = _language(tracker)
            dispatcher.utter_message(text=KB.phrase("feedback_typed", lang), lang=lang)
        return []


def _summary(tracker: Tracker) -> conversation.Summary:
    return conversation.summarise(tracker.events, tracker.get_slot("status"), tracker.get_slot("theme"))


class ActionHandoff(Action):
    """"Ik wil een medewerker": the helpdesk contacts and a summary of the conversation."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        send(dispatcher, answers.handoff(KB, _summary(tracker), lang=_language(tracker)))
        return []


class ActionDefaultFallback(Action):
    """Replaces Rasa's default fallback (the last step of the two-stage fallback and RulePolicy's
    core fallback): the same handoff, and, like Rasa's own, the message that was not understood
    is undone so it does not steer the next prediction."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        send(dispatcher, answers.handoff(KB, _summary(tracker), fallback=True, lang=_language(tracker)))
        return [UserUtteranceReverted()]
