"""End to end: the real action server and Rasa server on free loopback ports, over REST."""

from __future__ import annotations

import re
import uuid

import pytest
from conftest import answer_of, answers_rule, sources_of

from ops.servers import RasaStack, free_port, reply_text
from regelhulp.paths import ROOT

pytestmark = pytest.mark.slow


def talk(stack, *messages):
    sender = "test-%s" % uuid.uuid4().hex[:8]
    replies = [reply_text(stack.say(sender, message)) for message in messages]
    return replies


def test_employer_question_about_asylum_seeker_gets_the_work_answer_with_source(stack, kb):
    (reply,) = talk(stack, "Mag een asielzoeker bij mij komen werken?")
    assert answers_rule(reply, kb, "paid_work", "asylum_seeker")
    assert any("(%s)" % url in reply for url in sources_of(kb, "paid_work"))
    assert ", stand " in reply and " · nagekeken " in reply


def test_same_question_about_status_holder_gets_the_status_holder_answer(stack, kb):
    (reply,) = talk(stack, "Mag een statushouder bij mij komen werken?")
    assert answers_rule(reply, kb, "paid_work", "status_holder")
    assert answer_of(kb, "paid_work", "asylum_seeker") not in reply


def test_status_is_asked_remembered_and_corrected(stack, kb):
    asked, answered, follow_up, corrected = talk(
        stack,
        "mag hij bij ons komen werken?",
        "hij zit nog in de asielprocedure",
        "en mag hij ook studeren?",
        "nee, hij heeft al een verblijfsvergunning",
    )
    assert all(kb.status_group(g).button in asked for g in ("asylum_seeker", "status_holder"))
    assert answers_rule(answered, kb, "paid_work", "asylum_seeker")
    for reply, group in ((follow_up, "asylum_seeker"), (corrected, "status_holder")):  # the study rule, per status
        assert kb.rule("study").title in reply and kb.status_group(group).label.lower() in reply.lower(), reply


def test_status_button_payload(stack, kb):
    sender = "test-%s" % uuid.uuid4().hex[:8]
    stack.say(sender, "Mag ze vrijwilligerswerk doen?")
    reply = reply_text(stack.say(sender, '/inform_status{"status": "asylum_seeker"}'))
    assert answers_rule(reply, kb, "volunteering", "asylum_seeker")


def test_greeting_capabilities_and_out_of_scope(stack, kb):
    greet, capabilities, out_of_scope = talk(
        stack, "Hallo!", "wat kun je?", "Wat voor weer wordt het morgen in Utrecht?"
    )
    assert "Regelhulp" in greet
    assert kb.rule("volunteering").title in capabilities
    assert "niet mee helpen" in out_of_scope and not any(
        answer_of(kb, "paid_work", g) in out_of_scope for g in ("asylum_seeker", "other")
    )


@pytest.mark.parametrize(
    "message",
    ["", "   ", "x" * 100_000, "<script>alert(1)</script><img src=x onerror=alert(1)>", "🙂🙂🙂", "a\u0000b"],
    ids=["empty", "spaces", "100kB", "html", "emoji", "nul"],
)
def test_bad_input_gets_a_polite_answer(stack, message):
    sender = "test-%s" % uuid.uuid4().hex[:8]
    replies = stack.say(sender, message)
    assert all("<script>" not in (m.get("text") or "") for m in replies)
    # the conversation still works afterwards
    assert re.search(r"Regelhulp", reply_text(stack.say(sender, "hallo")))


def test_english_question_english_answer_and_switching_language_mid_conversation(stack, kb):
    english, status, switched, dutch, ok, back, thanks = talk(
        stack,
        "Can this man work for my company?",
        "He is still in the asylum procedure",
        "graag verder in het Nederlands",
        "mag hij ook vrijwilligerswerk doen?",
        "ok",  # no language of its own: the conversation's language stays
        "can you answer in English again please?",
        "thanks a lot",
    )
    assert kb.status_group("asylum_seeker").in_language("button", "en") in english  # the status question, in English
    assert answers_rule(status, kb, "paid_work", "asylum_seeker", "en")
    assert "Source:" in status and " · checked " in status and "Bron:" not in status
    assert "Nederlands" in switched
    assert (
        answers_rule(dutch, kb, "volunteering", "asylum_seeker") and "Bron:" in dutch
    )  # status remembered, Dutch again
    assert "Fijn" in ok
    assert "English" in back and "welcome" in thanks.lower()


def test_english_channel_and_fallback_texts(stack):
    first, second = talk(stack, "I have a question. " + "y" * 5000, "Please help me. " + "z" * 5000)
    assert "short" in first or "briefly" in first
    assert "VluchtelingenWerk" in second and "personal" in second


def test_broken_knowledge_base_stops_the_action_server(knowledge_copy):
    (knowledge_copy / "rules" / "work.yml").write_text("entries: [ {id: broken")
    port = free_port()
    stack = RasaStack(
        ROOT / "models" / "unused.tar.gz",
        action_port=port,
        name="broken-kb",
        extra_env={"REGELHULP_KNOWLEDGE": str(knowledge_copy)},
    )
    with pytest.raises(RuntimeError) as error:
        stack.start_actions(timeout=60)
    stack.stop()
    assert "rules/work.yml: is not valid YAML" in str(error.value)


def test_two_fallbacks_in_a_row_end_with_a_referral(stack):
    first, second = talk(stack, "x" * 5000, "y" * 5000)
    assert "kort" in first  # the first stage asks for a shorter question
    assert "VluchtelingenWerk" in second and "uwv.nl" in second  # then it refers


def test_clicking_a_suggested_topic_answers_it(stack, kb):
    sender = "test-%s" % uuid.uuid4().hex[:8]
    stack.say(sender, "z" * 5000)  # start the fallback loop
    reply = reply_text(stack.say(sender, "/ask_weeks_limit"))
    assert answers_rule(reply, kb, "weeks_limit") and "Bron:" in reply


def test_make_run_serves_and_ctrl_c_stops_everything(trained_model, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    ports = {"RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()), "WEB_PORT": str(free_port())}
    env = dict(os.environ, TRACKER_DB=str(tmp_path / "run.db"), **ports)
    run = subprocess.Popen(
        [sys.executable, "-m", "ops.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not any("is running" in line for line in lines):
            lines.append(run.stdout.readline())
        assert any("is running" in line for line in lines), "".join(lines)
        page = urllib.request.urlopen("http://127.0.0.1:%s/" % ports["WEB_PORT"]).read().decode()
        assert "regelhulp-widget.js" in page and "127.0.0.1:%s" % ports["RASA_PORT"] in page
        children = subprocess.run(
            ["pgrep", "-f", "--", "--port %s" % ports["ACTION_PORT"]], capture_output=True, text=True
        ).stdout.split()
        assert children
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 0
    finally:
        if run.poll() is None:  # a failed assertion must not leave the servers running
            run.terminate()
            run.wait(timeout=60)
    time.sleep(1)
    assert (
        subprocess.run(["pgrep", "-f", "--", "--port %s" % ports["ACTION_PORT"]], capture_output=True).returncode == 1
    )
    assert subprocess.run(["pgrep", "-f", "--", "--port %s" % ports["RASA_PORT"]], capture_output=True).returncode == 1
