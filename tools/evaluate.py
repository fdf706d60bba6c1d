"""Answer-level evaluation: sends every case of a question set through the REST webhook of the
real servers and scores the replies (correct / wrong / missed), writing reports/eval.md and .json.

A case is correct when every `must_match` regex matches the reply and no `must_not_match`
matches; wrong when any `must_not_match` matches; otherwise missed. The reply is the text of all
bot messages to the last turn plus the titles of their buttons, joined by newlines.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from ops.servers import RasaStack, reply_text
from ops.train import train
from regelhulp.paths import ROOT
from tools.load import percentile

DEFAULT_QUESTIONS = ROOT / "eval" / "evaluation" / "questions.yml"
GROUPS = ("topic", "audience", "lang", "style")
NOT_IN_SCOPE = ("out_of_scope", "other_language", "chitchat")  # topics that are not rule questions


class QuestionSetError(ValueError):
    pass


@dataclass
class Case:
    id: str
    turns: List[str]
    must_match: List[str]
    must_not_match: List[str]
    topic: str = "unknown"
    audience: str = "unknown"
    lang: str = "nl"
    style: str = "unknown"


@dataclass
class Result:
    case: Case
    outcome: str
    reply: str
    latencies: List[float] = field(default_factory=list)
    failed_patterns: List[str] = field(default_factory=list)
    chose: bool = False  # the reply asked "Bedoel je ...?" / "Did you mean ...?"
    first_words: int = 0  # words a person sees in the first message of the reply (link targets left out)


def load_cases(path: Path) -> List[Case]:
    """Reads and checks a question set; errors name the case and the field."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise QuestionSetError("%s: cannot be read: %s" % (path, error)) from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise QuestionSetError("%s: needs a top-level 'cases:' list" % path)
    cases, seen = [], set()
    for number, raw in enumerate(data["cases"], start=1):
        where = "%s: case #%d (%s)" % (path, number, raw.get("id") if isinstance(raw, dict) else "?")
        if not isinstance(raw, dict) or not raw.get("id"):
            raise QuestionSetError("%s: needs an 'id'" % where)
        if raw["id"] in seen:
            raise QuestionSetError("%s: the id is used twice" % where)
        seen.add(raw["id"])
        if ("question" in raw) == ("turns" in raw):
            raise QuestionSetError("%s: give either 'question' or 'turns'" % where)
        turns = [raw["question"]] if "question" in raw else raw["turns"]
        if not isinstance(turns, list) or not turns or not all(isinstance(t, str) for t in turns):
            raise QuestionSetError("%s: 'turns' must be a non-empty list of texts" % where)
        patterns = {}
        for key in ("must_match", "must_not_match"):
            patterns[key] = [str(p) for p in raw.get(key) or []]
            for pattern in patterns[key]:
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise QuestionSetError(
                        "%s: field '%s': invalid regex %r: %s" % (where, key, pattern, error)
                    ) from None
        if not patterns["must_match"] and not patterns["must_not_match"]:
            raise QuestionSetError("%s: needs 'must_match' or 'must_not_match'" % where)
        cases.append(
            Case(
                id=str(raw["id"]),
                turns=turns,
                topic=str(raw.get("topic", "unknown")),
                audience=str(raw.get("audience", "unknown")),
                lang=str(raw.get("lang", "nl")),
                style=str(raw.get("style", "unknown")),
                **patterns,
            )
        )
    return cases


def _did_you_mean_texts() -> List[str]:
    from regelhulp.knowledge import LANGUAGES, load_phrases

    return [str(load_phrases(language=language)["did_you_mean"]) for language in LANGUAGES]


DID_YOU_MEAN = _did_you_mean_texts()


def score(case: Case, reply: str) -> Result:
    chose = any(text in reply for text in DID_YOU_MEAN)
    wrong = [p for p in case.must_not_match if re.search(p, reply, re.IGNORECASE)]
    missing = [p for p in case.must_match if not re.search(p, reply, re.IGNORECASE)]
    outcome = "wrong" if wrong else ("missed" if missing else "correct")
    return Result(case=case, outcome=outcome, reply=reply, failed_patterns=wrong or missing, chose=chose)


