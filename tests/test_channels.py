"""The channels speak the protocols other clients expect: Rasa's socket.io protocol (`bot_uttered`
with `text`, `quick_replies` and the rest under `metadata`, as rasa-webchat needs it), and empty
input: a missing, empty or blank message gets no rule answer and no refusal (REST: HTTP 400 for a
body without `message`, an empty list for an empty one; socket.io: no reply)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
import uuid

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


def post(url: str, body: bytes):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read().decode() or "null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "null")


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        b'{"sender": "x"}',
        b'{"sender": "x", "message": null}',
        b'{"sender": "x", "message": 5}',
        b'"hallo"',
        b"geen json",
    ],
    ids=["missing", "null", "number", "not-an-object", "not-json"],
)
def test_rest_without_a_message_is_a_400_with_a_json_error(stack, body):
    status, answer = post(stack.url + "/webhooks/rest/webhook", body)
    assert status == 400
    assert answer["status"] == "failure" and answer["code"] == 400 and '"message"' in answer["message"]


@pytest.mark.slow
@pytest.mark.parametrize("message", ["", "   ", "\n"], ids=["empty", "spaces", "newline"])
def test_rest_empty_message_gets_an_empty_list_and_is_not_stored(stack, message):
    sender = "test-%s" % uuid.uuid4().hex[:8]
    status, answer = post(
        stack.url + "/webhooks/rest/webhook", json.dumps({"sender": sender, "message": message}).encode()
    )
    assert (status, answer) == (200, [])
    assert "Regelhulp" in " ".join(m.get("text", "") for m in stack.say(sender, "hallo"))  # the conversation works
    status, answer = post(stack.url + "/webhooks/rest/webhook", b'{"sender": "%s"}' % sender.encode())
    assert status == 400
    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    assert [json.loads(r[0]).get("text") for r in rows if json.loads(r[0]).get("event") == "user"] == ["hallo"]


@pytest.mark.slow
def test_socketio_empty_message_gets_no_reply_and_an_answer_follows_the_protocol(stack):
    socketio = pytest.importorskip("socketio")

    async def talk():
        client = socketio.AsyncClient()
        received: "asyncio.Queue[dict]" = asyncio.Queue()
        confirmed: "asyncio.Queue[object]" = asyncio.Queue()
        client.on("bot_uttered", lambda data: received.put_nowait(data))
        client.on("session_confirm", lambda data: confirmed.put_nowait(data))
        await client.connect(stack.url, socketio_path="/socket.io", transports=["polling"])
        try:
            await client.emit("session_request", {"session_id": None})
            session = await asyncio.wait_for(confirmed.get(), 30)
            # rasa-webchat's opening message (no text), an empty and a blank one: no reply at all
            await client.emit("user_uttered", {"customData": {"language": "nl"}, "session_id": session})
            await client.emit("user_uttered", {"message": "", "session_id": session})
            await client.emit("user_uttered", {"message": "  ", "session_id": session})
            await asyncio.sleep(3)
            assert received.empty()
            await client.emit(
                "user_uttered", {"message": "Mag een statushouder bij ons werken?", "session_id": session}
            )
            return await asyncio.wait_for(received.get(), 60)
        finally:
            await client.eio.disconnect(abort=True)  # without waiting for the open long poll (30 s)

    answer = asyncio.run(talk())
    assert set(answer) <= {"text", "quick_replies", "metadata"}
    assert answer["metadata"]["rule_id"] == "paid_work" and answer["metadata"]["lang"] == "nl"
    assert "statushouder" in answer["text"].lower()
