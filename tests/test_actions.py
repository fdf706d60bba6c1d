"""The custom actions, run directly against rasa-sdk trackers (no servers)."""
from __future__ import annotations

import asyncio
import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerOrganisation, ActionAnswerRule, ActionListCapabilities, ValidateSlotMappings

DOMAIN = {"slots": {"status": {"mappings": [{"type": "custom"}]}, "theme": {"mappings": [{"type": "custom"}]}}}


def tracker(intent, text="", status=None, theme=None, entities=(), language=None):
    return Tracker(
        sender_id="test",
        slots={"status": status, "theme": theme, "language": language},
        latest_message={"intent": {"name": intent, "confidence": 0.99}, "entities": list(entities), "text": text},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, track):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, DOMAIN))
    return dispatcher.messages, events


def test_asks_status_with_buttons_when_unknown():
    messages, events = run(ActionAnswerRule(), tracker("ask_paid_work", "Mag hij bij ons werken?"))
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Asielzoeker (nog in de procedure)",
        "Statushouder (heeft een verblijfsvergunning)",
        "Uit Oekraïne (tijdelijke bescherming)",
        "Anders / weet ik niet",
    ]
    assert messages[0]["buttons"][0]["payload"] == '/inform_status{"status": "asylum_seeker"}'
    assert events == [SlotSet("theme", "paid_work")]


def test_answers_for_asylum_seeker_with_source_and_checked_date():
    messages, _ = run(ActionAnswerRule(), tracker("ask_paid_work", status="asylum_seeker"))
    text = messages[0]["text"]
    assert re.search(r"tewerkstellingsvergunning|TWV", text) and "UWV" in text
    assert re.search(r"6 maanden|zes maanden", text)
    assert re.search(r"Bron: \[[^\]]+\]\(https://[^)]+\)", text)
    assert re.search(r", stand \w+ 20\d\d .*· nagekeken \d{1,2} \w+ 20\d\d", text)
    assert messages[0]["rule_id"] == "paid_work" and messages[0]["status"] == "asylum_seeker"


def test_status_holder_needs_no_permit():
    messages, _ = run(ActionAnswerRule(), tracker("ask_paid_work", status="status_holder"))
    assert re.search(r"geen werkvergunning nodig|TWV niet vereist", messages[0]["text"])


def test_inform_status_answers_the_pending_theme():
    messages, events = run(ActionAnswerRule(), tracker("inform_status", status="ukrainian", theme="paid_work"))
    assert "UWV" in messages[0]["text"] and re.search(r"2 werkdagen|twee werkdagen", messages[0]["text"])
    assert events == [SlotSet("theme", "paid_work")]


def test_inform_status_without_theme_acknowledges():
    messages, events = run(ActionAnswerRule(), tracker("inform_status", status="status_holder"))
    assert "statushouder" in messages[0]["text"].lower() and events == []


def test_status_independent_entry_ignores_status():
    messages, _ = run(ActionAnswerRule(), tracker("ask_discrimination"))
    assert "buttons" not in messages[0] or not messages[0]["buttons"]
    assert "Bron:" in messages[0]["text"]


@pytest.mark.parametrize(
    "entities,text,expected",
    [
        ([{"entity": "status", "value": "status_holder"}], "/inform_status", "status_holder"),  # button payload
        ([{"entity": "status", "value": "azc-bewoner"}], "Mag een azc-bewoner werken?", "asylum_seeker"),
        ([], "het gaat om een oekraiense man", "ukrainian"),  # no entity: read the text
        ([], "nee, hij heeft al een verblijfsvergunning", "status_holder"),
        ([], "Hoe vraag ik een TWV aan?", None),
    ],
)
def test_status_slot_is_normalised(entities, text, expected):
    result = asyncio.run(ValidateSlotMappings().extract_status(CollectingDispatcher(), tracker("x", text, entities=entities), DOMAIN))
    assert result == ({"status": expected} if expected else {})


def test_organisation_answer_has_description_and_website():
    messages, _ = run(ActionAnswerOrganisation(), tracker("ask_organisation", "Wat doet het UAF?", entities=[{"entity": "organisation", "value": "UAF"}]))
    assert "uaf.nl" in messages[0]["text"]


def test_unknown_organisation_asks_which():
    messages, _ = run(ActionAnswerOrganisation(), tracker("ask_organisation", "Wat doet die organisatie?"))
    assert "Welke organisatie" in messages[0]["text"]


def test_capabilities_list_every_theme(kb):
    messages, _ = run(ActionListCapabilities(), tracker("ask_capabilities"))
    for theme in kb.themes:
        assert theme.label in messages[0]["text"]


def test_fallback_offers_two_topics_with_dutch_labels_and_something_else():
    from actions.actions import ActionAskWhichTopic

    track = tracker("nlu_fallback", "kan die gast bij ons beginnen")
    track.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "ask_paid_work", "confidence": 0.45},
        {"name": "out_of_scope", "confidence": 0.2},
        {"name": "ask_work_permit", "confidence": 0.2},
        {"name": "greet", "confidence": 0.1},
    ]
    messages, _ = run(ActionAskWhichTopic(), track)
    buttons = messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/ask_paid_work", "/ask_work_permit", "/out_of_scope"]
    assert buttons[0]["title"] == "Betaald werk" and buttons[-1]["title"] == "Iets anders"


def test_fallback_without_candidates_asks_to_rephrase():
    from actions.actions import ActionAskWhichTopic

    track = tracker("nlu_fallback", "x" * 1000)
    track.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 1.0}]
    messages, _ = run(ActionAskWhichTopic(), track)
    assert "kort" in messages[0]["text"] and not messages[0].get("buttons")


