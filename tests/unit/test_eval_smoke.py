"""A short version of the answer-level evaluation, on the shared test servers, plus the scoring
rules and the question-set checks of tools/evaluate.py."""

from __future__ import annotations

import pytest
from conftest import EVAL_DIR

from tools.evaluate import Case, QuestionSetError, load_cases, main, score, summarise, visible_words


def case(**fields):
    base = dict(id="c", turns=["q"], must_match=["TWV"], must_not_match=["geen vergunning"])
    base.update(fields)
    return Case(**base)


def test_scoring_rules():
    assert score(case(), "Je hebt een twv nodig").outcome == "correct"  # case-insensitive
    assert score(case(), "Een TWV? Nee, geen vergunning nodig").outcome == "wrong"  # wrong beats correct
    assert score(case(), "Daar weet ik niets van").outcome == "missed"


def test_summary_counts_per_group():
    results = [score(case(id="a", topic="x"), "TWV"), score(case(id="b", topic="y"), "nee")]
    for result in results:
        result.latencies = [0.1]
    summary = summarise(results)
    assert summary["overall"]["correct"] == 1 and summary["overall"]["missed"] == 1
    assert summary["by"]["topic"]["x"]["correct"] == 1 and summary["by"]["topic"]["y"]["missed"] == 1


def test_the_first_message_is_measured_in_the_words_a_person_sees():
    assert visible_words("Vraag het [UWV](https://www.uwv.nl/werkgevers/lange/pagina) vandaag") == 4
    results = [score(case(id=str(n), topic="x"), "TWV") for n in range(3)]
    for result, words in zip(results, (10, 30, 80)):
        result.first_words = words
    assert summarise(results)["choices"]["all"]["first_message_words_median"] == 30


def test_project_question_sets_are_valid():
    assert len(load_cases(EVAL_DIR / "questions.yml")) >= 150
    assert load_cases(EVAL_DIR / "smoke.yml")


@pytest.mark.parametrize(
    "text,message",
    [
        ("cases:\n  - id: a\n    question: q\n    turns: [q]\n    must_match: [x]\n", "either 'question' or 'turns'"),
        ("cases:\n  - id: a\n    question: q\n    must_match: ['(']\n", "invalid regex"),
        (
            "cases:\n  - id: a\n    question: q\n    must_match: [x]\n  - id: a\n    question: q\n    must_match: [x]\n",
            "used twice",
        ),
        ("nope: []\n", "top-level 'cases:'"),
    ],
)
def test_bad_question_sets_are_rejected_with_the_case_named(tmp_path, text, message):
    path = tmp_path / "q.yml"
    path.write_text(text)
    with pytest.raises(QuestionSetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_cases(path)


def test_a_missing_model_is_named_before_anything_runs(tmp_path, capsys):
    assert main(["--model", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path)]) == 2
    assert "no model at" in capsys.readouterr().err
    assert not (tmp_path / "eval.md").exists()
