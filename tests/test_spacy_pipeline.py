"""Both Dutch spaCy pipeline paths: the project's own (blank Dutch + lookup lemmas + entity
ruler) and a trained `nl_core_news_sm` base. For the trained path the test trains and packages a
tiny Dutch pipeline under that name, then builds on it and trains a small Rasa NLU model on it."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.cli.package import package
from spacy.training import Example

from ops.build_spacy_pipeline import build, patterns_fingerprint, ruler_patterns
from regelhulp.paths import ROOT


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


def make_tiny_trained_dutch_package(folder: Path) -> Path:
    """Trains a tiny Dutch tagger + NER and packages it as nl_core_news_sm 3.4.0 (not installed)."""
    nlp = spacy.blank("nl")
    nlp.add_pipe("tagger")
    ner = nlp.add_pipe("ner")
    ner.add_label("LOC")
    sentences = [
        ("Ik woon in Utrecht", ["PRON", "VERB", "ADP", "PROPN"], [(11, 18, "LOC")]),
        ("Zij werkt in Arnhem", ["PRON", "VERB", "ADP", "PROPN"], [(13, 19, "LOC")]),
    ]
    examples = [Example.from_dict(nlp.make_doc(t), {"tags": tags, "entities": ents}) for t, tags, ents in sentences]
    random.seed(1)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(10):
        nlp.update(examples, sgd=optimizer)
    nlp.meta.update(name="core_news_sm", version="3.4.0")
    nlp.to_disk(folder / "trained")
    (folder / "dist").mkdir()
    package(folder / "trained", folder / "dist", create_sdist=False, force=True)
    source = folder / "dist" / "nl_core_news_sm-3.4.0"
    shutil.copy(source / "meta.json", source / "nl_core_news_sm" / "meta.json")  # what installing does
    return source


@pytest.mark.slow
def test_trained_model_path_builds_and_trains_with_rasa(tmp_path):
    package_dir = make_tiny_trained_dutch_package(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(package_dir), str(ROOT)]), TF_CPP_MIN_LOG_LEVEL="2")
    out = tmp_path / "nl_regelhulp"
    build_run = subprocess.run(
        [sys.executable, "-m", "ops.build_spacy_pipeline", "--output", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "nl_core_news_sm 3.4.0 + knowledge-base entity ruler" in build_run.stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["regelhulp"]["base"] == "nl_core_news_sm" and meta["regelhulp"]["base_version"] == "3.4.0"
    assert meta["pipeline"][:2] == ["tagger", "entity_ruler"]

    # A small Rasa NLU model on top of it: SpacyNLP loads it and the ruler's entities come through.
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_paid_work\n  examples: |\n    - mag een asielzoeker werken\n'
        "    - mag hij bij ons werken\n    - werken met een werkvergunning\n- intent: greet\n  examples: |\n"
        "    - hallo\n    - goedemorgen\n    - hoi daar\n"
    )
    (tmp_path / "config.yml").write_text(
        "recipe: default.v1\nlanguage: nl\nassistant_id: tiny\npipeline:\n"
        "  - name: SpacyNLP\n    model: %s\n  - name: SpacyTokenizer\n"
        "  - name: SpacyEntityExtractor\n    dimensions: [status, organisation]\n"
        "  - name: CountVectorsFeaturizer\n  - name: components.linear_intent_classifier.LinearIntentClassifier\n"
        "policies: []\n" % out
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "train",
            "nlu",
            "--config",
            "config.yml",
            "--nlu",
            "nlu.yml",
            "--out",
            "m",
            "--fixed-model-name",
            "tiny",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=True,
    )
    parse = subprocess.run(
        [
            sys.executable,
            "-c",
            "import asyncio,json;from rasa.core.agent import Agent;a=Agent.load('m/tiny.tar.gz');"
            "r=asyncio.run(a.parse_message('Mag een azc-bewoner werken?'));print(json.dumps([r['entities'],r['intent']['name']]))",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found, intent = json.loads(parse.stdout.strip().splitlines()[-1])
    assert [(e["entity"], e["value"]) for e in found] == [("status", "azc-bewoner")]
    assert intent == "ask_paid_work"  # the project's intent classifier on this pipeline's features
