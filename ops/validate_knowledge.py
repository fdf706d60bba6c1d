"""Validates the knowledge base and its consistency with the Rasa training data.

Fails (exit 1) when the knowledge base does not load (schema, sources, dates, organisations,
answer length) or when the knowledge base and the Rasa data disagree:
- every rule entry's intent is in domain.yml, has at least MIN_EXAMPLES NLU examples,
  and a rule in data/rules that answers it with action_answer_rule;
- every intent that a rule answers with action_answer_rule has an entry (inform_status excepted),
  and every other intent has a label (phrases.yml `intent_labels`, for the fallback's buttons);
- every intent in domain.yml has at least MIN_EXAMPLES Dutch NLU examples and at least
  MIN_EXAMPLES_EN English ones (English examples live in data/nlu/en/, Dutch ones elsewhere);
- every response in domain.yml has a Dutch text (no condition) and an English one (condition
  `language` = en), each with `metadata: {lang: ...}`.

Warns (without failing) about every rule entry whose `checked` date is more than
MAX_CHECKED_AGE_DAYS days old: its sources should be checked again; and about every entry with a
date that has passed without a later check (regelhulp/dates.py): its planned change was meant to start
on `pending_from`, it held `until` a day that is over, or it holds only `from` a day still to come.
Today is $REGELHULP_TODAY or the system date.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path
from typing import List, Optional, Set

import yaml

from regelhulp import dates
from regelhulp.knowledge import MAX_CHECKED_AGE_DAYS, KnowledgeBase, KnowledgeError, load, stale_rules
from regelhulp.paths import ROOT

ANSWER_ACTION = "action_answer_rule"
MIN_EXAMPLES = 25
MIN_EXAMPLES_EN = 15
ENGLISH_NLU_DIR = Path("data") / "nlu" / "en"
NOT_RULE_INTENTS = {"inform_status"}
# Intents set by a component from rules, not learnt from examples (components/intent_resolver.py).
DETECTED_INTENTS = {"other_language"}


def yaml_files(folder: Path) -> List[Path]:
    return sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml"))


def nlu_example_counts(root: Path = ROOT, language: Optional[str] = None) -> Counter:
    """Examples per intent: all of them, or only the English (`en`) or Dutch (`nl`) ones."""
    counts: Counter = Counter()
    english_dir = root / ENGLISH_NLU_DIR
    for path in yaml_files(root / "data" / "nlu"):
        is_english = english_dir in path.parents
        if language is not None and is_english != (language == "en"):
            continue
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            if "intent" in item:
                lines = str(item.get("examples", "")).splitlines()
                counts[item["intent"]] += sum(1 for line in lines if line.strip().startswith("- "))
    return counts


def intents_answered_by_rules(root: Path = ROOT) -> Set[str]:
    """Intents that a rule (not just a story) answers directly with action_answer_rule."""
    answered = set()
    for path in yaml_files(root / "data" / "rules"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules", []) or []:
            steps = block.get("steps", [])
            for step, following in zip(steps, steps[1:]):
                if "intent" in step and following.get("action") == ANSWER_ACTION:
                    answered.add(step["intent"])
    return answered


def _domain(root: Path) -> dict:
    return yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8")) or {}


def domain_intents(root: Path = ROOT) -> Set[str]:
    return {i if isinstance(i, str) else next(iter(i)) for i in _domain(root).get("intents", [])}


def _variation_language(variation: dict) -> Optional[str]:
    """`en` for a variation shown when the slot `language` is en, `nl` for the unconditional one."""
    conditions = variation.get("condition") or []
    if not conditions:
        return "nl"
    if conditions == [{"type": "slot", "name": "language", "value": "en"}]:
        return "en"
    return None


def response_problems(root: Path = ROOT) -> List[str]:
    """Every response needs its Dutch and its English text, each marked with its language."""
    found = []
    for name, variations in sorted((_domain(root).get("responses") or {}).items()):
        languages = []
        for variation in variations or []:
            language = _variation_language(variation)
            if language is None:
                found.append("domain.yml: response '%s': a condition other than language = en" % name)
            elif (variation.get("metadata") or {}).get("lang") != language:
                found.append(
                    "domain.yml: response '%s': the %s text needs `metadata: {lang: %s}`" % (name, language, language)
                )
            languages.append(language)
        for language, what in (
            ("nl", "Dutch text (without condition)"),
            ("en", "English text (condition language = en)"),
        ):
            if language not in languages:
                found.append("domain.yml: response '%s' has no %s" % (name, what))
    return found


def problems(root: Path = ROOT) -> List[str]:
    try:
        kb = load(root / "knowledge")
    except KnowledgeError as error:
        return error.problems
    found: List[str] = response_problems(root)
    dutch, english = nlu_example_counts(root, "nl"), nlu_example_counts(root, "en")
    in_domain = domain_intents(root)
    answered = intents_answered_by_rules(root)
    for entry in kb.rules:
        where = "%s: entry '%s': intent '%s'" % (entry.file, entry.id, entry.intent)
        if entry.intent not in in_domain:
            found.append("%s is not listed in domain.yml" % where)
        if entry.intent not in answered:
            found.append("%s has no rule in data/rules that answers it with %s" % (where, ANSWER_ACTION))
    entry_intents = {e.intent for e in kb.rules}
    labels = kb.phrases.get("intent_labels") or {}
    for intent in sorted(in_domain - entry_intents - set(labels)):
        found.append("intent '%s' has no knowledge-base entry and no label in phrases.yml intent_labels" % intent)
    for intent in sorted(answered - entry_intents - NOT_RULE_INTENTS):
        found.append("intent '%s' is answered by %s but has no knowledge-base entry" % (intent, ANSWER_ACTION))
    for intent in sorted(in_domain - DETECTED_INTENTS):
        if dutch[intent] < MIN_EXAMPLES:
            found.append(
                "intent '%s' has %d Dutch NLU examples; at least %d are needed" % (intent, dutch[intent], MIN_EXAMPLES)
            )
        if english[intent] < MIN_EXAMPLES_EN:
            found.append(
                "intent '%s' has %d English NLU examples (in %s); at least %d are needed"
                % (intent, english[intent], ENGLISH_NLU_DIR, MIN_EXAMPLES_EN)
            )
    return found


def freshness_warnings(kb: KnowledgeBase, today: Optional[dt.date] = None) -> List[str]:
    """One line per entry that was last checked more than MAX_CHECKED_AGE_DAYS days ago."""
    today = today or dt.date.today()
    return [
        "%s: entry '%s': checked %s is %d days ago (more than %d); check it against its sources"
        % (entry.file, entry.id, entry.checked.isoformat(), (today - entry.checked).days, MAX_CHECKED_AGE_DAYS)
        for entry in stale_rules(kb, today)
    ]


DATE_WARNINGS = {
    "pending_from": "its planned change was meant to start on %s and the entry was last checked on %s: "
    "find out what happened, rewrite `pending` (or the answers) and set `checked`",
    "until": "it holds until %s, which has passed (checked %s): write what applies now, or a new `until`",
    "from": "it holds only from %s, which has not come yet (checked %s): the bot states it as current",
}


def date_warnings(kb: KnowledgeBase, today: Optional[dt.date] = None) -> List[str]:
    """One line per date of an entry that passed (or has not come) without a later check."""
    today = today or dates.today()
    return [
        "%s: entry '%s': %s"
        % (entry.file, entry.id, DATE_WARNINGS[reason.kind] % (reason.date.isoformat(), entry.checked.isoformat()))
        for entry in kb.rules
        for reason in dates.review_reasons(entry, today)
    ]


def main(root: Path = ROOT, today: Optional[dt.date] = None) -> int:
    found = problems(root)
    if found:
        print("Knowledge base check FAILED (%d problem(s)):" % len(found))
        for problem in found:
            print("- " + problem)
        return 1
    kb = load(root / "knowledge")
    print(
        "Knowledge base OK: %d rules, %d organisations, %d themes."
        % (len(kb.rules), len(kb.organisations), len(kb.themes))
    )
    today = today or dates.today()
    passed = date_warnings(kb, today)
    if passed:
        print(
            "Warning: %d date(s) in the knowledge base passed without a later check (today is %s):"
            % (len(passed), today.isoformat())
        )
        for warning in passed:
            print("- " + warning)
    warnings = freshness_warnings(kb, today)
    if warnings:
        print("Warning: %d rule(s) not checked for more than %d days:" % (len(warnings), MAX_CHECKED_AGE_DAYS))
        for warning in warnings:
            print("- " + warning)
    return 0


if __name__ == "__main__":
    sys.exit(main())
