"""The production profile over real PostgreSQL and Redis on this machine: two Rasa replicas, the
action server and nginx (ops/prod.py). The test run creates and drops its own database and uses
its own Redis key prefix. PostgreSQL is reached through a proxy the tests can cut (tests/tcp_proxy.py).

The tests run in file order; the last ones stop parts of the stack.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
import uuid

import pytest

from ops.prod import ProdSettings, ProdStack, drop_database
from ops.servers import api_args, free_port, http_json, reply_text
from tests.prod.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.prod]
TOKEN = "test-token-%s" % uuid.uuid4().hex


@pytest.fixture(scope="module")
def pg_proxy():
    base = ProdSettings()
    proxy = TcpProxy(base.pg_host, base.pg_port).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def prod(trained_model, pg_proxy):
    tag = uuid.uuid4().hex[:10]
    settings = ProdSettings(
        port=free_port(),
        pg_host="127.0.0.1",
        pg_port=pg_proxy.port,
        pg_database="regelhulp_test_%s" % tag,
        redis_key_prefix="regelhulptest%s" % tag,
        replicas=2,
    )
    stack = ProdStack(trained_model, settings, name="test-prod", extra_env={"RASA_AUTH_TOKEN": TOKEN})
    stack.start()
    yield stack
    stack.stop()
    pg_proxy.restore()
    drop_database(settings)
    import redis

    client = redis.Redis(host=settings.redis_host, port=settings.redis_port, db=settings.redis_db)
    for key in client.scan_iter("%s*" % settings.redis_key_prefix):
        client.delete(key)


def say(url: str, sender: str, message: str) -> str:
    return reply_text(http_json(url + "/webhooks/rest/webhook", {"sender": sender, "message": message}) or [])


def stored_user_texts(stack: ProdStack, sender: str) -> list:
    connection = stack.settings.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id", (sender,))
            return [json.loads(row[0])["text"] for row in cursor.fetchall()]
    finally:
        connection.close()


def request(url: str, headers: dict = None, data: bytes = None, method: str = None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def sender() -> str:
    return "prod-%s" % uuid.uuid4().hex[:8]


def test_nginx_serves_the_widget_and_the_rest_webhook(prod):
    status, _, body = request(prod.url + "/")
    assert status == 200 and b"regelhulp-widget.js" in body
    assert "Regelhulp" in say(prod.url, sender(), "hallo")


def test_socketio_websocket_through_nginx(prod):
    """The widget's transport: socket.io over a websocket, through nginx to a replica."""
    import asyncio

    import websockets

    async def talk() -> dict:
        url = prod.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        async with websockets.connect(url, open_timeout=30) as ws:

            async def receive(prefix: str) -> str:
                while True:
                    packet = await asyncio.wait_for(ws.recv(), 60)
                    if packet == "2":  # engine.io ping
                        await ws.send("3")
                    elif packet.startswith(prefix):
                        return packet[len(prefix) :]

            await receive("0")  # engine.io open
            await ws.send("40")  # socket.io connect to the default namespace
            await receive("40")
            await ws.send('42["session_request",{"session_id":"%s"}]' % sender())
            session = json.loads(await receive("42"))[1]
            await ws.send(
                "42"
                + json.dumps(
                    ["user_uttered", {"message": "Mag een statushouder bij ons werken?", "session_id": session}]
                )
            )
            event, message = json.loads(await receive("42"))
            assert event == "bot_uttered"
            return message

    message = asyncio.run(talk())
    assert message["metadata"]["rule_id"] == "paid_work" and "statushouder" in message["text"].lower()
    assert set(message) <= {"text", "quick_replies", "metadata"}  # Rasa's socket.io protocol


def test_conversation_continues_on_the_other_replica(prod):
    who = sender()
    assert "Dank je" in say(prod.replica_url(0), who, "hij zit nog in de asielprocedure")
    reply = say(prod.replica_url(1), who, "mag hij bij ons werken?")
    assert "asielzoeker" in reply.lower() and "TWV" in reply  # the status from replica 0, read from PostgreSQL
    assert "Om wie gaat het" not in reply


