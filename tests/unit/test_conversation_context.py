"""What the conversation so far means for a message: a status given later answers the waiting
question, two people get a part each, a short message about the answer gets its concrete questions.

The classifier often sees a new rule question in a message that only gives the status ("ik kom uit
Oekraïne, tijdelijke bescherming" looks like a question about temporary protection). When the
assistant was waiting for the status, such a statement answers the waiting question; a short
follow-up about someone else ("what about people from Ukraine?") does so after any answer.
"""

from __future__ import annotations

import pytest
from conftest import run, status_after, tracker, user_event
from rasa_sdk.events import SlotSet

from actions.actions import ActionAnswerRule
from regelhulp.language import asks_something, opens_follow_up

UKRAINIAN = [{"entity": "status", "value": "ukrainian"}]


def bot_event(**metadata):
    return {"event": "bot", "text": "...", "metadata": metadata}


@pytest.mark.parametrize(
    "text",
    [
        "Ik kom uit Oekraïne, tijdelijke bescherming",
        "He came from Ukraine in 2023 and has the sticker in his passport",
        "Ze heeft een verblijfsvergunning",
        "hij zit in het azc",
    ],
)
def test_statements_ask_nothing(text):
    assert not asks_something(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ik kom uit Oekraïne, mag ik werken",
        "I am an asylum seeker, can I work",
        "Mag een asielzoeker werken",
        "hoeveel kost een TWV",
        "Heeft een statushouder een vrijwilligersverklaring nodig",
    ],
)
def test_questions_ask_something(text):
    assert asks_something(text)


def test_follow_up_openers():
    assert opens_follow_up("En een statushouder?") and opens_follow_up("what about people from Ukraine?")
    assert not opens_follow_up("Mag een statushouder werken?")


def _asked_for_status_then(text, entities=UKRAINIAN, intent="ask_ukraine_protection"):
    question = user_event(
        "Mag ik Nederlandse les volgen?", "ask_dutch_lessons", [{"name": "ask_dutch_lessons", "confidence": 1.0}]
    )
    asked = bot_event(asks="status", rule_id="dutch_lessons")
    latest = user_event(text, intent, [{"name": intent, "confidence": 0.99}], entities)
    return tracker(
        intent, text, status="ukrainian", theme="dutch_lessons", entities=entities, events=[question, asked, latest]
    )


def test_a_status_statement_after_the_status_question_answers_the_waiting_question():
    messages, events = run(ActionAnswerRule(), _asked_for_status_then("Ik kom uit Oekraïne, tijdelijke bescherming"))
    assert messages[0]["rule_id"] == "dutch_lessons" and messages[0]["status"] == "ukrainian"
    assert SlotSet("theme", "dutch_lessons") in events


def test_a_new_question_after_the_status_question_is_answered_as_asked():
    messages, _ = run(
        ActionAnswerRule(), _asked_for_status_then("Ik kom uit Oekraïne, tot wanneer geldt mijn bescherming?")
    )
    assert messages[0]["rule_id"] == "ukraine_protection"


def test_a_status_statement_after_a_full_answer_is_a_new_question():
    question = user_event(
        "Mag een asielzoeker werken?", "ask_paid_work", [{"name": "ask_paid_work", "confidence": 1.0}]
    )
    answered = bot_event(rule_id="paid_work", status="asylum_seeker")
    text = "Ik ben statushouder en wil graag studeren"
    entities = [{"entity": "status", "value": "status_holder"}]
    latest = user_event(text, "ask_study", [{"name": "ask_study", "confidence": 0.95}], entities)
    messages, _ = run(
        ActionAnswerRule(),
        tracker(
            "ask_study",
            text,
            status="status_holder",
            theme="paid_work",
            entities=entities,
            events=[question, answered, latest],
        ),
    )
    assert messages[0]["rule_id"] == "study"


def test_a_short_follow_up_about_someone_else_answers_the_theme_for_that_status():
    question = user_event(
        "Can status holders get student finance?",
        "ask_student_finance",
        [{"name": "ask_student_finance", "confidence": 1.0}],
    )
    answered = bot_event(rule_id="student_finance", status="status_holder")
    text = "what about people from Ukraine?"
    latest = user_event(
        text, "ask_ukraine_protection", [{"name": "ask_ukraine_protection", "confidence": 0.7}], UKRAINIAN
    )
    messages, _ = run(
        ActionAnswerRule(),
        tracker(
            "ask_ukraine_protection",
            text,
            status="ukrainian",
            theme="student_finance",
            entities=UKRAINIAN,
            language="en",
            events=[question, answered, latest],
        ),
    )
    assert messages[0]["rule_id"] == "student_finance"


