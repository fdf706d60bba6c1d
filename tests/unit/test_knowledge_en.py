"""The English texts of the knowledge base (groundwork for the bilingual assistant): every Dutch text
has its English counterpart, the loader reports a missing or mismatched one with file, entry and
field, and the accessors return English for "en" and Dutch by default."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import yaml
from conftest import edit_rule, problems_of

from regelhulp.knowledge import (
    MAX_ANSWER_WORDS,
    MAX_COMBINED_WORDS,
    KnowledgeError,
    load_phrases,
)


def edit_items(folder, file, root, item_id, change):
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(next(i for i in data[root] if i["id"] == item_id))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def edit_phrases(folder, change, file="phrases_en.yml"):
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data["phrases"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def words(text):
    return len(text.split())


def numbers(text):
    """The numbers in a text, thousands separators removed: €2.250 (Dutch) == €2,250 (English)."""
    return Counter(re.sub(r"[.,]", "", n) for n in re.findall(r"\d+(?:[.,]\d{3})*", text))


def links(text):
    return sorted(re.findall(r"\]\((https?://[^)\s]+)\)", text))


# ---------------------------------------------------------------- the real knowledge base


def test_every_entry_has_english_text_for_every_dutch_field(kb):
    for entry in kb.rules:
        english = entry.text_in("en")
        assert english.title and english.title != entry.title, entry.id
        assert (english.answer is None) == (entry.answer is None), entry.id
        assert set(english.answers) == set(entry.answers), entry.id
        assert (english.pending is None) == (entry.pending is None), entry.id
        for text in list(english.answers.values()) + [english.answer or ""]:
            assert words(text) <= MAX_ANSWER_WORDS, entry.id
        if english.answer and english.answers:
            assert words(english.answer) + max(map(words, english.answers.values())) <= MAX_COMBINED_WORDS, entry.id


def test_status_groups_themes_and_organisations_have_english_texts(kb):
    for group in kb.status_groups:
        assert (
            group.in_language("label", "en")
            and group.in_language("button", "en")
            and group.in_language("label", "en") != group.label
        ), group.id
    for theme in kb.themes:
        assert theme.in_language("label", "en") and theme.in_language("label", "en") != theme.label, theme.id
    for org in kb.organisations.values():
        assert org.in_language("description", "en") and org.in_language("description", "en") != org.description, org.id


def test_english_phrases_have_the_dutch_keys_and_english_months(kb):
    dutch, english = kb.phrases_in("nl"), kb.phrases_in("en")
    assert set(english) == set(dutch)
    assert set(english["intent_labels"]) == set(dutch["intent_labels"])
    assert english["months"][0] == "January" and english["months"][11] == "December"
    assert kb.phrase("checked", "en").format(date="1 May 2026") == "checked 1 May 2026"


def english_and_dutch_texts(kb):
    """(where, Dutch, English) for every translated text."""
    for entry in kb.rules:
        nl, en = entry.text_in("nl"), entry.text_in("en")
        for name in ("title", "answer", "pending"):
            if getattr(nl, name):
                yield "%s.%s" % (entry.id, name), getattr(nl, name), getattr(en, name)
        for group, text in nl.answers.items():
            yield "%s.answers.%s" % (entry.id, group), text, en.answers[group]
    for org in kb.organisations.values():
        yield org.id, org.description, org.in_language("description", "en")
    for key, text in kb.phrases.items():
        if isinstance(text, str):
            yield "phrase " + key, text, kb.phrase(key, "en")


def test_english_keeps_the_numbers_dates_and_links_of_the_dutch_text(kb):
    """Same facts: every number (amounts, dates, periods, phone numbers) and every Markdown link."""
    for where, dutch, english in english_and_dutch_texts(kb):
        assert numbers(english) == numbers(dutch), where
        assert links(english) == links(dutch), where


# ---------------------------------------------------------------- accessors


def test_accessors_default_to_dutch_and_give_english_for_en(kb):
    work = kb.rule("paid_work")
    assert work.title_in() == work.title == "Betaald werk"
    assert work.title_in("en") == "Paid work"
    assert work.answer_for("asylum_seeker") == work.answer_for("asylum_seeker", "nl")
    assert work.answer_for("asylum_seeker").startswith(work.answers["asylum_seeker"])  # the status part first
    english = work.answer_for("asylum_seeker", "en")
    assert english.startswith(work.text_in("en").answers["asylum_seeker"]) and english.endswith(
        work.text_in("en").answer
    )
    assert work.answer_for(None, "en") == work.answer_for("other", "en")
    assert work.pending_in() == work.pending and "Migration Pact" in work.pending_in("en")
    assert work.shared_answer_in("en") == work.text_in("en").answer
    group = kb.status_group("asylum_seeker")
    assert (
        group.in_language("label") == group.label
        and group.in_language("label", "en") == "Asylum seeker in the procedure"
    )
    assert group.in_language("button", "en") == "Asylum seeker (still in the procedure)"
    assert kb.themes[0].in_language("label") == kb.themes[0].label
    assert kb.organisations["uwv"].in_language("description") == kb.organisations["uwv"].description
    assert kb.phrase("source") == "Bron" and kb.phrase("source", "en") == "Source"
    assert kb.phrases_in() is kb.phrases


def test_unknown_language_is_refused(kb):
    with pytest.raises(ValueError, match="unknown language 'de'"):
        kb.rule("paid_work").title_in("de")
    with pytest.raises(ValueError):
        kb.phrase("source", "de")


def test_load_phrases_keeps_dutch_by_default_and_checks_english(knowledge_copy):
    assert load_phrases(knowledge_copy)["source"] == "Bron"
    assert load_phrases(knowledge_copy, "en")["source"] == "Source"
    (knowledge_copy / "phrases_en.yml").unlink()
    assert load_phrases(knowledge_copy)["source"] == "Bron"  # the channels need only the Dutch file
    with pytest.raises(KnowledgeError, match="phrases_en.yml: file is missing"):
        load_phrases(knowledge_copy, "en")


# ---------------------------------------------------------------- breakage, named by file, entry and field


def test_missing_en_block_of_a_rule(knowledge_copy):
    edit_rule(knowledge_copy, "work.yml", "paid_work", lambda e: e.pop("en"))
    assert (
        "rules/work.yml: entry 'paid_work': field 'en': is missing: every entry needs its English texts"
        in problems_of(knowledge_copy)
    )


def test_missing_and_extra_english_status_answers(knowledge_copy):
    def change(entry):
        entry["en"]["answers"].pop("ukrainian")
        entry["en"]["answers"]["refugee"] = "An extra text."

    edit_rule(knowledge_copy, "work.yml", "paid_work", change)
    problems = problems_of(knowledge_copy)
    assert "rules/work.yml: entry 'paid_work': field 'en.answers.ukrainian': is missing" in problems
    assert (
        "rules/work.yml: entry 'paid_work': field 'en.answers.refugee': has no Dutch text in 'answers' (the keys must be the same)"
        in problems
    )


def test_english_title_shared_answer_and_answers_are_required_when_dutch_has_them(knowledge_copy):
    edit_rule(
        knowledge_copy,
        "employer.yml",
        "employer_checks",
        lambda e: [e["en"].pop(k) for k in ("title", "answer", "answers")],
    )
    problems = problems_of(knowledge_copy)
    for field in ("en.title", "en.answer"):
        assert "rules/employer.yml: entry 'employer_checks': field '%s': is missing" % field in problems
    assert (
        "rules/employer.yml: entry 'employer_checks': field 'en.answers': is missing (the Dutch entry has 'answers')"
        in problems
    )


def test_english_text_without_a_dutch_counterpart_and_unknown_fields(knowledge_copy):
    def change(entry):
        entry["en"]["answer"] = "Only in English."
        entry["en"]["anwser"] = "A typo."

    edit_rule(knowledge_copy, "work.yml", "self_employment", change)
    problems = problems_of(knowledge_copy)
    assert (
        "rules/work.yml: entry 'self_employment': field 'en.answer': the Dutch entry has no 'answer'; remove it here or add the Dutch text"
        in problems
    )
    assert any(
        p.startswith("rules/work.yml: entry 'self_employment': field 'en.anwser': is not a text field of an entry")
        for p in problems
    ), problems


def test_en_pending_present_exactly_when_pending_is(knowledge_copy):
    edit_rule(knowledge_copy, "work.yml", "work_permit", lambda e: e["en"].pop("pending"))
    edit_rule(knowledge_copy, "study.yml", "study", lambda e: e["en"].update(pending="A plan, not law yet."))
    problems = problems_of(knowledge_copy)
    assert "rules/work.yml: entry 'work_permit': field 'en.pending': is missing" in problems
    assert (
        "rules/study.yml: entry 'study': field 'en.pending': the Dutch entry has no 'pending'; remove it here or add the Dutch text"
        in problems
    )


def test_english_word_limits(knowledge_copy):
    def change(entry):
        entry["en"]["answers"]["status_holder"] = "word " * (MAX_ANSWER_WORDS + 1)
        entry["en"]["answers"]["other"] = "word " * MAX_ANSWER_WORDS

    edit_rule(knowledge_copy, "work.yml", "paid_work", change)
    problems = problems_of(knowledge_copy)
    assert (
        "rules/work.yml: entry 'paid_work': field 'en.answers.status_holder': has %d words; the limit is %d"
        % (MAX_ANSWER_WORDS + 1, MAX_ANSWER_WORDS)
        in problems
    )
    assert any(
        p.startswith(
            "rules/work.yml: entry 'paid_work': field 'en.answers': 'en.answer' plus the longest status answer has"
        )
        for p in problems
    ), problems


def test_missing_english_of_status_group_theme_and_organisation(knowledge_copy):
    edit_items(knowledge_copy, "status_groups.yml", "status_groups", "ukrainian", lambda g: g["en"].pop("button"))
    edit_items(knowledge_copy, "themes.yml", "themes", "study", lambda t: t.pop("en"))
    edit_items(
        knowledge_copy,
        "organisations.yml",
        "organisations",
        "uaf",
        lambda o: o["en"].update(description="", name="UAF"),
    )
    problems = problems_of(knowledge_copy)
    assert "status_groups.yml: entry 'ukrainian': field 'en.button': is missing" in problems
    assert "themes.yml: entry 'study': field 'en': is missing: every entry needs its English texts" in problems
    assert "organisations.yml: entry 'uaf': field 'en.description': must be a non-empty text" in problems
    assert "organisations.yml: entry 'uaf': field 'en.name': is not translated here (expected: description)" in problems


def missing_and_extra_keys(phrases):  # type: ignore[no-untyped-def]
    phrases.pop("contact")
    phrases["intent_labels"].pop("greet")
    phrases["greeting"] = "Hello"


def other_placeholders_and_months(phrases):  # type: ignore[no-untyped-def]
    phrases.update(checked="checked {day}", unclear="The sources disagree. Ask the organisation.")
    phrases["months"] = phrases["months"][:11]


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            missing_and_extra_keys,
            [
                "phrases_en.yml: entry 'contact': is missing (phrases.yml has it)",
                "phrases_en.yml: entry 'intent_labels.greet': is missing (phrases.yml has it)",
                "phrases_en.yml: entry 'greeting': is not in phrases.yml (the keys must be the same)",
            ],
        ),
        (
            other_placeholders_and_months,
            [
                "phrases_en.yml: entry 'checked': field 'placeholders': has {day}, but phrases.yml has {date}",
                "phrases_en.yml: entry 'unclear': field 'placeholders': has none, but phrases.yml has {organisation}",
                "phrases_en.yml: entry 'months': must be a list of 12 texts, like in phrases.yml",
            ],
        ),
    ],
    ids=["keys", "placeholders-and-months"],
)
def test_phrases_en_must_match_phrases(knowledge_copy, change, expected):  # type: ignore[no-untyped-def]
    edit_phrases(knowledge_copy, change)
    problems = problems_of(knowledge_copy)
    for problem in expected:
        assert problem in problems, problems


def test_a_new_dutch_phrase_needs_its_english_version(knowledge_copy):
    edit_phrases(knowledge_copy, lambda p: p.update(new_hint="Nieuwe tip voor {name}."), file="phrases.yml")
    assert "phrases_en.yml: entry 'new_hint': is missing (phrases.yml has it)" in problems_of(knowledge_copy)


def test_missing_phrases_en_file(knowledge_copy):
    (knowledge_copy / "phrases_en.yml").unlink()
    assert problems_of(knowledge_copy) == ["phrases_en.yml: file is missing"]
