"""`make nlu-quick`: a fast indicator of how separable the intents are, in about a minute.

The real measure is `make nlu-report` (the pipeline of config.yml, k-fold), which on 2 cores takes
about 12 minutes. This runs the same k-fold split with a simple, well-known classifier (TF-IDF on
word 1-2-grams and character 2-5-grams, a linear SVM) on the raw text, per language, without the
spaCy pipeline. It is an indicator for data work between real runs, not a replacement: on the data
of 6 December it gave 0.921 where `make nlu-report` gave 0.916 (and 0.858 with DIET, which the
pipeline used before). Writes reports/nlu_quick.md with macro F1 per language and the weakest intents.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from rasa.shared.nlu.training_data.loading import load_data
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import classification_report, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

from ops.validate_knowledge import ENGLISH_NLU_DIR, yaml_files
from regelhulp.paths import ROOT

Example = Tuple[str, str, str]  # text, intent, language


def load_examples(root: Path = ROOT) -> List[Example]:
    """Every intent example of the project at root, entity markup removed; English examples are
    the ones under ENGLISH_NLU_DIR, as `make validate` counts them."""
    examples = []
    english_dir = root / ENGLISH_NLU_DIR
    for path in yaml_files(root / "data" / "nlu"):
        language = "en" if english_dir in path.parents else "nl"
        for message in load_data(str(path)).intent_examples:
            examples.append((message.get("text"), message.get("intent"), language))
    return examples


def cross_validate(examples: List[Example], folds: int = 5) -> Dict[str, dict]:
    """Out-of-fold predictions for all examples; a classification report per language and overall."""
    texts = [text for text, _, _ in examples]
    intents = [intent for _, intent, _ in examples]
    classifier = make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
        ),
        LinearSVC(C=0.5),
    )
    predicted = cross_val_predict(classifier, texts, intents, cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    reports = {}
    for language in ("all", "nl", "en"):
        chosen = [i for i, (_, _, lang) in enumerate(examples) if language in ("all", lang)]
        if not chosen:
            continue
        truth, guess = [intents[i] for i in chosen], [predicted[i] for i in chosen]
        report = classification_report(truth, guess, output_dict=True, zero_division=0)
        report["macro_f1"] = f1_score(truth, guess, average="macro", zero_division=0)
        report["examples"] = len(chosen)
        reports[language] = report
    return reports


def summarise(reports: Dict[str, dict], folds: int) -> str:
    lines = [
        "# Quick NLU cross-validation (indicator)",
        "",
        "%d-fold, TF-IDF + linear SVM on data/nlu. An indicator between runs of `make nlu-report`, not the official figure."
        % folds,
        "",
        "| language | examples | macro F1 |",
        "|---|---:|---:|",
    ]
    lines += ["| %s | %d | %.3f |" % (lang, r["examples"], r["macro_f1"]) for lang, r in reports.items()]
    for lang, report in reports.items():
        intents = {k: v for k, v in report.items() if isinstance(v, dict) and k not in ("macro avg", "weighted avg")}
        weakest = sorted(intents.items(), key=lambda kv: kv[1]["f1-score"])[:8]
        lines += [
            "",
            "Weakest intents (%s): %s" % (lang, ", ".join("%s %.2f" % (k, v["f1-score"]) for k, v in weakest)),
        ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project whose data/nlu is cross-validated")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    reports = cross_validate(load_examples(args.root), args.folds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nlu_quick.md").write_text(summarise(reports, args.folds))
    print(" · ".join("%s macro F1 %.3f" % (lang, r["macro_f1"]) for lang, r in reports.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