def run_case(stack: RasaStack, case: Case) -> Result:
    sender = "eval-%s-%s" % (case.id, uuid.uuid4().hex[:6])
    latencies, messages = [], []
    for turn in case.turns:
        started = time.perf_counter()
        messages = stack.say(sender, turn)
        latencies.append(time.perf_counter() - started)
    result = score(case, reply_text(messages))
    result.latencies = latencies
    result.first_words = visible_words(first_reply(stack, sender))
    return result


def first_reply(stack: RasaStack, sender: str) -> str:
    """The text of the assistant's first reply to the latest message, as the action sent it (the REST
    channel splits a reply at blank lines; the widget shows it as one message): from the tracker store."""
    events = stack.stored_events(sender)
    latest = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return next((e.get("text") or "" for e in events[latest + 1 :] if e.get("event") == "bot"), "")


def visible_words(text: str) -> int:
    """The words of a Markdown text as a person sees it: a link counts by its label, not its address."""
    return len(re.sub(r"\]\([^)]*\)", "]", text).split())


def summarise(results: List[Result]) -> Dict[str, object]:
    def counts(items: List[Result]) -> Dict[str, object]:
        total = len(items)
        found = {k: sum(1 for r in items if r.outcome == k) for k in ("correct", "wrong", "missed")}
        found.update(
            total=total,
            **{"%s_rate" % k: round(found[k] / total, 4) if total else 0 for k in ("correct", "wrong", "missed")},
        )
        return found

    by_group: Dict[str, Dict[str, object]] = {}
    for group in GROUPS:
        buckets: Dict[str, List[Result]] = defaultdict(list)
        for result in results:
            buckets[getattr(result.case, group)].append(result)
        by_group[group] = {name: counts(items) for name, items in sorted(buckets.items())}
    latencies = [seconds for r in results for seconds in r.latencies]

    def choices(items: List[Result]) -> Dict[str, object]:
        in_scope = [r for r in items if r.case.topic not in NOT_IN_SCOPE]
        chose = sum(r.chose for r in in_scope)
        refused = [r for r in items if r.case.topic == "out_of_scope"]
        words = sorted(r.first_words for r in in_scope if r.first_words)
        return {
            "in_scope": len(in_scope),
            "first_message_words_median": statistics.median(words) if words else 0,
            "did_you_mean": chose,
            "did_you_mean_rate": round(chose / len(in_scope), 4) if in_scope else 0,
            "out_of_scope": len(refused),
            "refused_correctly": sum(r.outcome == "correct" for r in refused),
        }

    return {
        "overall": counts(results),
        "choices": {
            "all": choices(results),
            **{
                lang: choices([r for r in results if r.case.lang == lang])
                for lang in sorted({r.case.lang for r in results})
            },
        },
        "by": by_group,
        "latency_ms": {
            "messages": len(latencies),
            "p50": round(1000 * percentile(latencies, 0.5), 1),
            "p95": round(1000 * percentile(latencies, 0.95), 1),
            "mean": round(1000 * statistics.mean(latencies), 1) if latencies else 0,
        },
    }