def test_concurrent_messages_on_two_replicas_are_all_stored(prod):
    who = sender()
    messages = ["vraag %d: mag een statushouder werken?" % i for i in range(6)]
    threads = [threading.Thread(target=say, args=(prod.replica_url(i % 2), who, m)) for i, m in enumerate(messages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(stored_user_texts(prod, who)) == sorted(messages)  # the Redis lock serialised them; none lost


def test_personal_data_is_redacted_before_it_is_stored(prod):
    who = sender()
    message = "Mag een asielzoeker bij ons werken? BSN 111222333, mail amina@example.nl of bel 06-12345678."
    reply = say(prod.url, who, message)
    assert "persoonsgegevens" in reply  # the one-time warning
    assert re.search(r"TWV|Betaald werk", reply)  # the question is still understood (answered, or offered)
    stored = stored_user_texts(prod, who)
    assert stored == ["Mag een asielzoeker bij ons werken? BSN [weggelaten], mail [weggelaten] of bel [weggelaten]."]
    connection = prod.settings.connect()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM events WHERE data LIKE '%111222333%' OR data LIKE '%amina@example%'"
            " OR data LIKE '%12345678%'"
        )
        assert cursor.fetchone()[0] == 0
    connection.close()
    assert "persoonsgegevens" not in say(prod.url, who, "bel me op 06-12345678")  # warned once


def test_insights_read_the_shared_postgresql_store(prod, tmp_path):
    import os
    import subprocess
    import sys

    from regelhulp.paths import ROOT

    who = sender()
    say(prod.url, who, "mail me: amina@example.nl " + "blorp " * 200)  # over 1000 characters: not understood
    s = prod.settings
    done = subprocess.run(
        [sys.executable, "-m", "ops.insights", "--profile", "prod", "--out", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PGHOST": s.pg_host, "PGPORT": str(s.pg_port), "PGDATABASE": s.pg_database},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    connection = s.connect()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT sender_id) FROM events WHERE type_name = 'user'")
        stored = cursor.fetchone()[0]
    connection.close()
    assert "insights: %d conversation(s)" % stored in done.stdout  # every conversation of both replicas
    page = (tmp_path / "insights.html").read_text(encoding="utf-8")
    assert "mail me: [weggelaten] blorp" in page and "amina@example" not in page


def test_oversized_message_is_answered_but_not_processed(prod):
    who = sender()
    reply = say(prod.url, who, "a" * 20_000)
    assert "te lang" in reply
    assert stored_user_texts(prod, who) == []


def test_api_needs_the_token_and_is_off_without_one(prod):
    path = "/conversations/%s/tracker" % sender()
    assert request(prod.url + path)[0] == 401
    assert request(prod.url + path + "?token=" + TOKEN)[0] == 200  # Rasa reads the token from the query
    assert api_args({}) == []  # without a token or secret Rasa starts without --enable-api
    assert request(prod.url + "/debug/tracker")[0] == 404  # nginx passes on only the paths it knows


def test_cors_only_for_the_configured_origin(prod):
    body = json.dumps({"sender": sender(), "message": "hallo"}).encode()
    headers = {"Content-Type": "application/json"}
    _, allowed, _ = request(prod.url + "/webhooks/rest/webhook", dict(headers, Origin=prod.url), body)
    _, foreign, _ = request(prod.url + "/webhooks/rest/webhook", dict(headers, Origin="https://evil.example"), body)
    assert allowed.get("Access-Control-Allow-Origin") == prod.url
    assert "Access-Control-Allow-Origin" not in foreign


def test_nginx_rate_limits_one_client(prod):
    statuses = []

    body = json.dumps({"sender": sender(), "message": "hoi"}).encode()

    def hit():
        statuses.append(request(prod.url + "/webhooks/rest/webhook", {"Content-Type": "application/json"}, body)[0])

    threads = [threading.Thread(target=hit) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 429 in statuses and 200 in statuses


def test_action_server_down_gives_a_polite_answer(prod):
    prod.stop_actions()
    try:
        reply = say(prod.url, sender(), "Mag een asielzoeker bij ons werken?")
        assert "tijdelijk niet beschikbaar" in reply and "vluchtelingenwerk.nl" in reply
    finally:
        prod.start_actions()
    assert "TWV" in say(prod.url, sender(), "Mag een asielzoeker bij ons werken?")


def test_database_outage_gives_clear_errors_and_service_resumes(prod, pg_proxy):
    who = sender()
    say(prod.url, who, "ze is statushouder")
    pg_proxy.cut()
    try:
        assert "tijdelijk niet beschikbaar" in say(prod.url, who, "mag ze werken?")
    finally:
        pg_proxy.restore()
    # back with the first message, without a restart, on every replica (dead pooled connections are replaced)
    for replica in range(prod.settings.replicas):
        reply = say(prod.replica_url(replica), who, "mag ze werken?")
        assert "tijdelijk niet beschikbaar" not in reply
        assert "statushouder" in reply.lower()  # the status stored before the outage is still there


def test_killed_replica_the_other_one_takes_over(prod):
    who = sender()
    assert "Dank je" in say(prod.url, who, "het gaat om een Oekraïense vrouw")
    prod.kill_replica(0)
    reply = say(prod.url, who, "mag ze bij ons werken?")  # nginx sends it to the replica that is left
    assert "Oekra" in reply and "UWV" in reply
    assert "Om wie gaat het" not in reply