def test_a_facet_that_does_not_concern_the_status_gives_the_overview_and_is_not_offered(kb):
    concerned = [f for r in kb.rules for f in r.facets if f.statuses]
    assert concerned, "no facet in knowledge/facets/ names the statuses it concerns"
    facet = concerned[0]
    other = next(g.id for g in kb.status_groups if g.id not in facet.statuses and g.id != "other")
    entry = kb.rule(facet.entry)
    messages, _ = run(
        ActionAnswerRule(),
        tracker(
            entry.intent,
            "/%s" % entry.intent,
            status=other,
            theme=entry.id,
            entities=[{"entity": "facet", "value": facet.id}],
        ),
    )
    assert all(m.get("facet_id") != facet.id for m in messages)
    titles = [b["title"] for m in messages for b in m.get("buttons") or []]
    assert facet.label_in("nl") not in titles


def test_a_facet_naming_an_unknown_status_group_is_an_error_with_file_entry_and_field(knowledge_copy):
    import yaml

    from regelhulp.knowledge import KnowledgeError, load

    path = knowledge_copy / "facets" / "volunteering.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["facets"][0]["statuses"] = ["asielzoeker"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(KnowledgeError) as error:
        load(knowledge_copy)
    assert any(
        "facets/volunteering.yml" in str(p) and "statuses" in str(p) and "asielzoeker" in str(p)
        for p in error.value.problems
    )


def test_a_short_message_about_the_answer_gets_the_entrys_questions_instead_of_a_refusal(kb):
    from actions.actions import ActionRefuse

    text = "Hoe lang heeft hij daarvoor?"
    track = tracker("out_of_scope", text, status="status_holder", theme="civic_integration")
    messages, _ = run(ActionRefuse(), track)
    assert messages[0]["asks"] == "facet" and messages[0]["rule_id"] == "civic_integration"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert "/ask_civic_integration" in payloads and "/out_of_scope" in payloads
    offered = [kb.facet(f) for f in messages[0]["options"]]
    assert offered and all(f.entry == "civic_integration" and f.concerns("status_holder") for f in offered)


@pytest.mark.parametrize("text", ["Wie is de koning van Nederland?", "Kun je een gedicht schrijven?"])
def test_a_short_unrelated_message_after_an_answer_is_still_refused(kb, text):
    from actions.actions import ActionRefuse

    messages, _ = run(ActionRefuse(), tracker("out_of_scope", text, status="status_holder", theme="civic_integration"))
    assert "asks" not in messages[0] and not messages[0].get("buttons")


@pytest.mark.parametrize(
    "text, group",
    [
        ("Mijn asielaanvraag is afgewezen. Mag ik blijven werken?", "other"),
        ("my asylum claim was refused, can I keep my job", "other"),
        ("ik heb nog geen verblijfsvergunning, mag ik stage lopen", "asylum_seeker"),
        ("A Ukrainian woman with an O-document has applied", "ukrainian"),
        ("she has an o-document", "ukrainian"),
    ],
)
def test_who_it_is_about_in_everyday_words(kb, text, group):
    # the person's situation, not the words: a rejected asylum seeker is no asylum seeker in the procedure
    assert {g for _, _, g in kb.status_mentions(text)} == {group}


def test_two_people_with_their_own_status_are_two_options(kb):
    text = (
        "My wife has a residence permit and I am still an asylum seeker, 5 months in the procedure. Can we both work?"
    )
    assert set(kb.statuses_side_by_side(text)) == {"status_holder", "asylum_seeker"}
    assert kb.statuses_side_by_side("Hij zit in het azc, maar met een verblijfsvergunning. Mag hij werken?") == []


def test_two_statuses_with_an_unsure_rule_question_get_a_part_each(kb):
    from actions.actions import ActionNotUnderstood

    text = "Twee kandidaten: een Oekraïner en een asielzoeker. Wat moet ik voor elk van hen regelen?"
    entities = [
        {"entity": "status_option", "value": "ukrainian"},
        {"entity": "status_option", "value": "asylum_seeker"},
    ]
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "out_of_scope", "confidence": 0.3},
        {"name": "ask_paid_work", "confidence": 0.2},
    ]
    track = tracker("nlu_fallback", text, entities=entities)
    track.latest_message["intent_ranking"] = ranking
    messages, _ = run(ActionNotUnderstood(), track)
    assert messages[0]["rule_id"] == "paid_work" and messages[0]["statuses"] == ["ukrainian", "asylum_seeker"]


