"""The slow tests split from tests/unit/test_spacy_pipeline.py (real servers or training)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import make_tiny_trained_dutch_package

from regelhulp.paths import ROOT


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
