"""Builds the Dutch spaCy pipeline that config.yml's SpacyNLP loads (build/spacy/nl_regelhulp).

Base: spaCy's trained `nl_core_news_sm` 3.4.x when it is installed; otherwise spaCy's Dutch
language class with lookup lemmas from spacy-lookups-data. Both get an entity ruler generated
from the knowledge base (status groups and organisations with their synonyms), so entity
extraction does not depend on which base is available. The pipeline's meta records the base
and a fingerprint of the entity-ruler patterns; the model fingerprint (ops/train.py) includes it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Optional

import spacy

from regelhulp.knowledge import KnowledgeBase, fold, load
from regelhulp.paths import ROOT

DEFAULT_OUTPUT = ROOT / "build" / "spacy" / "nl_regelhulp"
TRAINED_MODEL = "nl_core_news_sm"
BUILDER_VERSION = 2  # bump when the way the pipeline is built changes


def ruler_patterns(kb: KnowledgeBase) -> List[Dict[str, str]]:
    """Entity-ruler patterns: every synonym, also without accents, labelled and tagged with its id."""
    patterns = []
    groups = [("status", g.id, g.synonyms) for g in kb.status_groups]
    groups += [("organisation", o.id, o.synonyms + (o.abbreviation,)) for o in kb.organisations.values()]
    for label, key, synonyms in groups:
        for phrase in sorted({variant for s in synonyms for variant in (s.lower(), fold(s))}):
            patterns.append({"label": label, "pattern": phrase, "id": key})
    return patterns


def patterns_fingerprint(patterns: List[Dict[str, str]]) -> str:
    """Identifies the entity-ruler content: answer texts can change without a rebuild or retraining."""
    return hashlib.sha256(json.dumps(patterns, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def trained_model_version(name: str = TRAINED_MODEL) -> Optional[str]:
    """The version of an installed trained Dutch model that fits spaCy 3.4, or None."""
    if importlib.util.find_spec(name) is None:
        return None
    version = str(getattr(importlib.import_module(name), "__version__", ""))
    return version if version.startswith("3.4.") else None


def base_pipeline(base: str) -> spacy.language.Language:
    if base == "blank":
        nlp = spacy.blank("nl")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()  # loads the lookup table from spacy-lookups-data
        return nlp
    return importlib.import_module(base).load()  # a model package, installed or on the path


def choose_base(requested: str) -> str:
    if requested != "auto":
        return requested
    return TRAINED_MODEL if trained_model_version() else "blank"


def describe(base: str) -> str:
    if base == "blank":
        return "spaCy Dutch language class + lookup lemmas (spacy-lookups-data) + knowledge-base entity ruler"
    return "%s %s + knowledge-base entity ruler" % (base, trained_model_version(base) or "")


def build(kb: KnowledgeBase, output: Path, requested_base: str = "auto", force: bool = False) -> Dict[str, str]:
    base = choose_base(requested_base)
    patterns = ruler_patterns(kb)
    info = {
        "base": base,
        "base_version": "" if base == "blank" else (trained_model_version(base) or "unknown"),
        "patterns": patterns_fingerprint(patterns),
        "builder": str(BUILDER_VERSION),
        "spacy": spacy.__version__,
    }
    meta_file = output / "meta.json"
    if not force and meta_file.exists():
        if json.loads(meta_file.read_text()).get("regelhulp") == info:
            print("spaCy pipeline up to date: %s (%s)" % (output, describe(base)))
            return info
    nlp = base_pipeline(base)
    ruler = nlp.add_pipe(
        "entity_ruler",
        before="ner" if "ner" in nlp.pipe_names else None,
        config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True},
    )
    ruler.add_patterns(patterns)
    nlp.meta["name"] = "regelhulp"
    nlp.meta["version"] = "1.0.%s" % BUILDER_VERSION
    nlp.meta["description"] = describe(base)
    nlp.meta["regelhulp"] = info
    if output.exists():
        shutil.rmtree(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    print("spaCy pipeline built: %s (%s)" % (output, describe(base)))
    return info


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--base", default="auto", help="auto (nl_core_news_sm if installed, else blank), blank, or a package name"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    build(load(), args.output, args.base, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