def write_reports(
    results: List[Result],
    summary: Dict[str, object],
    out_dir: Path,
    questions: Path,
    model: Path,
    figures_only: bool = False,
) -> None:
    """eval.md and eval.json. `figures_only` (for evaluation sets): no case, reply or failing case is
    written, so nobody tunes on the evaluation set by reading them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "questions": str(questions),
        "model": model.name,
        "summary": summary,
        "cases": []
        if figures_only
        else [
            dict(
                asdict(r.case),
                outcome=r.outcome,
                reply=r.reply,
                latencies=r.latencies,
                failed_patterns=r.failed_patterns,
                chose=r.chose,
                first_words=r.first_words,
            )
            for r in results
        ],
    }
    (out_dir / "eval.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    overall = summary["overall"]
    lines = [
        "# Regelhulp evaluation",
        "",
        "Question set: `%s` · model: `%s` · %s" % (questions.name, model.name, time.strftime("%Y-%m-%d %H:%M")),
        "",
        "**%d cases: %d correct (%.1f%%), %d wrong (%.1f%%), %d missed (%.1f%%)**"
        % (
            overall["total"],
            overall["correct"],
            100 * overall["correct_rate"],
            overall["wrong"],
            100 * overall["wrong_rate"],
            overall["missed"],
            100 * overall["missed_rate"],
        ),
        "",
        "Latency per message over REST: p50 %.0f ms, p95 %.0f ms (%d messages, one conversation at a time)."
        % (summary["latency_ms"]["p50"], summary["latency_ms"]["p95"], summary["latency_ms"]["messages"]),
        "",
    ]
    lines += [
        '## "Bedoel je ...?" and refusals',
        "",
        "| language | in-scope cases | Bedoel je | rate | out-of-scope cases | refused correctly"
        " | words in the first message (median, in scope) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, c in summary["choices"].items():
        lines.append(
            "| %s | %d | %d | %.1f%% | %d | %d | %g |"
            % (
                name,
                c["in_scope"],
                c["did_you_mean"],
                100 * c["did_you_mean_rate"],
                c["out_of_scope"],
                c["refused_correctly"],
                c["first_message_words_median"],
            )
        )
    lines.append("")
    for group in GROUPS:
        lines += [
            "## By %s" % group,
            "",
            "| %s | cases | correct | wrong | missed |" % group,
            "|---|---:|---:|---:|---:|",
        ]
        for name, c in summary["by"][group].items():
            lines.append("| %s | %d | %d | %d | %d |" % (name, c["total"], c["correct"], c["wrong"], c["missed"]))
        lines.append("")
    failing = [] if figures_only else [r for r in results if r.outcome != "correct"]
    if figures_only:
        lines += ["Figures only: this is an evaluation set; its cases are not shown.", ""]
    else:
        lines += ["## Failing cases (%d)" % len(failing), ""]
    for r in sorted(failing, key=lambda r: (r.outcome != "wrong", r.case.topic, r.case.id)):
        lines += [
            "### %s: %s (%s)" % (r.outcome.upper(), r.case.id, r.case.topic),
            "",
            "- asked: %s" % " → ".join("«%s»" % t for t in r.case.turns),
            "- %s: `%s`"
            % ("matched forbidden" if r.outcome == "wrong" else "did not match", "`, `".join(r.failed_patterns)),
            "- reply:",
            "",
            "```",
            r.reply.strip() or "(no reply)",
            "```",
            "",
        ]
    (out_dir / "eval.md").write_text("\n".join(lines))


def evaluate(
    questions: Path, out_dir: Path, model: Optional[Path] = None, figures_only: bool = False
) -> Dict[str, object]:
    cases = load_cases(questions)
    model = model or train()
    tracker_db = ROOT / "build" / "eval-tracker.db"
    tracker_db.unlink(missing_ok=True)
    with RasaStack(model, tracker_db=tracker_db, name="eval") as stack:
        results = [run_case(stack, case) for case in cases]
    summary = summarise(results)
    write_reports(results, summary, out_dir, questions, model, figures_only)
    return summary


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument(
        "--model", type=Path, help="evaluate this trained model instead of training or reusing the current one"
    )
    parser.add_argument(
        "--figures-only",
        action="store_true",
        default=None,
        help="write no cases or replies (the default for sets under eval/evaluation/)",
    )
    args = parser.parse_args(argv)
    if args.model and not args.model.is_file():
        print("error: no model at %s" % args.model, file=sys.stderr)
        return 2
    try:
        figures_only = args.figures_only
        if figures_only is None:
            figures_only = (ROOT / "eval" / "evaluation") in args.questions.resolve().parents
        summary = evaluate(args.questions, args.out, args.model, figures_only)
    except QuestionSetError as error:
        print("error: %s" % error, file=sys.stderr)
        return 2
    overall = summary["overall"]
    choices = summary["choices"]["all"]
    print(
        "%d cases: %d correct, %d wrong, %d missed; Bedoel je %d of %d in scope; refused %d of %d; p50 %.0f ms, p95 %.0f ms. Reports: %s/eval.md, eval.json"
        % (
            overall["total"],
            overall["correct"],
            overall["wrong"],
            overall["missed"],
            choices["did_you_mean"],
            choices["in_scope"],
            choices["refused_correctly"],
            choices["out_of_scope"],
            summary["latency_ms"]["p50"],
            summary["latency_ms"]["p95"],
            args.out,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
