"""The handoff to a person: the contacts from knowledge/helpdesk.yml (validated by the loader) and
a summary of the conversation, composed from the tracker's events; no servers."""

from __future__ import annotations

import pytest
import yaml
from conftest import answer_of, problems_of, run_action, tracker
from rasa_sdk.events import UserUtteranceReverted

from regelhulp import replies
from regelhulp.conversation import Summary, summarise


def bot(text="...", **metadata):
    return {"event": "bot", "text": text, "metadata": metadata}


def user(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": []}}


ANSWER = bot(rule_id="paid_work", status="asylum_seeker", sources=["https://www.uwv.nl/x"])
ASKS_STATUS = bot(rule_id="volunteering", asks="status")


# ---------------------------------------------------------------- the summary from events


def test_summary_names_the_themes_in_order_and_the_last_rule_that_was_given():
    events = [
        user("mag hij werken?", "ask_paid_work"),
        ANSWER,
        user("en vrijwilligerswerk?", "ask_volunteering"),
        ASKS_STATUS,
        user("ik wil een medewerker", "request_human"),
    ]
    summary = summarise(events, "asylum_seeker", "volunteering")
    assert summary == Summary(status="asylum_seeker", themes=("paid_work", "volunteering"), last_rule_id="paid_work")


def test_summary_covers_the_current_session_and_keeps_the_carried_over_theme():
    events = [ANSWER, {"event": "session_started"}, user("ik wil een medewerker", "request_human")]
    summary = summarise(events, None, "paid_work")
    assert summary.themes == ("paid_work",) and summary.last_rule_id is None  # not answered in this session
    assert summarise([{"event": "session_started"}], None, None).empty


# ---------------------------------------------------------------- the reply


def test_handoff_lists_every_helpdesk_contact_with_phone_and_link(kb):
    text = replies.handoff(kb, Summary(None, (), None)).text
    assert kb.helpdesk, "helpdesk.yml lists no contacts"
    for contact in kb.helpdesk:
        line = next(line for line in text.splitlines() if contact.name in line)
        assert "(%s)" % contact.url in line
        if contact.phone:
            assert contact.phone in line and (contact.hours or "") in line
    assert "0800-8020" in text and "Juridisch Loket" in text and "uwv.nl/werkgevers" in text
    assert "Vertel dit" not in text  # nothing known yet: no summary block


def test_handoff_summary_has_status_label_theme_titles_and_last_answer(kb):
    summary = Summary("asylum_seeker", ("paid_work", "volunteering"), "paid_work")
    reply = replies.handoff(kb, summary)
    assert "Om wie het gaat: Asielzoeker in de procedure" in reply.text
    assert "Je vroeg naar: %s, %s" % (kb.rule("paid_work").title, kb.rule("volunteering").title) in reply.text
    assert "Laatste antwoord: %s (code: paid_work)" % kb.rule("paid_work").title in reply.text
    assert reply.metadata == {
        "handoff": {
            "reason": "request",
            "status": "asylum_seeker",
            "themes": ["paid_work", "volunteering"],
            "last_rule_id": "paid_work",
        },
        "lang": "nl",
    }


def test_handoff_in_english(kb):
    summary = Summary("ukrainian", ("paid_work",), "paid_work")
    reply = replies.handoff(kb, summary, lang="en")
    assert reply.text.startswith(kb.phrase("handoff_intro", "en"))
    assert "Who it is about: Ukrainian with temporary protection" in reply.text
    assert "Last answer: %s (code: paid_work)" % kb.rule("paid_work").title_in("en") in reply.text
    for contact in kb.helpdesk:
        assert contact.purpose_in("en") in reply.text
    assert reply.metadata["lang"] == "en" and reply.metadata["handoff"]["status"] == "ukrainian"


def test_fallback_handoff_apologises_and_points_to_the_topics(kb):
    reply = replies.handoff(kb, Summary(None, ("study",), None), fallback=True)
    assert reply.text.startswith("Sorry") and "wat kun je?" in reply.text
    assert "Je vroeg naar: %s" % kb.rule("study").title in reply.text
    assert reply.metadata["handoff"]["reason"] == "fallback"


def test_handoff_stays_short(kb):
    summary = Summary("status_holder", ("paid_work", "study", "volunteering"), "volunteering")
    text = replies.handoff(kb, summary, fallback=True).text
    assert len(text.split()) <= 150, len(text.split())
    assert not any(answer_of(kb, rule, "status_holder") in text for rule in summary.themes)  # no rule is answered


# ---------------------------------------------------------------- the actions


def handoff_tracker(events, status=None, theme=None):  # type: ignore[no-untyped-def]
    return tracker("request_human", "medewerker", status=status, theme=theme, events=events)


def test_handoff_action_sends_the_summary_as_text_and_metadata(kb):
    from actions.actions import ActionHandoff

    messages, events = run_action(
        ActionHandoff(),
        handoff_tracker([user("mag hij werken?", "ask_paid_work"), ANSWER], status="asylum_seeker", theme="paid_work"),
    )
    assert events == []
    assert kb.status_group("asylum_seeker").label in messages[0]["text"]
    assert messages[0]["handoff"]["themes"] == ["paid_work"] and messages[0]["handoff"]["last_rule_id"] == "paid_work"


def test_default_fallback_override_hands_off_and_undoes_the_message():
    from actions.actions import ActionDefaultFallback

    messages, events = run_action(ActionDefaultFallback(), handoff_tracker([]))
    assert messages[0]["text"].startswith("Sorry") and messages[0]["handoff"]["reason"] == "fallback"
    assert events == [UserUtteranceReverted()]


# ---------------------------------------------------------------- helpdesk.yml in the loader


def edit_helpdesk(folder, change):
    path = folder / "helpdesk.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def first_contact(change):
    return lambda data: change(data["helpdesk"][0])


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            first_contact(lambda c: c.update(url="http://www.vluchtelingenwerk.nl")),
            "helpdesk.yml: entry 'vluchtelingenwerk': field 'url': must be an https URL",
        ),
        (first_contact(lambda c: c.pop("name")), "helpdesk.yml: entry 'vluchtelingenwerk': field 'name': is missing"),
        (first_contact(lambda c: c.pop("for")), "helpdesk.yml: entry 'vluchtelingenwerk': field 'for': is missing"),
        (
            first_contact(lambda c: c.update(phone="bel ons")),
            "helpdesk.yml: entry 'vluchtelingenwerk': field 'phone': must be a phone number",
        ),
        (lambda data: data.update(helpdesk=[]), "helpdesk.yml: field 'helpdesk': must list at least one contact"),
        (first_contact(lambda c: c.pop("en")), "helpdesk.yml: entry 'vluchtelingenwerk': field 'en': is missing"),
        (
            first_contact(lambda c: c.update(hours="ma-vr 9-17")),  # hours in Dutch only
            "helpdesk.yml: entry 'vluchtelingenwerk': field 'en.hours': is missing",
        ),
    ],
    ids=["http", "no-name", "no-for", "phone", "empty", "no-english", "hours-not-translated"],
)
def test_broken_helpdesk_file_names_file_entry_and_field(knowledge_copy, change, expected):
    edit_helpdesk(knowledge_copy, change)
    assert any(p.startswith(expected) for p in problems_of(knowledge_copy)), problems_of(knowledge_copy)


def test_missing_helpdesk_file_is_reported(knowledge_copy):
    (knowledge_copy / "helpdesk.yml").unlink()
    assert "helpdesk.yml: file is missing" in problems_of(knowledge_copy)
