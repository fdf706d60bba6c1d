"""Configs derived from config.yml, so that the pipeline is written down in one place only.

- NLU testing: the same pipeline without the fallback components and the language marker, so
  cross-validation scores are not mixed with nlu_fallback predictions.
- Baseline: no `pipeline:` at all, so Rasa fills in its default pipeline; same policies.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from scripts.train import ROOT

# Left out when testing the NLU: the fallbacks and the intent resolver (rules on top of the
# classifier), and the language and status markers (their entity values are not annotated that way
# in the training data).
FALLBACK_COMPONENTS = {
    "FallbackClassifier",
    "components.intent_resolver.IntentResolver",
    "components.status_extractor.StatusExtractor",
    "components.message_guard.LongMessageFallback",
    "components.language.LanguageDetector",
}


def _write(config: dict, name: str) -> Path:
    target = ROOT / "build" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("# Generated from config.yml by scripts/derived_configs.py; do not edit.\n" + yaml.safe_dump(config, sort_keys=False))
    return target


def base_config() -> dict:
    return yaml.safe_load((ROOT / "config.yml").read_text())


def nlu_testing_config() -> Path:
    config = base_config()
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in FALLBACK_COMPONENTS]
    config.pop("policies", None)
    return _write(config, "config_nlu_testing.yml")


def baseline_config() -> Path:
    config = base_config()
    config.pop("pipeline")
    config["assistant_id"] = "regelhulp_baseline"
    return _write(config, "config_baseline.yml")
