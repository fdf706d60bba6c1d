"""The channels speak the protocols other clients expect: Rasa's socket.io protocol (`bot_uttered`
with `text`, `quick_replies` and the rest under `metadata`, as rasa-webchat needs it), and empty
input: a missing, empty or blank message gets no rule answer and no refusal (REST: HTTP 400 for a
body without `message`, an empty list for an empty one; socket.io: no reply)."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from channels.guard import guarded
from channels.rest import MISSING_MESSAGE, bad_request
from channels.widget_socketio import bot_uttered, user_uttered_data

# ------------------------------------------------------------------ socket.io payloads (fast)


def test_a_rule_answer_carries_text_quick_replies_and_metadata_only():
    message = {
        "text": "**Betaald werk**\n\nEen asielzoeker mag werken ...",
        "buttons": [{"title": "Ja", "payload": "/affirm"}],
        "rule_id": "paid_work",
        "status": "asylum_seeker",
        "state": "in_force",
        "checked": "2026-12-07",
        "sources": ["https://www.uwv.nl/x"],
        "lang": "nl",
        "timestamp": 1.0,
        "utter_action": "action_answer",
        "elements": None,
        "custom": None,
    }
    payload = bot_uttered(message)
    assert set(payload) == {"text", "quick_replies", "metadata"}
    assert payload["text"] == message["text"]  # one event, not split at blank lines
    assert payload["quick_replies"] == [{"content_type": "text", "title": "Ja", "payload": "/affirm"}]
    assert payload["metadata"] == {
        "lang": "nl",
        "rule_id": "paid_work",
        "status": "asylum_seeker",
        "state": "in_force",
        "checked": "2026-12-07",
        "sources": ["https://www.uwv.nl/x"],
    }


def test_a_plain_text_and_a_domain_response():
    assert bot_uttered({"text": "Hallo"}) == {"text": "Hallo"}  # what rasa-webchat renders as text
    domain = {"text": "Hoi!", "metadata": {"lang": "nl"}, "utter_action": "utter_greet", "timestamp": 1.0}
    assert bot_uttered(domain) == {"text": "Hoi!", "metadata": {"lang": "nl"}}
    assert set(bot_uttered({"text": "Kies", "quick_replies": [{"title": "a", "payload": "/a"}]})) == {
        "text",
        "quick_replies",
    }


def test_user_uttered_data_from_other_clients():
    assert user_uttered_data(None) is None and user_uttered_data("hallo") is None
    assert user_uttered_data({"session_id": "s"}) == {"session_id": "s"}  # rasa-webchat's first message: no text
    assert user_uttered_data({"message": 5, "session_id": "s"}) == {"session_id": "s"}
    webchat = user_uttered_data({"message": "hi", "customData": {"language": "en"}, "session_id": "s"})
    assert webchat["metadata"] == {"language": "en", "lang": "en"}
    ours = user_uttered_data({"message": "hi", "metadata": {"lang": "nl"}, "customData": {"language": "en"}})
    assert ours["metadata"] == {"lang": "nl"}  # our widget's metadata wins


# ------------------------------------------------------------------ the guard and REST validation (fast)


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t "])
def test_empty_message_is_not_processed_and_gets_no_reply(text):
    seen = []

    async def on_new_message(message):
        seen.append(message)

    output = CollectingOutputChannel()
    asyncio.run(guarded(on_new_message)(UserMessage(text, output, "s1")))
    assert seen == [] and output.messages == []


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"sender": "a", "message": "hallo"}, None),
        ({"sender": "a", "message": ""}, None),  # accepted; answered with []
        ({"sender": "a"}, MISSING_MESSAGE),
        ({"sender": "a", "message": None}, MISSING_MESSAGE),
        ({"sender": "a", "message": 12}, MISSING_MESSAGE),
        (["hallo"], MISSING_MESSAGE),
        (None, MISSING_MESSAGE),
    ],
)
def test_rest_body_check(body, problem):
    assert bad_request(body) == problem


# ------------------------------------------------------------------ against the real servers (slow)
