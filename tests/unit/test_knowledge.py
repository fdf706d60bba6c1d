"""The knowledge-base loader: the real knowledge base loads, and every kind of breakage is
reported with the file, the entry and the field."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from conftest import edit_rule, problems_of

from regelhulp.knowledge import MAX_ANSWER_WORDS, STATUS_GROUP_IDS, KnowledgeError, fold, load


def test_real_knowledge_base_loads_with_all_parts(kb):
    assert {g.id for g in kb.status_groups} == set(STATUS_GROUP_IDS)
    assert len(kb.organisations) >= 20
    for intent in ("ask_paid_work", "ask_volunteering", "ask_study"):
        entry = kb.rule_for_intent(intent)
        assert entry is not None and entry.depends_on_status
        assert all(s.url.startswith("https://") for s in entry.sources)


def test_every_entry_has_source_organisation_and_checked_date(kb):
    for entry in kb.rules:
        assert entry.sources and entry.organisations and isinstance(entry.checked, dt.date), entry.id
        for text in list(entry.answers.values()) + [entry.answer or ""]:
            assert len(text.split()) <= MAX_ANSWER_WORDS, entry.id


def test_p1_questions_have_an_answer_per_status(kb):
    """The facts themselves are checked by the evaluation sets (eval/evaluation/), not pinned here."""
    for intent in ("ask_paid_work", "ask_volunteering", "ask_study", "ask_student_finance"):
        entry = kb.rule_for_intent(intent)
        assert entry is not None and entry.depends_on_status, intent
        texts = [entry.answer_for(group) for group in STATUS_GROUP_IDS]
        assert all(texts) and len(set(texts)) == len(texts), intent  # each group its own answer


def test_unknown_status_gets_the_other_answer(kb):
    work = kb.rule_for_intent("ask_paid_work")
    assert work.answer_for(None) == work.answer_for("other")


def test_status_and_organisation_found_in_free_text(kb):
    assert kb.status_in_text("Mag een AZC-bewoner bij ons werken?") == "asylum_seeker"
    assert kb.status_in_text("het gaat om een oekraiense vrouw") == "ukrainian"
    assert kb.status_in_text("nee, hij heeft al een verblijfsvergunning") == "status_holder"
    assert kb.status_in_text("hij is uitgeprocedeerd") == "other"
    assert kb.status_in_text("mag hij werken?") is None
    assert kb.organisation_in_text("Wat doet het UAF eigenlijk?") == "uaf"
    assert kb.organisation_in_text("Ik zoek VluchtelingenWerk") == "vluchtelingenwerk"
    assert kb.organisations_in_text("Wat doet het COA, en wat doet VluchtelingenWerk Nederland?") == [
        "coa",
        "vluchtelingenwerk",
    ]


def test_fold_strips_accents_and_case():
    assert fold("Oekraïense") == "oekraiense"


def test_malformed_yaml_names_file_and_line(knowledge_copy):
    (knowledge_copy / "rules" / "work.yml").write_text("entries:\n  - id: x\n    title: [unclosed\n")
    problems = problems_of(knowledge_copy)
    assert any(p.startswith("rules/work.yml: is not valid YAML at line") for p in problems), problems


def test_missing_source_is_named_by_file_entry_and_field(knowledge_copy):
    edit_rule(knowledge_copy, "work.yml", "paid_work", lambda e: e.pop("sources"))
    assert "rules/work.yml: entry 'paid_work': field 'sources': must list at least one source" in problems_of(
        knowledge_copy
    )


def test_http_source_and_unknown_organisation_are_rejected(knowledge_copy):
    def change(entry):
        entry["sources"][0]["url"] = "http://example.org/page"
        entry["organisations"] = ["uwv", "no_such_org"]

    edit_rule(knowledge_copy, "work.yml", "paid_work", change)
    problems = problems_of(knowledge_copy)
    assert "rules/work.yml: entry 'paid_work': field 'sources[1].url': must be an https URL" in problems
    assert "rules/work.yml: entry 'paid_work': field 'organisations': unknown organisation 'no_such_org'" in problems


def test_missing_or_future_checked_date(knowledge_copy):
    edit_rule(knowledge_copy, "work.yml", "paid_work", lambda e: e.pop("checked"))
    edit_rule(knowledge_copy, "volunteering.yml", "volunteering", lambda e: e.update(checked="2099-01-01"))
    problems = problems_of(knowledge_copy)
    assert "rules/work.yml: entry 'paid_work': field 'checked': is missing" in problems
    assert any(
        p.startswith("rules/volunteering.yml: entry 'volunteering': field 'checked': lies in the future")
        for p in problems
    )


def test_missing_status_answer_and_too_long_answer(knowledge_copy):
    def change(entry):
        entry["answers"].pop("ukrainian")
        entry["answers"]["status_holder"] = "woord " * (MAX_ANSWER_WORDS + 1)

    edit_rule(knowledge_copy, "work.yml", "paid_work", change)
    problems = problems_of(knowledge_copy)
    assert "rules/work.yml: entry 'paid_work': field 'answers.ukrainian': is missing" in problems
    assert any("field 'answers.status_holder': has %d words" % (MAX_ANSWER_WORDS + 1) in p for p in problems)


def test_duplicate_intent_across_files(knowledge_copy):
    edit_rule(knowledge_copy, "volunteering.yml", "volunteering", lambda e: e.update(intent="ask_paid_work"))
    problems = problems_of(knowledge_copy)
    assert any("field 'intent': 'ask_paid_work' is also answered by entry" in p for p in problems), problems


def test_pending_change_needs_a_description(knowledge_copy):
    edit_rule(
        knowledge_copy,
        "volunteering.yml",
        "volunteering",
        lambda e: (e.update(state="pending_change"), e.pop("pending", None)),
    )
    assert (
        "rules/volunteering.yml: entry 'volunteering': field 'pending': an entry with state pending_change must describe the change"
        in problems_of(knowledge_copy)
    )


def test_missing_file_is_reported(knowledge_copy):
    (knowledge_copy / "organisations.yml").unlink()
    assert "organisations.yml: file is missing" in problems_of(knowledge_copy)


def test_all_problems_are_reported_at_once(knowledge_copy):
    edit_rule(knowledge_copy, "work.yml", "paid_work", lambda e: e.pop("sources"))
    edit_rule(knowledge_copy, "study.yml", "study", lambda e: e.pop("title"))
    message = str(pytest.raises(KnowledgeError, load, knowledge_copy).value)
    assert "entry 'paid_work'" in message and "entry 'study'" in message


def test_unknown_fields_are_errors_named_by_file_entry_and_field(knowledge_copy):
    """The schema (regelhulp/knowledge_schema.py) knows every field: a typo is an error, not ignored."""

    def change(entry):
        entry["anwser"] = entry.pop("answer", "Een tekst.")
        entry["sources"][0]["as_off"] = "2026-01"

    edit_rule(knowledge_copy, "employer.yml", "employer_checks", change)
    path = knowledge_copy / "themes.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["themes"][0]["lable"] = "Tikfout"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problems = problems_of(knowledge_copy)
    assert any(
        p.startswith("rules/employer.yml: entry 'employer_checks': field 'anwser': is not a known field (id, intent,")
        for p in problems
    ), problems
    assert (
        "rules/employer.yml: entry 'employer_checks': field 'sources[1].as_off': is not a known field (url, organisation, as_of)"
        in problems
    )
    assert any(
        p.startswith("themes.yml: entry '%s': field 'lable': is not a known field" % data["themes"][0]["id"])
        for p in problems
    ), problems


def test_unknown_facet_field_is_an_error(knowledge_copy):
    path = knowledge_copy / "facets" / "work.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    facet = data["facets"][0]
    facet["questoin"] = "Een tikfout?"
    facet["en"]["anwser"] = "A typo."
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    problems = problems_of(knowledge_copy)
    where = "facets/work.yml: entry '%s.%s': " % (facet["entry"], facet["id"])
    assert any(p.startswith(where + "field 'questoin': is not a known field") for p in problems), problems
    assert where + "field 'en.anwser': is not a known field (question, label, answer, answers, phrasings)" in problems


def test_wrong_types_and_dates_are_named_by_field(knowledge_copy):
    def change(entry):
        entry["organisations"] = "uwv"  # a text, not a list
        entry["until"] = "31-12-2026"
        entry["sources"][0]["as_of"] = "gisteren"
        entry["en"]["answers"] = "All of them."

    edit_rule(knowledge_copy, "work.yml", "paid_work", change)
    problems = problems_of(knowledge_copy)
    for expected in (
        "field 'organisations': must be a list of texts",
        "field 'until': must be a date like 2026-11-22",
        "field 'sources[1].as_of': must be a date like 2026-11-22 or a month like 2026-02",
        "field 'en.answers': must map the same status groups as 'answers' to texts",
    ):
        assert "rules/work.yml: entry 'paid_work': " + expected in problems, (expected, problems)
