"""The slow tests split from tests/unit/test_channels.py (real servers or training)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid

import pytest
from conftest import post


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
