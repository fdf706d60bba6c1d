"""The quick cross-validation indicator (tools/nlu_quick_cv.py) on small, made-up data."""

from __future__ import annotations

from pathlib import Path

from tools.nlu_quick_cv import cross_validate, load_examples, main

NL = ["mag hij werken {}", "mag zij hier werken {}", "werken met een vergunning {}", "wanneer mag ik werken {}"]
EN = ["can he work here {}", "may she work {}", "is working allowed {}", "when can I work {}"]
STUDY_NL = [
    "kan ik studeren {}",
    "studeren aan de universiteit {}",
    "studie aan het hbo {}",
    "mag ik een opleiding doen {}",
]
STUDY_EN = ["can I study {}", "study at university {}", "college course {}", "may I take a course {}"]


def _write(path: Path, intents: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = 'version: "3.1"\nnlu:\n'
    for intent, examples in intents.items():
        body += "  - intent: %s\n    examples: |\n" % intent + "".join("      - %s\n" % e for e in examples)
    path.write_text(body, encoding="utf-8")


def _data(tmp_path: Path, mixed_english: bool = False) -> Path:
    """Two clearly different intents per language; with mixed_english, every English sentence
    appears under both intents (numbered apart), so nothing can tell the two apart."""
    nlu = tmp_path / "data" / "nlu"

    def expand(templates):  # type: ignore[no-untyped-def]
        return [t.format(i) for t in templates for i in range(3)]

    _write(nlu / "work.yml", {"ask_paid_work": expand(NL), "ask_study": expand(STUDY_NL)})
    if mixed_english:
        sentences = expand(EN + STUDY_EN)
        english = {"ask_paid_work": sentences[0::2], "ask_study": sentences[1::2]}
    else:
        english = {"ask_paid_work": expand(EN), "ask_study": expand(STUDY_EN)}
    _write(nlu / "en" / "work.yml", english)
    return tmp_path


def test_examples_carry_their_language_and_lose_entity_markup(tmp_path):
    root = _data(tmp_path)
    (root / "data" / "nlu" / "status.yml").write_text(
        'version: "3.1"\nnlu:\n  - intent: inform_status\n    examples: |\n      - ik ben [statushouder](status)\n'
    )
    examples = load_examples(root)
    assert ("ik ben statushouder", "inform_status", "nl") in examples
    assert {lang for _, _, lang in examples} == {"nl", "en"}
    assert sum(lang == "en" for _, _, lang in examples) == 24


def test_separable_intents_score_high_and_mixed_ones_low(tmp_path):
    clean = cross_validate(load_examples(_data(tmp_path / "a")), folds=3)
    assert clean["nl"]["macro_f1"] > 0.8 and clean["en"]["macro_f1"] > 0.8
    mixed = cross_validate(load_examples(_data(tmp_path / "b", mixed_english=True)), folds=3)
    assert mixed["en"]["macro_f1"] < 0.7 and mixed["nl"]["macro_f1"] > 0.8


def test_main_writes_the_report(tmp_path):
    assert main(["--root", str(_data(tmp_path)), "--folds", "3", "--out", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "nlu_quick.md").read_text()
    assert "| en | 24 |" in report and "Weakest intents (nl)" in report
