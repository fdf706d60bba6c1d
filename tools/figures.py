"""`make figures`: evaluates every question set with the current model and writes docs/figures.md.

Development sets (eval/development/real_*.yml) are shown with their failing-case counts per style; the
evaluation sets (eval/evaluation/*.yml except the smoke set) with figures only: nobody tunes on them.
The README links to this file; no figure is typed by hand.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from ops.train import train
from regelhulp.paths import ROOT
from tools.evaluate import evaluate

SETS = [
    ("eval/evaluation/real.yml", "evaluation (fresh, December 2026; reporting only)", True),
    ("eval/evaluation/questions.yml", "evaluation (older; used for data checks until December 2026)", True),
    ("eval/development/real_nl.yml", "development, Dutch (tuning)", False),
    ("eval/development/real_en.yml", "development, English (tuning)", False),
    (
        "eval/development/real2.yml",
        "development, second set (tuning; written 7 December 2026 without seeing the other sets)",
        False,
    ),
    (
        "eval/development/real3.yml",
        "development, third set (tuning; written 7 December 2026 without seeing the other sets)",
        False,
    ),
    (
        "eval/development/real4.yml",
        "development, fourth set (rejected asylum seekers, 24 weeks, student finance, out of scope; tuning)",
        False,
    ),
    (
        "eval/development/real5.yml",
        "development, fifth set (all themes, weighted to the weak ones; first run before any change it led to)",
        False,
    ),
    (
        "eval/development/real6.yml",
        "development, sixth set (typos, non-native, short, status later, follow-ups, negation traps)",
        False,
    ),
]


def _pct(part: int, whole: int) -> str:
    return "%.1f%%" % (100.0 * part / whole) if whole else "-"


def _share(counts: Dict[str, object], key: str, whole: str = "total") -> str:
    """ "<n> (<percentage of the whole>)" for COUNTS[KEY]."""
    return "%d (%s)" % (counts[key], _pct(counts[key], counts[whole]))


def _rows(title: str, groups: Dict[str, Dict[str, object]]) -> List[str]:
    lines = ["| %s | cases | correct | wrong | missed |" % title, "|---|---:|---:|---:|---:|"]
    for name, c in groups.items():
        lines.append(
            "| %s | %d | %s | %s | %d |" % (name, c["total"], _share(c, "correct"), _share(c, "wrong"), c["missed"])
        )
    return lines + [""]


def section(path: str, what: str, summary: Dict[str, object]) -> List[str]:
    overall = summary["overall"]
    lines = [
        "## `%s`: %s" % (path, what),
        "",
        "**%d cases: %s correct, %s wrong, %d missed.** Latency over REST p50 %.0f ms, p95 %.0f ms."
        % (
            overall["total"],
            _share(overall, "correct"),
            _share(overall, "wrong"),
            overall["missed"],
            summary["latency_ms"]["p50"],
            summary["latency_ms"]["p95"],
        ),
        "",
        '| language | in-scope questions | "Bedoel je" | out-of-scope messages | refused correctly | words in the first'
        " message (median) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, c in summary["choices"].items():
        did_you_mean = _share(c, "did_you_mean", whole="in_scope")
        words = c.get("first_message_words_median", 0)
        row = (name, c["in_scope"], did_you_mean, c["out_of_scope"], c["refused_correctly"], words)
        lines.append("| %s | %d | %s | %d | %d | %g |" % row)
    lines.append("")
    for group in ("lang", "audience", "style"):
        lines += _rows(group, summary["by"][group])
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures.md")
    args = parser.parse_args(argv)
    model = train()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "# Regelhulp: current figures",
        "",
        "Written by `make figures` on %s, model `%s`, commit `%s`. Do not edit by hand."
        % (time.strftime("%Y-%m-%d %H:%M"), model.name, commit or "?"),
        "",
        "Correct: every required pattern matches the first reply (the reply to the last turn) and no forbidden "
        "one does; wrong: a forbidden pattern matches (a statement that is wrong for this person); missed: "
        'otherwise (a "Bedoel je ...?" to a clear question counts as missed). See docs/question_sets.md.',
        "",
    ]
    for path, what, figures_only in SETS:
        out = ROOT / "reports" / ("figures_" + Path(path).stem + ("_eval" if figures_only else ""))
        summary = evaluate(ROOT / path, out, model, figures_only)
        lines += section(path, what, summary)
        print(
            "%s: %d/%d correct, %d wrong"
            % (path, summary["overall"]["correct"], summary["overall"]["total"], summary["overall"]["wrong"])
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(args.out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