def test_two_statuses_for_an_entry_that_does_not_depend_on_them_use_the_neighbour_that_does(kb):
    text = "We have two candidates: one has refugee status, the other is from Ukraine. What do I arrange for each?"
    entities = [
        {"entity": "status_option", "value": "status_holder"},
        {"entity": "status_option", "value": "ukrainian"},
    ]
    track = tracker("ask_ukraine_notification", text, entities=entities, language="en")
    track.latest_message["intent_ranking"] = [
        {"name": "ask_ukraine_notification", "confidence": 0.7},
        {"name": "ask_paid_work", "confidence": 0.2},
    ]
    assert not kb.rule("ukraine_notification").depends_on_status
    messages, _ = run(ActionAnswerRule(), track)
    assert messages[0]["rule_id"] == "paid_work" and messages[0]["statuses"] == ["status_holder", "ukrainian"]


def test_an_entry_naming_an_unknown_status_group_or_a_broken_cue_is_an_error(knowledge_copy):
    import yaml
    from conftest import edit_rule, problems_of

    edit_rule(knowledge_copy, "employer.yml", "ukraine_notification", lambda e: e.update(statuses=["oekrainer"]))
    routing = knowledge_copy / "routing.yml"
    data = yaml.safe_load(routing.read_text(encoding="utf-8"))
    data["cues"] = {"ask_undocumented": ["(unclosed"], "ask_nothing": ["x"]}
    routing.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = problems_of(knowledge_copy)
    assert any("rules/employer.yml" in p and "ukraine_notification" in p and "oekrainer" in p for p in problems)
    assert any("routing.yml" in p and "cues.ask_undocumented" in p and "(unclosed" in p for p in problems)
    assert any("routing.yml" in p and "ask_nothing" in p for p in problems)


def test_a_cue_for_an_unknown_facet_is_an_error(knowledge_copy):
    import yaml
    from conftest import problems_of

    routing = knowledge_copy / "routing.yml"
    data = yaml.safe_load(routing.read_text(encoding="utf-8"))
    data["cues"]["student_finance.over_40"] = ["\\b4\\d jaar\\b"]
    routing.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert [p for p in problems_of(knowledge_copy) if "student_finance.over_40" in p and "routing.yml" in p]


def test_a_status_for_a_question_whose_likeliest_entry_does_not_concern_it_goes_to_a_neighbour(kb):
    only_for = [r for r in kb.rules if r.statuses]
    assert only_for, "no entry in knowledge/rules/ names the statuses it concerns"
    entry = only_for[0]
    status = next(g.id for g in kb.status_groups if not entry.concerns(g.id))
    neighbour = next(
        r for r in kb.rules if r is not entry and kb.overlap(r.intent, entry.intent) and r.concerns(status)
    )
    question = user_event(
        "Mag mijn nieuwe medewerker maandag beginnen?",
        "nlu_fallback",
        [
            {"name": "nlu_fallback", "confidence": 0.7},
            {"name": entry.intent, "confidence": 0.6},
            {"name": "out_of_scope", "confidence": 0.15},
            {"name": neighbour.intent, "confidence": 0.05},
        ],
    )
    messages, events = status_after(question, "hij is asielzoeker, 4 maanden in de procedure", status)
    assert messages[0]["rule_id"] == neighbour.id
    assert SlotSet("theme", neighbour.id) in events
    # with the status it concerns, the entry itself answers
    concerned = next(iter(entry.statuses))
    messages, _ = status_after(question, "hij heeft tijdelijke bescherming", concerned)
    assert messages[0]["rule_id"] == entry.id


def test_a_status_statement_the_classifier_takes_for_out_of_scope_answers_the_question_for_it(kb):
    from actions.actions import ActionRefuse

    text = "asking for my cousin, he lives in the azc and works in a bakery"
    track = tracker(
        "out_of_scope",
        text,
        status="asylum_seeker",
        theme="weeks_limit",
        entities=[{"entity": "status", "value": "asylum_seeker"}],
    )
    messages, _ = run(ActionRefuse(), track)
    assert messages[0].get("rule_id") == "weeks_limit"  # answered again, not refused
    refused, _ = run(ActionRefuse(), tracker("out_of_scope", text, status="asylum_seeker", theme="weeks_limit"))
    assert refused[0].get("rule_id") is None  # without a status in the message, a refusal
