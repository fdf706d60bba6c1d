"""Dates that act (regelhulp/dates.py and the replies): today from REGELHULP_TODAY, a planned change
whose pending_from has passed, a rule past its until date, the source line with as_of and checked,
and the handoff summary. Every date rule is tested with a fixed clock on both sides of its date:
pending_from 2026-06-12 (EU Migration Pact) and until 2027-03-04 (temporary protection)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest
from conftest import joined
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAnswerRule
from regelhulp import dates, replies
from regelhulp.conversation import Summary

PACT = dt.date(2026, 6, 12)
PROTECTION_ENDS = dt.date(2027, 3, 4)
DAY = dt.timedelta(days=1)
LANGS = ("nl", "en")


def unchecked_since(kb, entry_id, checked=dt.date(2026, 5, 1)):
    """The entry as if its last editorial check was before its pending_from."""
    return dataclasses.replace(kb.rule(entry_id), checked=checked)


def footer(kb, entry, status, lang, today):
    return "\n\n".join(replies._footer(kb, entry, status, lang, today))


def note(kb, key, entry, when, lang):
    organisation = kb.organisations[entry.organisations[0]].abbreviation
    return kb.phrase(key, lang).format(date=replies.date_text(kb, when, lang), organisation=organisation)


# ---------------------------------------------------------------- the clock


def test_today_comes_from_the_environment_or_the_system(monkeypatch):
    monkeypatch.setenv(dates.TODAY_ENV, "2027-03-05")
    assert dates.today() == dt.date(2027, 3, 5)
    monkeypatch.delenv(dates.TODAY_ENV)
    assert dates.today() == dt.date.today()
    monkeypatch.setenv(dates.TODAY_ENV, "5 maart")
    with pytest.raises(ValueError, match="REGELHULP_TODAY"):
        dates.today()


# ---------------------------------------------------------------- the date rules


def test_the_pact_entries_carry_the_dates_the_tests_rely_on(kb):
    assert kb.rule("paid_work").pending_from == PACT
    assert kb.rule("ukraine_protection").valid_until == PROTECTION_ENDS
    assert kb.rule("ukraine_notification").valid_until == PROTECTION_ENDS


def test_pending_change_starts_on_pending_from_and_is_overdue_only_without_a_later_check(kb):
    stale = unchecked_since(kb, "paid_work")
    assert not dates.pending_started(stale, PACT - DAY) and not dates.pending_overdue(stale, PACT - DAY)
    assert dates.pending_started(stale, PACT) and dates.pending_overdue(stale, PACT)
    assert dates.review_reasons(stale, PACT) == [dates.Reason("pending_from", PACT)]
    checked_after = unchecked_since(kb, "paid_work", checked=PACT)  # checked on the day itself
    assert dates.pending_started(checked_after, PACT + DAY) and not dates.pending_overdue(checked_after, PACT + DAY)
    assert dates.review_reasons(checked_after, PACT + DAY) == []


def test_until_is_the_last_day_the_rule_holds(kb):
    entry = kb.rule("ukraine_protection")
    assert not dates.expired(entry, PROTECTION_ENDS)
    assert dates.expired(entry, PROTECTION_ENDS + DAY)
    assert dates.review_reasons(entry, PROTECTION_ENDS) == []
    assert dates.review_reasons(entry, PROTECTION_ENDS + DAY) == [dates.Reason("until", PROTECTION_ENDS)]


def test_from_date_not_yet_come(kb):
    entry = dataclasses.replace(kb.rule("volunteering"), valid_from=PACT)
    assert dates.not_yet_valid(entry, PACT - DAY) and dates.review_reasons(entry, PACT - DAY) == [
        dates.Reason("from", PACT)
    ]
    assert not dates.not_yet_valid(entry, PACT) and dates.review_reasons(entry, PACT) == []


def test_month_and_day_in_words(kb):
    months = kb.phrases_in("nl")["months"]
    assert dates.month_text(months, dt.date(2026, 2, 1)) == "%s 2026" % months[1]
    assert (
        dates.day_text(kb.phrases_in("en")["months"], dt.date(2026, 12, 7))
        == "7 %s 2026" % kb.phrases_in("en")["months"][11]
    )
    by_month = next(s for e in kb.rules for s in e.sources if s.as_of and not s.as_of_day)
    by_day = next(s for e in kb.rules for s in e.sources if s.as_of and s.as_of_day)
    assert dates.as_of_text(months, by_month) == dates.month_text(months, by_month.as_of)
    assert dates.as_of_text(months, by_day) == dates.day_text(months, by_day.as_of)


# ---------------------------------------------------------------- the replies


@pytest.mark.parametrize("lang", LANGS)
def test_source_line_names_each_source_with_its_version_and_the_checked_date(kb, lang):
    entry = kb.rule("paid_work")
    line = replies.source_line(kb, entry, lang)
    assert line.startswith(kb.phrase("source", lang) + ": ")
    months = kb.phrases_in(lang)["months"]
    for source in entry.sources:
        organisation = kb.organisations[source.organisation].abbreviation
        version = kb.phrase("as_of", lang).format(date=dates.as_of_text(months, source))
        assert "[%s](%s), %s" % (organisation, source.url, version) in line
    assert line.endswith(" · " + kb.phrase("checked", lang).format(date=replies.date_text(kb, entry.checked, lang)))
    assert line in joined(replies.rule_answer(kb, entry, "asylum_seeker", lang))


@pytest.mark.parametrize("lang", LANGS)
def test_planned_change_is_called_planned_only_before_pending_from(kb, lang):
    entry = unchecked_since(kb, "paid_work")
    planned = kb.phrase("pending", lang) + ": " + entry.pending_in(lang)
    was_planned = kb.phrase("pending_was_planned", lang) + ": " + entry.pending_in(lang)
    may_have_changed = note(kb, "pending_may_have_changed", entry, PACT, lang)

    before = footer(kb, entry, "asylum_seeker", lang, PACT - DAY)
    assert planned in before and may_have_changed not in before

    after = footer(kb, entry, "asylum_seeker", lang, PACT)
    assert kb.phrase("pending", lang) not in after
    assert may_have_changed in after and was_planned in after
    assert after.index(may_have_changed) < after.index(was_planned)
    assert kb.organisations[entry.organisations[0]].abbreviation in may_have_changed

    # the note concerns only the groups the change concerns
    assert may_have_changed not in footer(kb, entry, "status_holder", lang, PACT)


@pytest.mark.parametrize("lang", LANGS)
def test_entry_checked_after_pending_from_gets_a_neutral_label_without_the_note(kb, lang):
    entry = kb.rule("paid_work")
    assert entry.checked >= PACT  # the real entry: checked in December 2026
    text = footer(kb, entry, "asylum_seeker", lang, entry.checked)
    assert kb.phrase("pending_was_planned", lang) + ": " + entry.pending_in(lang) in text
    assert kb.phrase("pending", lang) not in text
    assert note(kb, "pending_may_have_changed", entry, PACT, lang) not in text


@pytest.mark.parametrize("lang", LANGS)
def test_no_reply_calls_a_change_planned_once_its_date_has_passed(kb, lang, monkeypatch):
    """The issue's 'done when': whatever the check date, no entry, status or language says
    'planned, not law yet' on or after its pending_from; the day before, the entries that were not
    checked since say it (for the groups the change concerns)."""
    with_dates = [e for e in kb.rules if e.pending and e.pending_from]
    assert {"paid_work", "pending_changes", "ukraine_notification"} <= {e.id for e in with_dates}
    planned = kb.phrase("pending", lang)
    for entry in with_dates:
        for checked in (entry.newest_source_date, entry.checked):
            variant = dataclasses.replace(entry, checked=checked)
            for status in (None, "asylum_seeker", "status_holder", "ukrainian", "other"):
                for today in (entry.pending_from - DAY, entry.pending_from, entry.pending_from + 400 * DAY):
                    monkeypatch.setenv(dates.TODAY_ENV, today.isoformat())
                    text = joined(replies.rule_answer(kb, variant, status, lang))
                    shown = variant.pending_applies(status) and variant.pending_in(lang) in text
                    if today < entry.pending_from and shown and not dates.expired(variant, today):
                        assert planned in text, (entry.id, status, today)
                    else:
                        assert planned not in text, (entry.id, status, today)


@pytest.mark.parametrize("lang", LANGS)
def test_rule_past_until_is_not_stated_as_current(kb, lang):
    entry = kb.rule("ukraine_protection")
    held_until = note(kb, "until_passed", entry, PROTECTION_ENDS, lang)
    assert held_until not in footer(kb, entry, None, lang, PROTECTION_ENDS)
    assert kb.phrase("pending", lang) in footer(kb, entry, None, lang, PROTECTION_ENDS)  # the plan for afterwards
    after = footer(kb, entry, None, lang, PROTECTION_ENDS + DAY)
    assert after.startswith(held_until)  # the first thing after the answer
    assert kb.organisations["ind"].abbreviation in held_until and entry.organisations[0] == "ind"
    assert kb.phrase("pending", lang) not in after  # the plan "for after 4 March 2027" is no longer "planned"


def test_one_note_when_the_change_starts_the_day_the_rule_ends(kb):
    entry = kb.rule("ukraine_notification")  # until and pending_from both 2027-03-04
    text = footer(kb, entry, None, "nl", PROTECTION_ENDS + DAY)
    assert note(kb, "until_passed", entry, PROTECTION_ENDS, "nl") in text
    assert note(kb, "pending_may_have_changed", entry, PROTECTION_ENDS, "nl") not in text


def test_the_action_server_uses_regelhulp_today(kb, monkeypatch):
    track = Tracker(
        sender_id="t",
        slots={"status": None, "theme": None, "language": None},
        latest_message={"intent": {"name": "ask_ukraine_protection", "confidence": 0.99}, "entities": [], "text": ""},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    entry = kb.rule("ukraine_protection")
    held_until = note(kb, "until_passed", entry, PROTECTION_ENDS, "nl")

    def reply_text() -> str:
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionAnswerRule().run(dispatcher, track, {}))
        return "\n\n".join(m["text"] for m in dispatcher.messages)

    monkeypatch.setenv(dates.TODAY_ENV, PROTECTION_ENDS.isoformat())
    assert held_until not in reply_text()
    monkeypatch.setenv(dates.TODAY_ENV, (PROTECTION_ENDS + DAY).isoformat())
    assert held_until in reply_text()


# ---------------------------------------------------------------- the handoff summary


@pytest.mark.parametrize("lang", LANGS)
def test_handoff_summary_shows_the_last_answers_dates(kb, lang):
    entry = kb.rule("ukraine_protection")
    summary = Summary("ukrainian", ("ukraine_protection",), "ukraine_protection")
    months = kb.phrases_in(lang)["months"]
    newest = max((s for s in entry.sources), key=lambda s: s.as_of)
    expected = kb.phrase("summary_dates_text", lang).format(
        as_of=dates.as_of_text(months, newest), checked=replies.date_text(kb, entry.checked, lang)
    )
    passed = kb.phrase("summary_date_passed", lang).format(date=replies.date_text(kb, PROTECTION_ENDS, lang))

    before = replies.summary_lines(kb, summary, lang, today=PROTECTION_ENDS)
    assert before[-1] == "- %s: %s" % (kb.phrase("summary_dates", lang), expected)
    after = replies.summary_lines(kb, summary, lang, today=PROTECTION_ENDS + DAY)
    assert after[-1] == "- %s: %s; %s" % (kb.phrase("summary_dates", lang), expected, passed)


def test_handoff_summary_names_a_passed_pending_date_only_without_a_later_check(kb, monkeypatch):
    summary = Summary("asylum_seeker", ("paid_work",), "paid_work")
    passed = kb.phrase("summary_date_passed", "nl").format(date=replies.date_text(kb, PACT, "nl"))
    monkeypatch.setenv(dates.TODAY_ENV, (PACT + DAY).isoformat())
    assert passed not in replies.handoff(kb, summary).text  # paid_work was checked after 12 June 2026
    stale = dataclasses.replace(kb.rule("paid_work"), checked=dt.date(2026, 5, 1))
    kb_stale = dataclasses.replace(kb, rules=tuple(stale if r.id == "paid_work" else r for r in kb.rules))
    assert passed in replies.handoff(kb_stale, summary).text
    monkeypatch.setenv(dates.TODAY_ENV, (PACT - DAY).isoformat())
    assert passed not in replies.handoff(kb_stale, summary).text
