"""Which concrete question (facet) of an entry a message asks: regelhulp/facet_selection.py.

The selector is fitted on the facets of the real knowledge base and a small fixture of general
questions per entry (instead of the NLU examples), so these tests do not depend on data/nlu.
"""

from __future__ import annotations

import pytest

from regelhulp import facet_selection
from regelhulp.facet_selection import FacetSelector

GENERAL = {
    "work_permit": {
        "nl": [
            "wat is een twv",
            "vertel me over de werkvergunning",
            "werkvergunning asielzoeker",
            "hoe zit het met de tewerkstellingsvergunning",
            "uitleg over de TWV graag",
            "TWV voor asielzoekers",
        ],
        "en": ["what is a twv", "tell me about the work permit", "work permit asylum seeker", "explain the TWV please"],
    },
    "volunteering": {
        "nl": [
            "mag een asielzoeker vrijwilligerswerk doen",
            "vrijwilligerswerk asielzoeker",
            "regels vrijwilligerswerk vluchteling",
            "vrijwilligerswerk met status",
        ],
        "en": ["may an asylum seeker volunteer", "volunteering refugee rules", "can refugees do volunteer work"],
    },
}


@pytest.fixture(scope="module")
def selector(kb):
    return FacetSelector(kb, overviews=GENERAL)


def test_a_concrete_question_gets_its_facet(selector, kb):
    facet = kb.facet("work_permit.duration")
    match = selector.select(
        facet.question_in("nl") + " Wij willen graag snel beginnen met onze nieuwe medewerker.", "nl", "work_permit"
    )
    assert match is not None and match.facet.id == facet.id


def test_a_general_question_gets_the_overview(selector):
    assert selector.select("vertel me over de werkvergunning", "nl", "work_permit") is None


def test_a_short_question_gets_a_facet_only_when_it_is_probable(selector, kb, monkeypatch):
    text = "werkvergunning asielzoeker kosten"
    assert len(text.split()) <= facet_selection.SHORT_WORDS
    label, probability = selector.classifiers["work_permit"].best(text)
    monkeypatch.setattr(facet_selection, "SHORT_PROBABILITY", probability + 0.01)
    assert selector.select(text, "nl", "work_permit") is None
    monkeypatch.setattr(facet_selection, "SHORT_PROBABILITY", 0.0)
    chosen = selector.select(text, "nl", "work_permit")
    assert (chosen.facet.id if chosen else facet_selection.OVERVIEW) == (
        label if label != facet_selection.OVERVIEW else "overview"
    )


def test_ranking_keeps_to_the_given_entries(selector):
    ranking = selector.ranking("hoe lang duurt het", "nl", ["volunteering"])
    assert ranking and all(m.facet.entry == "volunteering" for m in ranking)
    assert [m.score for m in ranking] == sorted((m.score for m in ranking), reverse=True)


def test_a_follow_up_needs_a_clear_winner(selector, kb):
    facet = kb.facet("work_permit.duration")
    match = selector.follow_up("and how long does that take?", "en", ["work_permit"])
    assert match is not None and match.facet.id == facet.id
    assert selector.follow_up("ok", "en", ["work_permit"]) is None


def test_an_entry_without_facets_or_examples_gives_the_overview(kb):
    lonely = FacetSelector(kb, overviews={})
    assert lonely.select("iets heel anders", "nl", "no_such_entry") is None


def test_a_longer_question_in_general_wording_needs_a_probable_facet(selector, kb, monkeypatch):
    text = "Kun je mij eens uitleggen hoe dat precies werkt met de werkvergunning en de kosten voor een asielzoeker?"
    assert len(text.split()) > facet_selection.SHORT_WORDS and kb.asks_in_general(text)
    assert not kb.asks_in_general("Hoeveel kost een werkvergunning voor een asielzoeker bij UWV?")
    label, probability = selector.classifiers["work_permit"].best(text)
    monkeypatch.setattr(facet_selection, "SHORT_PROBABILITY", probability + 0.01)
    assert selector.select(text, "nl", "work_permit") is None


@pytest.mark.parametrize(
    "text, cued",
    [
        (
            "Mijn buurman heeft een verblijfsvergunning, 45 jaar, en wil naar het mbo. Krijgt hij studiefinanciering?",
            True,
        ),
        ("I'm 42 and have a residence permit, can I get student finance?", True),
        ("een 38-jarige statushouder wil naar het hbo, welke financiering is er?", True),
        ("Ik ben jonger dan 30 jaar, krijg ik studiefinanciering?", False),
        ("Hij woont hier al 35 jaar, krijgt hij studiefinanciering?", False),
    ],
)
def test_a_facet_cue_settles_the_concrete_question(selector, text, cued):
    match = selector.select(text, "en" if text.startswith("I'm") else "nl", "student_finance")
    assert (match is not None and match.facet.id == "student_finance.over_30") is cued
