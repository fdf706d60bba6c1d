"""Which language a message is in (regelhulp/language.py and the component in components/language.py), on its own and in the NLU pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from components.language import LanguageDetector
from regelhulp.language import detect_language, message_language, requested_language
from regelhulp.paths import ROOT


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Mag een asielzoeker bij ons werken?", "nl"),
        ("Can an asylum seeker work for us?", "en"),
        ("Hi there!", "en"),
        ("hoi", "nl"),
        ("bedankt!", "nl"),
        ("thanks, that was helpful", "en"),
        ("i am asylum seeker can i work", "en"),  # non-native English
        ("ik ben statushouder mag ik studeren", "nl"),
        ("TWV aanvragen, how?", None),  # as much of each: no verdict
        ("TWV?", None),
        ("ok", None),
        ("", None),
        ("<script>alert(1)</script>", None),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("answer in Dutch please", "switch_language", "nl"),  # written in English, asks for Dutch
        ("kun je in het Engels antwoorden?", "switch_language", "en"),
        (
            "Mijn Nederlands is niet goed, kun je in het Engels schrijven?",
            "switch_language",
            "en",
        ),  # the last one named
        ("Mag ik in het Engels studeren?", "ask_study", "nl"),  # names a language, but is no switch request
        ("I don't speak Dutch, can I still study?", "ask_study", "en"),
    ],
)
def test_message_language(text, intent, expected):
    assert message_language(text, intent) == expected


def test_requested_language_names_nothing():
    assert requested_language("can you answer differently?") is None


def test_component_adds_the_language_entity_but_not_for_button_payloads():
    english = Message.build(text="Can he work for us?")
    unclear = Message.build(text="TWV?")
    payload = Message.build(text='/inform_status{"status": "ukrainian"}')
    LanguageDetector().process([english, unclear, payload])
    assert [(e["entity"], e["value"]) for e in english.get("entities")] == [("language", "en")]
    assert not unclear.get("entities") and not payload.get("entities")


def _examples(path: Path):
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        for line in item["examples"].splitlines():
            if line.strip().startswith("- "):
                yield re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:])


def test_training_examples_are_detected_in_their_own_language():
    """Every English example (data/nlu/en/) reads as English or as no language; Dutch files hold a
    few English chitchat lines ("thanks", "hello"), so for them at most 2% may read as English."""
    english_dir = ROOT / "data" / "nlu" / "en"
    wrong_english, dutch_total, dutch_as_english = [], 0, 0
    for path in sorted((ROOT / "data" / "nlu").rglob("*.yml")):
        for text in _examples(path):
            found = detect_language(text)
            if english_dir in path.parents:
                if found == "nl":
                    wrong_english.append(text)
            else:
                dutch_total += 1
                dutch_as_english += found == "en"
    assert len(wrong_english) <= 2, wrong_english
    assert dutch_as_english / dutch_total <= 0.02
