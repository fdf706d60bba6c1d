"""`make tune-fallback`: chooses the fallback thresholds, per language, on the realistic development
sets (eval/development/real_nl.yml, eval/development/real_en.yml: questions as real users write them, never used
for training), never on the evaluation sets. Single-message cases only: a conversation's last turn
depends on what came before.

For every dev question the trained model's intent ranking is taken without the fallback; for a
grid of (threshold, ambiguity) pairs each question is then *answered right*, *answered wrong* or
*sent to the fallback* (which asks "did you mean ...?" instead of answering). A wrong answer
costs WRONG_COST times as much as a fallback, because a confident wrong rule is the worst outcome.
Writes reports/fallback_tuning.md; config.yml is changed by hand from its advice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import yaml

from ops.train import train
from regelhulp.paths import ROOT
from tools.tuning import announce_best, write_report

DEV_SETS = [ROOT / "eval" / "development" / "real_nl.yml", ROOT / "eval" / "development" / "real_en.yml"]
WRONG_COST = 4
THRESHOLDS = [round(0.20 + 0.05 * i, 2) for i in range(16)]  # 0.20 ... 0.95
AMBIGUITIES = [0.0, 0.02, 0.05, 0.1, 0.15]


def rankings(model: Path, questions: List[str]) -> List[List[Tuple[str, float]]]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse_all() -> List[List[Tuple[str, float]]]:
        result = []
        for text in questions:
            parsed = await agent.parse_message(text)
            ranking = [
                (r["name"], float(r["confidence"]))
                for r in parsed.get("intent_ranking", [])
                if r["name"] != "nlu_fallback"
            ]
            result.append(ranking)
        return result

    return asyncio.run(parse_all())


def outcome(ranking: List[Tuple[str, float]], expected: Set[str], threshold: float, ambiguity: float) -> str:
    top, confidence = ranking[0]
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    if confidence < threshold or confidence - second < ambiguity:
        return "fallback"
    return "right" if top in expected else "wrong"


def count_outcomes(
    results: List[List[Tuple[str, float]]], expected: List[Set[str]], threshold: float, ambiguity: float
) -> Dict[str, int]:
    counts = {"right": 0, "wrong": 0, "fallback": 0}
    for ranking, intent in zip(results, expected):
        counts[outcome(ranking, intent, threshold, ambiguity)] += 1
    return counts


def sweep(results: List[List[Tuple[str, float]]], expected: List[Set[str]]) -> List[Dict[str, float]]:
    rows = []
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITIES:
            counts = count_outcomes(results, expected, threshold, ambiguity)
            rows.append(
                dict(
                    threshold=threshold,
                    ambiguity=ambiguity,
                    cost=counts["fallback"] + WRONG_COST * counts["wrong"],
                    **counts,
                )
            )
    return sorted(rows, key=lambda r: (r["cost"], -r["threshold"]))


def _report(
    language: str, dev: List[str], questions: List[str], expected: List[Set[str]], results, rows, current: Dict
) -> List[str]:
    counts = count_outcomes(results, expected, current["threshold"], current["ambiguity_threshold"])
    lines = [
        "## %s" % {"nl": "Dutch", "en": "English"}.get(language, language),
        "",
        "Development set: %s (%d questions, not used for training or evaluation). Cost = fallbacks + %d × wrong answers."
        % (", ".join("`%s`" % name for name in dev), len(questions), WRONG_COST),
        "",
        "At the current setting (%s, %s): right %d, wrong %d, fallback %d."
        % (current["threshold"], current["ambiguity_threshold"], counts["right"], counts["wrong"], counts["fallback"]),
        "",
        "| threshold | ambiguity | right | wrong | fallback | cost |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        "| %.2f | %.2f | %d | %d | %d | %d |"
        % (r["threshold"], r["ambiguity"], r["right"], r["wrong"], r["fallback"], r["cost"])
        for r in sorted((r for r in rows if r["ambiguity"] == 0.0), key=lambda r: r["threshold"])
    ]
    wrong = [(q, "/".join(sorted(e)), r[0]) for q, e, r in zip(questions, expected, results) if r[0][0] not in e]
    lines += [
        "",
        "Top intent differs from the expected one (%d):" % len(wrong),
        "",
        "| question | expected | predicted |",
        "|---|---|---|",
    ]
    lines += ["| %s | %s | %s (%.2f) |" % (q.replace("|", "/")[:100], e, p[0], p[1]) for q, e, p in wrong]
    return lines + [""]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, nargs="+", default=DEV_SETS)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    cases = [
        dict(c, source=str(path.relative_to(ROOT)))
        for path in args.dev
        for c in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        if "question" in c
    ]
    model = train()
    current = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    resolver = next(c for c in current if c["name"].endswith("IntentResolver"))
    lines = [
        "# Fallback threshold tuning",
        "",
        "Current config (IntentResolver): thresholds %s. Each language is swept on its own; the ambiguity "
        "column shows what a minimum distance to the second intent would add (not in use)." % resolver["threshold"],
        "",
    ]
    all_questions = [c["question"] if "question" in c else c["turns"][-1] for c in cases]
    all_results = rankings(model, all_questions)
    for language in sorted({c.get("lang", "nl") for c in cases if c.get("lang") in ("nl", "en")}, reverse=True):
        chosen = [i for i, c in enumerate(cases) if c.get("lang", "nl") == language]
        questions = [all_questions[i] for i in chosen]
        expected = [{cases[i]["expected_intent"], *cases[i].get("also_ok", [])} for i in chosen]
        results = [all_results[i] for i in chosen]
        rows = sweep(results, expected)
        sources = sorted({cases[i]["source"] for i in chosen})
        current_setting = {"threshold": resolver["threshold"][language], "ambiguity_threshold": 0.0}
        lines += _report(language, sources, questions, expected, results, rows, current_setting)
        announce_best(
            language,
            rows[0],
            "threshold {threshold:.2f}, ambiguity {ambiguity:.2f} -> {right} right, {wrong} wrong, {fallback} fallback",
        )
    return write_report(args.out, "fallback_tuning.md", lines)


if __name__ == "__main__":
    sys.exit(main())
