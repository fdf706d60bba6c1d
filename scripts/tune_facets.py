"""`make tune-facets`: chooses the facet-selection threshold (actions/facet_selection.py) on the
development set of concrete questions, tests/dev/facets.yml, never on an evaluation set.

Each question is known to belong to an entry (its expected intent); within that entry the selector
either picks a facet (similarity >= threshold, and above the entry's general questions) or leaves
the entry's overview answer. Per threshold:
right facet, overview where a facet was asked (the answer is general, not wrong), a facet where the
overview was right, and the wrong facet (costs WRONG_FACET_COST). Writes reports/facet_tuning.md.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from scripts.train import ROOT

DEV_SET = ROOT / "tests" / "dev" / "facets.yml"
WRONG_FACET_COST = 3
THRESHOLDS = [round(0.20 + 0.05 * i, 2) for i in range(13)]  # 0.20 ... 0.80
MARGINS = [0.0, 0.05, 0.1, 0.15, 0.2, 1.0]  # 1.0: the general questions are ignored


def outcome(expected: str, best: Optional[str], score: float, overview: float, threshold: float, margin: float) -> str:
    chosen = best if best is not None and score >= threshold and score > overview - margin else "overview"
    if chosen == expected:
        return "right"
    if chosen == "overview":
        return "overview"
    return "facet_for_overview" if expected == "overview" else "wrong_facet"


def sweep(predictions: List[Dict[str, object]]) -> List[Dict[str, float]]:
    rows = []
    for threshold in THRESHOLDS:
        for margin in MARGINS:
            counts = Counter(outcome(p["expected"], p["best"], p["score"], p["overview"], threshold, margin)  # type: ignore[arg-type]
                             for p in predictions)
            cost = counts["overview"] + counts["facet_for_overview"] + WRONG_FACET_COST * counts["wrong_facet"]
            rows.append(dict(threshold=threshold, margin=margin, cost=cost,
                             **{k: counts[k] for k in ("right", "overview", "facet_for_overview", "wrong_facet")}))
    return sorted(rows, key=lambda r: (r["cost"], -r["threshold"], r["margin"]))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV_SET)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from actions.facet_selection import OVERVIEW_MARGIN, THRESHOLD, FacetSelector
    from actions.knowledge import load

    kb = load()
    selector = FacetSelector(kb)
    cases = yaml.safe_load(args.dev.read_text(encoding="utf-8"))["cases"]
    lines = ["# Facet selection threshold", "", "Development set `%s`: %d questions. Current threshold %.2f. "
             "Cost = overview where a facet was asked + facet where the overview was right + %d x wrong facet. "
             "Margin: a facet must be at least as similar as the entry's general questions minus the margin." % (
                 args.dev.relative_to(ROOT) if args.dev.is_relative_to(ROOT) else args.dev, len(cases), THRESHOLD, WRONG_FACET_COST), ""]
    for language in ("nl", "en"):
        predictions = []
        for case in (c for c in cases if c.get("lang") == language):
            entry = kb.rule_for_intent(case["expected_intent"])
            ranking = selector.ranking(case["question"], language, [entry.id]) if entry else []
            predictions.append({"expected": case["expected_facet"], "best": ranking[0].facet.id if ranking else None,
                                "score": ranking[0].score if ranking else 0.0,
                                "overview": selector.overview_score(case["question"], language, entry.id) if entry else 0.0})
        rows = sweep(predictions)
        current = next((r for r in rows if abs(r["threshold"] - THRESHOLD) < 1e-9 and abs(r["margin"] - OVERVIEW_MARGIN) < 1e-9), None)
        lines += ["## %s (%d questions)" % ({"nl": "Dutch", "en": "English"}[language], len(predictions)), ""]
        if current:
            lines += ["At the current threshold: right %(right)d, overview %(overview)d, facet for overview %(facet_for_overview)d, "
                      "wrong facet %(wrong_facet)d." % current, ""]
        lines += ["| threshold | margin | right | overview | facet for overview | wrong facet | cost |", "|---:|---:|---:|---:|---:|---:|---:|"]
        lines += ["| %.2f | %.2f | %d | %d | %d | %d | %d |" % (r["threshold"], r["margin"], r["right"], r["overview"], r["facet_for_overview"],
                                                              r["wrong_facet"], r["cost"]) for r in rows[:20]]
        lines.append("")
        best = rows[0]
        print("%s: best threshold %.2f margin %.2f -> right %d, overview %d, facet for overview %d, wrong facet %d (of %d)" % (
            language, best["threshold"], best["margin"], best["right"], best["overview"], best["facet_for_overview"], best["wrong_facet"], len(predictions)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "facet_tuning.md").write_text("\n".join(lines) + "\n")
    print("reports/facet_tuning.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
