"""The handoff and `make insights` on real conversations: the action server and the Rasa server
(ops/servers.py) with a fresh SQLite tracker store of their own, talked to over REST; then the
insights command reads that store."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import answers_rule

from ops.servers import RasaStack, reply_text
from regelhulp.insights.read import read_conversations
from regelhulp.insights.report import PLOTS
from regelhulp.paths import ROOT

pytestmark = pytest.mark.slow

FEEDBACK = '/feedback{"feedback_value": "up", "feedback_rule": "paid_work"}'
# Longer than the NLU's 1000 characters: always "not understood" (components/message_guard.py).
NONSENSE = "Mijn e-mail is amina@example.nl. " + "blorp fnord " * 100


@pytest.fixture(scope="module")
def conversations(trained_model, tmp_path_factory):
    """Three conversations in a store of their own; returns the store and the replies."""
    db = tmp_path_factory.mktemp("insights") / "tracker.db"
    with RasaStack(trained_model, tracker_db=db, name="test-insights") as stack:
        replies = {
            "rule": reply_text(stack.say("employer", "Mag een asielzoeker bij mij komen werken?")),
            "feedback": stack.say("employer", FEEDBACK),
            "handoff": reply_text(stack.say("employer", "ik wil een medewerker")),
            "fallback_1": reply_text(stack.say("lost", NONSENSE)),
            "fallback_2": reply_text(stack.say("lost", NONSENSE)),
            "out_of_scope": reply_text(stack.say("weather", "Wat voor weer wordt het morgen in Utrecht?")),
        }
    return db, replies


@pytest.fixture(scope="module")
def report(conversations, tmp_path_factory):
    db, _ = conversations
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run(
        [sys.executable, "-m", "ops.insights", "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "TRACKER_DB": str(db)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, out


def cell(page: str, label: str) -> str:
    match = re.search(r"<td>%s</td><td class=\"n\">([^<]*)</td>" % re.escape(label), page)
    assert match, label
    return match.group(1)


def test_handoff_after_a_rule_answer_summarises_status_and_theme(conversations, kb):
    _, replies = conversations
    title = kb.rule("paid_work").title
    assert answers_rule(replies["rule"], kb, "paid_work", "asylum_seeker") and replies["feedback"] == []
    handoff = replies["handoff"]
    assert "Om wie het gaat: %s" % kb.status_group("asylum_seeker").label in handoff
    assert "Je vroeg naar: %s" % title in handoff
    assert "Laatste antwoord: %s (code: paid_work)" % title in handoff
    assert all(contact.name in handoff for contact in kb.helpdesk) and "0800-8020" in handoff


def test_handoff_summary_is_stored_as_metadata(conversations):
    db, _ = conversations
    events, _ = read_conversations("sqlite:///%s" % db)
    handoffs = [
        e["metadata"]["handoff"]
        for e in events["employer"]
        if e.get("event") == "bot" and "handoff" in (e.get("metadata") or {})
    ]
    assert handoffs == [
        {"reason": "request", "status": "asylum_seeker", "themes": ["paid_work"], "last_rule_id": "paid_work"}
    ]


def test_second_fallback_hands_off_through_the_overridden_default_fallback(conversations, kb):
    _, replies = conversations
    assert "kort" in replies["fallback_1"]  # first it asks for a shorter question
    assert replies["fallback_2"].startswith("Sorry") and "wat kun je?" in replies["fallback_2"]
    assert all(contact.name in replies["fallback_2"] for contact in kb.helpdesk)
    assert "Vertel dit" not in replies["fallback_2"]  # nothing to summarise in that conversation


def test_insights_report_the_conversations(report):
    stdout, out = report
    assert "3 conversation(s), 6 message(s), 2 not understood, 1 out of scope" in stdout
    page = (out / "insights.html").read_text(encoding="utf-8")
    assert cell(page, "Gesprekken") == "3"
    assert cell(page, "Berichten van gebruikers (getypt)") == "6 (5)"  # the feedback button is not typed
    assert cell(page, "Niet begrepen") == "2 (40,0%)"
    assert cell(page, "Buiten het onderwerp") == "1 (20,0%)"
    assert cell(page, "Vroeg om een medewerker") == "1"
    assert cell(page, "Doorverwezen naar de helpdesk (op verzoek / na niet begrijpen)") == "1 / 1"
    assert cell(page, "Feedback nuttig / niet nuttig") == "1 / 0"


def test_insights_themes_feedback_and_unanswered_messages(report, kb):
    _, out = report
    page = (out / "insights.html").read_text(encoding="utf-8")
    title = kb.rule("paid_work").title
    assert '<td>%s</td><td>paid_work</td><td class="n">1</td></tr>' % title in page  # themes
    assert '<td>%s</td><td>paid_work</td><td class="n">1</td><td class="n">0</td>' % title in page  # feedback
    assert "Wat voor weer wordt het morgen in Utrecht?" in page and "ik wil een medewerker" in page
    assert "Mijn e-mail is [weggelaten]. blorp fnord" in page and "amina@example" not in page


def test_insights_writes_the_html_and_its_plots(report):
    _, out = report
    assert (out / "insights.html").is_file()
    for name in PLOTS:
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