def test_longest_status_phrase_wins_over_the_first_entity():
    entities = [{"entity": "status", "value": "in het azc"}, {"entity": "status", "value": "verblijfsvergunning"}]
    track = tracker("inform_status", "Ze woont nog in het azc maar heeft al een verblijfsvergunning", entities=entities)
    result = asyncio.run(ValidateSlotMappings().extract_status(CollectingDispatcher(), track, DOMAIN))
    assert result == {"status": "status_holder"}


def test_button_feedback_is_silent_and_typed_feedback_is_answered():
    from actions.actions import ActionStoreFeedback

    entities = [{"entity": "feedback_value", "value": "up"}, {"entity": "feedback_rule", "value": "paid_work"}]
    silent, _ = run(ActionStoreFeedback(), tracker("feedback", "/feedback", entities=entities))
    typed, _ = run(ActionStoreFeedback(), tracker("feedback", "dit antwoord klopt niet"))
    assert silent == [] and "Dank je" in typed[0]["text"]


# ---------------------------------------------------------------- English (slot language = en)

def test_english_answer_comes_from_the_same_entry_with_the_same_sources(kb):
    dutch, _ = run(ActionAnswerRule(), tracker("ask_paid_work", status="asylum_seeker"))
    english, events = run(ActionAnswerRule(), tracker("ask_paid_work", status="asylum_seeker", language="en"))
    text = english[0]["text"]
    entry = kb.rule("paid_work")
    assert text.startswith("**%s**" % entry.title_in("en")) and entry.answer_for("asylum_seeker", "en") in text
    assert re.search(r"Source: \[[^\]]+\]\(https://[^)]+\)", text)
    assert re.search(r", as of [A-Z][a-z]+ 20\d\d .*· checked \d{1,2} [A-Z][a-z]+ 20\d\d", text)
    assert "Bron:" not in text and "nagekeken" not in text and "stand " not in text
    assert english[0]["lang"] == "en" and dutch[0]["lang"] == "nl"
    assert english[0]["sources"] == dutch[0]["sources"] and english[0]["rule_id"] == dutch[0]["rule_id"]
    assert events == [SlotSet("theme", "paid_work")]


def test_english_status_question_has_english_buttons_with_the_same_payloads():
    dutch, _ = run(ActionAnswerRule(), tracker("ask_paid_work", "May he work for us?"))
    english, _ = run(ActionAnswerRule(), tracker("ask_paid_work", "May he work for us?", language="en"))
    assert [b["title"] for b in english[0]["buttons"]] == [
        "Asylum seeker (still in the procedure)",
        "Status holder (has a residence permit)",
        "From Ukraine (temporary protection)",
        "Other / I don't know",
    ]
    assert [b["payload"] for b in english[0]["buttons"]] == [b["payload"] for b in dutch[0]["buttons"]]


def test_english_fallback_capabilities_organisation_and_feedback(kb):
    from actions.actions import ActionAskWhichTopic, ActionStoreFeedback

    track = tracker("nlu_fallback", "can that guy start with us", language="en")
    track.latest_message["intent_ranking"] = [{"name": "ask_paid_work", "confidence": 0.45}, {"name": "ask_organisation", "confidence": 0.3}]
    buttons = run(ActionAskWhichTopic(), track)[0][0]["buttons"]
    assert [b["title"] for b in buttons] == [kb.rule("paid_work").title_in("en"), "What an organisation does", "Something else"]
    capabilities = run(ActionListCapabilities(), tracker("ask_capabilities", language="en"))[0][0]["text"]
    assert all(theme.label_in("en") in capabilities for theme in kb.themes)
    organisation = run(ActionAnswerOrganisation(), tracker("ask_organisation", "What does the Dutch Council for Refugees do?", language="en"))[0][0]
    assert organisation["text"].endswith("Website: [vluchtelingenwerk.nl](https://www.vluchtelingenwerk.nl)") or "Website:" in organisation["text"]
    assert kb.organisations["vluchtelingenwerk"].description_in("en") in organisation["text"]
    feedback = run(ActionStoreFeedback(), tracker("feedback", "this answer is wrong", language="en"))[0][0]
    assert feedback["text"] == kb.phrase("feedback_typed", "en") and feedback["lang"] == "en"


@pytest.mark.parametrize("text, expected", [
    ("he is an asylum seeker", "asylum_seeker"),
    ("no, she already has a residence permit", "status_holder"),
    ("we are talking about Ukrainians", "ukrainian"),
    ("she is undocumented", "other"),
    ("he has no residence permit", "other"),  # the longer phrase wins
])
def test_english_status_words_fill_the_status(text, expected):
    result = asyncio.run(ValidateSlotMappings().extract_status(CollectingDispatcher(), tracker("inform_status", text), DOMAIN))
    assert result == {"status": expected}


KB_STATUS = {"nee, hij heeft al een verblijfsvergunning": "status_holder", "no, she is a status holder": "status_holder"}


@pytest.mark.parametrize("text, theme, answered", [
    ("nee, hij heeft al een verblijfsvergunning", "paid_work", True),  # corrects the status
    ("no, she is a status holder", "study", True),
    ("nee", "paid_work", False),
    ("nee, hij heeft al een verblijfsvergunning", None, False),  # nothing asked yet to answer again
])
def test_a_no_that_names_a_status_answers_the_last_rule_again(text, theme, answered):
    from actions.actions import ActionDeny

    status = KB_STATUS.get(text)
    messages, events = run(ActionDeny(), tracker("deny", text, status=status, theme=theme))
    if answered:
        assert messages[0]["rule_id"] == theme and messages[0]["status"] == status and events == [SlotSet("theme", theme)]
    else:
        assert len(messages) == 1 and messages[0]["response"] == "utter_deny" and events == []

