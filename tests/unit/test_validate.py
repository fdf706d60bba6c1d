"""`make validate`'s consistency checks between the knowledge base and the Rasa data."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from ops.validate_knowledge import MIN_EXAMPLES, MIN_EXAMPLES_EN, main, problems
from regelhulp.knowledge import load, stale_rules
from regelhulp.paths import ROOT


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("knowledge", "data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    return tmp_path


def test_the_project_is_consistent():
    assert problems(ROOT) == []


def test_intent_with_too_few_examples(project):
    path = project / "data" / "nlu" / "volunteering.yml"
    data = yaml.safe_load(path.read_text())
    item = next(i for i in data["nlu"] if i.get("intent") == "ask_volunteering")
    item["examples"] = "".join("- voorbeeld %d\n" % n for n in range(MIN_EXAMPLES - 1))
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert "intent 'ask_volunteering' has %d Dutch NLU examples; at least %d are needed" % (
        MIN_EXAMPLES - 1,
        MIN_EXAMPLES,
    ) in problems(project)


def test_intent_with_too_few_english_examples(project):
    path = project / "data" / "nlu" / "en" / "volunteering.yml"
    data = yaml.safe_load(path.read_text())
    item = next(i for i in data["nlu"] if i.get("intent") == "ask_volunteering")
    item["examples"] = "".join("- example %d\n" % n for n in range(MIN_EXAMPLES_EN - 1))
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    found = problems(project)
    assert (
        "intent 'ask_volunteering' has %d English NLU examples (in data/nlu/en); at least %d are needed"
        % (MIN_EXAMPLES_EN - 1, MIN_EXAMPLES_EN)
        in found
    ), found
    # Dutch examples do not count as English ones, however many there are
    assert not any("ask_volunteering' has" in p and "Dutch" in p for p in found)


def _edit_response(project: Path, name: str, edit) -> None:  # type: ignore[no-untyped-def]
    path = project / "domain.yml"
    domain = yaml.safe_load(path.read_text())
    domain["responses"][name] = edit(domain["responses"][name])
    path.write_text(yaml.safe_dump(domain, allow_unicode=True))


def test_response_without_english_text(project):
    _edit_response(project, "utter_thanks", lambda variations: [v for v in variations if not v.get("condition")])
    assert "domain.yml: response 'utter_thanks' has no English text (condition language = en)" in problems(project)


def test_response_without_dutch_text_or_language_mark(project):
    def drop_dutch_and_mark(variations):  # type: ignore[no-untyped-def]
        english = [dict(v) for v in variations if v.get("condition")]
        english[0].pop("metadata")
        return english

    _edit_response(project, "utter_goodbye", drop_dutch_and_mark)
    found = problems(project)
    assert "domain.yml: response 'utter_goodbye' has no Dutch text (without condition)" in found
    assert "domain.yml: response 'utter_goodbye': the en text needs `metadata: {lang: en}`" in found


def test_entry_without_rule_and_rule_without_entry(project):
    rules = project / "data" / "rules" / "answers.yml"
    data = yaml.safe_load(rules.read_text())
    data["rules"] = [r for r in data["rules"] if r["steps"][0]["intent"] != "ask_study"]
    data["rules"].append({"rule": "x", "steps": [{"intent": "ask_unknown_topic"}, {"action": "action_answer_rule"}]})
    rules.write_text(yaml.safe_dump(data, allow_unicode=True))
    found = problems(project)
    assert any("entry 'study': intent 'ask_study' has no rule in data/rules" in p for p in found), found
    assert "intent 'ask_unknown_topic' is answered by action_answer_rule but has no knowledge-base entry" in found


def test_knowledge_errors_are_reported_first(project):
    (project / "knowledge" / "organisations.yml").write_text("organisations: [")
    assert problems(project)[0].startswith("organisations.yml: is not valid YAML")


def _newest_checked(project: Path) -> dt.date:
    """A "today" for which the real entries are as fresh as they get (no test depends on the clock)."""
    return max(r.checked for r in load(project / "knowledge").rules)


def _back_date(project: Path, file: str, entry_id: str, day) -> None:  # type: ignore[no-untyped-def]
    path = project / "knowledge" / "rules" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in data["entries"] if e["id"] == entry_id)["checked"] = day
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_stale_rules_are_those_checked_more_than_180_days_ago(project):
    today = _newest_checked(project)
    _back_date(project, "employer.yml", "employer_checks", today - dt.timedelta(days=181))
    _back_date(project, "work.yml", "paid_work", today - dt.timedelta(days=300))  # not before its newest as_of
    _back_date(project, "employer.yml", "employer_support", today - dt.timedelta(days=180))
    kb = load(project / "knowledge", today=today)
    fresh = {r.id for r in kb.rules if (today - r.checked).days <= 180}
    assert "employer_support" in fresh  # exactly 180 days: not stale yet
    stale = [r.id for r in stale_rules(kb, today)]
    assert stale.index("paid_work") < stale.index("employer_checks")  # oldest first
    assert not fresh & set(stale) and set(stale) | fresh == {r.id for r in kb.rules}
    assert "employer_checks" not in [r.id for r in stale_rules(kb, today, max_age_days=365)]


def test_validate_warns_about_stale_rules_and_still_passes(project, capsys):
    today = _newest_checked(project)
    old = today - dt.timedelta(days=200)
    _back_date(project, "employer.yml", "employer_checks", old)
    assert main(project, today=today) == 0
    out = capsys.readouterr().out
    assert "Knowledge base OK" in out and "rule(s) not checked for more than 180 days" in out
    warning = next(line for line in out.splitlines() if "employer_checks" in line)
    assert "rules/employer.yml" in warning and old.isoformat() in warning and "200 days ago" in warning
    fresh = [r.id for r in load(project / "knowledge", today=today).rules if (today - r.checked).days <= 180]
    assert fresh and not any("entry '%s'" % rid in out for rid in fresh)


def test_validate_prints_no_warning_when_everything_is_fresh(project, capsys):
    kb = load(project / "knowledge")
    today = max(r.checked for r in kb.rules)  # fresh, and before every date still to come
    assert today < min(
        d for r in kb.rules for d in (r.pending_from, r.valid_until) if d and d > max(x.checked for x in kb.rules)
    )
    assert main(project, today=today) == 0
    assert "Warning" not in capsys.readouterr().out


def _set(project: Path, file: str, entry_id: str, **values) -> None:  # type: ignore[no-untyped-def]
    path = project / "knowledge" / "rules" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in data["entries"] if e["id"] == entry_id).update(values)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_validate_warns_about_passed_dates_on_both_sides_of_each_date(project, capsys):
    """pending_from 2026-06-12 with a check before it; until 2027-03-04."""
    _set(project, "work.yml", "paid_work", checked=dt.date(2026, 5, 1))
    for today, expected in (
        (dt.date(2026, 6, 11), set()),
        (dt.date(2026, 6, 12), {"paid_work"}),
        (dt.date(2027, 3, 4), {"paid_work"}),
        (dt.date(2027, 3, 5), {"paid_work", "ukraine_protection", "ukraine_notification"}),
    ):
        assert main(project, today=today) == 0
        out = capsys.readouterr().out
        warned = {
            line.split("entry '")[1].split("'")[0]
            for line in out.splitlines()
            if line.startswith("- ") and ("meant to start" in line or "which has passed" in line)
        }
        assert expected <= warned, (today, warned)
        assert "paid_work" in warned or today < dt.date(2026, 6, 12)
        assert ("ukraine_protection" in warned) == (today > dt.date(2027, 3, 4)), today
    line = next(text for text in out.splitlines() if "'paid_work'" in text and "meant to start" in text)
    assert "rules/work.yml" in line and "2026-06-12" in line and "2026-05-01" in line


def test_an_entry_checked_after_pending_from_is_not_warned_about(project, capsys):
    assert load(project / "knowledge").rules  # the real entries: checked 7 December 2026
    assert main(project, today=dt.date(2026, 12, 8)) == 0
    assert "meant to start" not in capsys.readouterr().out
