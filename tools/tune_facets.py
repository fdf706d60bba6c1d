"""`make tune-facets`: chooses the facet classifier's regularisation (C) and least probability
(regelhulp/facet_selection.py) on the development sets of concrete questions, eval/development/facets*.yml,
never on an evaluation set.

Each question is known to belong to an entry (its expected intent); within that entry the selector
picks a facet or leaves the entry's overview answer. Per setting: right (the facet, or the overview
where that is right), overview where a facet was asked (general, not wrong), a facet where the
overview was right, and the wrong facet (costs WRONG_FACET_COST). Writes reports/facet_tuning.md.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from regelhulp.paths import ROOT
from tools.tuning import announce_best, write_report

DEV_SETS = [ROOT / "eval" / "development" / "facets.yml", ROOT / "eval" / "development" / "facets2.yml"]
WRONG_FACET_COST = 3
CS = [0.1, 0.2, 0.5, 1.0]
THRESHOLDS = [0.0, 0.2, 0.3, 0.4]
KINDS = ("right", "overview", "facet_for_overview", "wrong_facet")


def outcome(expected: str, chosen: Optional[str]) -> str:
    chosen = chosen or "overview"
    if chosen == expected:
        return "right"
    if chosen == "overview":
        return "overview"
    return "facet_for_overview" if expected == "overview" else "wrong_facet"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, nargs="+", default=DEV_SETS)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    from regelhulp import facet_selection
    from regelhulp.knowledge import load

    kb = load()
    overviews = facet_selection.overview_examples(kb)
    # single messages only: the last turn of a conversation depends on what came before
    cases = [
        c for path in args.dev for c in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"] if "question" in c
    ]
    rows: List[Dict[str, object]] = []
    for c in CS:
        selector = facet_selection.FacetSelector(kb, overviews, c=c)
        for threshold in THRESHOLDS:
            counts: Dict[str, Counter] = {"nl": Counter(), "en": Counter()}
            for case in cases:
                entry = kb.rule_for_intent(case["expected_intent"])
                match = selector.select(case["question"], case["lang"], entry.id, threshold) if entry else None
                counts[case["lang"]][outcome(case["expected_facet"], match.facet.id if match else None)] += 1
            for language, found in counts.items():
                cost = found["overview"] + found["facet_for_overview"] + WRONG_FACET_COST * found["wrong_facet"]
                rows.append(
                    dict(
                        c=c,
                        threshold=threshold,
                        language=language,
                        total=sum(found.values()),
                        cost=cost,
                        **{k: found[k] for k in KINDS},
                    )
                )
    current = (facet_selection.C, facet_selection.THRESHOLD)
    lines = [
        "# Facet selection",
        "",
        "Development sets %s: %d questions. Current setting: C %.2f, least probability %.2f. "
        "Cost = overview where a facet was asked + facet where the overview was right + %d x wrong facet."
        % (
            ", ".join("`%s`" % p.resolve().relative_to(ROOT) for p in args.dev),
            len(cases),
            current[0],
            current[1],
            WRONG_FACET_COST,
        ),
        "",
    ]
    for language in ("nl", "en"):
        mine = sorted((r for r in rows if r["language"] == language), key=lambda r: (r["cost"], r["c"], r["threshold"]))
        lines += [
            "## %s" % {"nl": "Dutch", "en": "English"}[language],
            "",
            "| C | least probability | questions | right | overview | facet for overview | wrong facet | cost |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in mine:
            mark = " (current)" if (r["c"], r["threshold"]) == current else ""
            lines.append(
                "| %.2f%s | %.2f | %d | %d (%.1f%%) | %d | %d | %d | %d |"
                % (
                    r["c"],
                    mark,
                    r["threshold"],
                    r["total"],
                    r["right"],
                    100.0 * r["right"] / r["total"],
                    r["overview"],
                    r["facet_for_overview"],
                    r["wrong_facet"],
                    r["cost"],
                )
            )
        lines.append("")
        cheapest = "(cheapest) C {c:.2f}, least probability {threshold:.2f} -> right {right} of {total}, wrong facet {wrong_facet}"
        announce_best(language, mine[0], cheapest)
    return write_report(args.out, "facet_tuning.md", lines)


if __name__ == "__main__":
    sys.exit(main())
