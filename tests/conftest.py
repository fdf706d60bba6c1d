"""Shared fixtures. The Rasa model is trained at most once per test run (ops/train.py
reuses it by fingerprint; `make test` trains it before pytest starts)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, List, Optional

import pytest
import yaml

from regelhulp.paths import ROOT


def edit_rule(folder: Path, file: str, entry_id: str, change: Callable[[dict], object]) -> None:
    """Applies CHANGE to one entry of rules/FILE in a knowledge copy (`knowledge_copy`)."""
    path = folder / "rules" / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(next(e for e in data["entries"] if e["id"] == entry_id))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems_of(folder: Path, today: Optional[dt.date] = None) -> List[str]:
    """The problems `load` reports for a broken knowledge copy (it must raise KnowledgeError)."""
    from regelhulp.knowledge import KnowledgeError, load

    with pytest.raises(KnowledgeError) as error:
        load(folder, today=today)
    return error.value.problems


def answer_of(kb, rule_id: str, status: Optional[str] = None, language: str = "nl") -> str:  # type: ignore[no-untyped-def]
    """What a reply about RULE_ID must contain, read from knowledge/: the status group's own answer,
    else the shared one. Tests compare with this instead of pinning content ("6 maanden") in Python,
    so an edit in knowledge/ breaks no test."""
    text = kb.rule(rule_id).text_in(language)
    return (text.answers.get(status) if status else None) or text.answer or text.answers["other"]


def answers_rule(reply: str, kb, rule_id: str, status: Optional[str] = None, language: str = "nl") -> bool:  # type: ignore[no-untyped-def]
    """Whether REPLY answers RULE_ID for STATUS: with the entry's answer (answer_of), or with the answer
    of one of its concrete questions (facets), which the assistant gives when it sees that question."""
    entry = kb.rule(rule_id)
    texts = [answer_of(kb, rule_id, status, language)]
    texts += [facet.answer_for(status, language) for facet in entry.facets]
    flat = " ".join(reply.split())  # an answer may continue in the next message
    return any(text and " ".join(text.split()) in flat for text in texts)


def sources_of(kb, rule_id: str) -> List[str]:  # type: ignore[no-untyped-def]
    """The source URLs of an entry and of its facets."""
    entry = kb.rule(rule_id)
    return [s.url for s in entry.sources] + [s.url for facet in entry.facets for s in facet.sources]


def tracker(
    intent: str,
    text: str = "",
    status: Optional[str] = None,
    theme: Optional[str] = None,  # type: ignore[no-untyped-def]
    entities=(),
    language: Optional[str] = None,
    facet: Optional[str] = None,
    events=(),
):
    """A rasa-sdk tracker whose latest message has INTENT, for running a custom action directly."""
    from rasa_sdk import Tracker

    return Tracker(
        sender_id="test",
        slots={"status": status, "theme": theme, "language": language, "facet": facet},
        latest_message={"intent": {"name": intent, "confidence": 0.99}, "entities": list(entities), "text": text},
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run_action(action, track, domain: Optional[dict] = None):  # type: ignore[no-untyped-def]
    """Runs a custom action on a tracker; returns (the messages it sent, the events it returned)."""
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, domain or {}))
    return dispatcher.messages, events


def tracker_events(stack, sender: str) -> List[dict]:  # type: ignore[no-untyped-def]
    """The events of a conversation as the test stack's SQLite tracker store has them."""
    return stack.stored_events(sender)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Debian's Chromium driven by Playwright (no browser download), one per test module."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def kb():
    from regelhulp.knowledge import load

    return load()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    from ops.train import train

    return train()


@pytest.fixture
def knowledge_copy(tmp_path) -> Path:
    """A writable copy of the knowledge base, to break in a test."""
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


@pytest.fixture(scope="session")
def test_page_port() -> int:
    """The port of the test pages that talk to the stack over socket.io with long polling (rasa-webchat),
    which the stack allows as a CORS origin."""
    from ops.servers import free_port

    return free_port()


@pytest.fixture(scope="session")
def stack(trained_model, tmp_path_factory, test_page_port):
    """The real action server and Rasa server on free loopback ports, shared by the slow tests."""
    from ops.servers import RasaStack

    with RasaStack(
        trained_model,
        tracker_db=tmp_path_factory.mktemp("tracker") / "tracker.db",
        name="test",
        extra_cors_origins=["http://127.0.0.1:%d" % test_page_port],
    ) as running:
        yield running


# ---------------------------------------------------------------- helpers shared by several test modules


def post(url: str, body: bytes):  # type: ignore[no-untyped-def]
    """POSTs a JSON BODY; the status and the decoded JSON answer (also of an HTTP error)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read().decode() or "null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "null")


def get(url: str):  # type: ignore[no-untyped-def]
    """GETs URL: the status, the headers and the body text."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode("utf-8")


EVAL_DIR = ROOT / "eval" / "evaluation"
BASE_PATCHES = [  # the names regelhulp.rasa_patches.apply() reports, in order
    "action-result-validator",
    "event-class-lookup",
    "sql-tracker-read",
    "debug-log-copies",
]


def make_tiny_trained_dutch_package(folder: Path) -> Path:
    """Trains a tiny Dutch tagger + NER and packages it as nl_core_news_sm 3.4.0 (not installed)."""
    import random

    import spacy
    from spacy.cli.package import package
    from spacy.training import Example

    nlp = spacy.blank("nl")
    nlp.add_pipe("tagger")
    ner = nlp.add_pipe("ner")
    ner.add_label("LOC")
    sentences = [
        ("Ik woon in Utrecht", ["PRON", "VERB", "ADP", "PROPN"], [(11, 18, "LOC")]),
        ("Zij werkt in Arnhem", ["PRON", "VERB", "ADP", "PROPN"], [(13, 19, "LOC")]),
    ]
    examples = [Example.from_dict(nlp.make_doc(t), {"tags": tags, "entities": ents}) for t, tags, ents in sentences]
    random.seed(1)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(10):
        nlp.update(examples, sgd=optimizer)
    nlp.meta.update(name="core_news_sm", version="3.4.0")
    nlp.to_disk(folder / "trained")
    (folder / "dist").mkdir()
    package(folder / "trained", folder / "dist", create_sdist=False, force=True)
    source = folder / "dist" / "nl_core_news_sm-3.4.0"
    shutil.copy(source / "meta.json", source / "nl_core_news_sm" / "meta.json")  # what installing does
    return source


DOMAIN = {  # the slots the custom actions read, for run()
    "slots": {
        "status": {"mappings": [{"type": "from_entity", "entity": "status"}]},
        "theme": {"mappings": [{"type": "custom"}]},
    }
}


def run(action, track):  # type: ignore[no-untyped-def]
    """Runs a custom action on TRACK with DOMAIN's slots: (messages, events)."""
    return run_action(action, track, DOMAIN)


def user_event(text, intent, ranking=(), entities=()):  # type: ignore[no-untyped-def]
    """A user event as rasa-sdk trackers carry it."""
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "intent": {"name": intent},
            "entities": list(entities),
            "intent_ranking": list(ranking),
            "text": text,
        },
    }


# the stored conversations of the insights tests
DAY1 = dt.datetime(2026, 11, 2, 10, 0).timestamp()
DAY2 = dt.datetime(2026, 11, 3, 15, 0).timestamp()


def user(text, intent, at, entities=()):  # type: ignore[no-untyped-def]
    from rasa.shared.core.events import UserUttered

    return UserUttered(text, intent={"name": intent, "confidence": 0.9}, entities=list(entities), timestamp=at)


def bot(at, text="...", **metadata):  # type: ignore[no-untyped-def]
    from rasa.shared.core.events import BotUttered

    return BotUttered(text, metadata=metadata, timestamp=at)


def feedback(value, rule, at):
    text = '/feedback{"feedback_value": "%s", "feedback_rule": "%s"}' % (value, rule)
    return user(
        text, "feedback", at, [{"entity": "feedback_value", "value": value}, {"entity": "feedback_rule", "value": rule}]
    )


def conversations():
    """Three conversations over two days (Rasa events; `as_dicts` gives the stored form)."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    employer = [
        SessionStarted(timestamp=DAY1),
        ActionExecuted("action_listen", timestamp=DAY1),
        user("Mag een asielzoeker bij ons werken?", "ask_paid_work", DAY1 + 1),
        bot(DAY1 + 2, rule_id="paid_work", status="asylum_seeker", sources=["https://www.uwv.nl/x"]),
        feedback("up", "paid_work", DAY1 + 3),
        user("en vrijwilligerswerk?", "ask_volunteering", DAY1 + 4),
        bot(DAY1 + 5, rule_id="volunteering", asks="status"),
        feedback("down", "volunteering", DAY1 + 6),
        feedback("meh", "volunteering", DAY1 + 7),  # not a value the widget sends: ignored
        feedback("up", "<script>", DAY1 + 8),  # not a rule id: ignored
        user("/request_human", "request_human", DAY1 + 9),  # the widget's button
        bot(DAY1 + 10, handoff={"reason": "request", "status": None, "themes": ["paid_work"], "last_rule_id": None}),
    ]
    lost = [
        user("blorp mail me op amina@example.nl", "nlu_fallback", DAY2),
        ActionExecuted("action_two_stage_fallback", timestamp=DAY2 + 1),
        user("<b>zxqv</b> fnord", "nlu_fallback", DAY2 + 2),
        ActionExecuted("action_default_fallback", timestamp=DAY2 + 3),
        bot(DAY2 + 3, handoff={"reason": "fallback", "status": None, "themes": [], "last_rule_id": None}),
        user("Wat voor weer wordt het morgen?", "out_of_scope", DAY2 + 4),
    ]
    policy_fallback = [  # NLU understood it, but no rule applied: the policy's fallback answers
        user("mag hij werken?", "ask_paid_work", DAY2 + 10),
        ActionExecuted("action_default_fallback", timestamp=DAY2 + 11),
        bot(DAY2 + 11, rule_id="paid_work", sources=["https://www.uwv.nl/x"]),
        user("ik wil een medewerker", "request_human", DAY2 + 12),
    ]
    return {"employer": employer, "lost": lost, "policy": policy_fallback}


def cell(page: str, label: str) -> str:
    """The value next to LABEL in the report's table of figures."""
    match = re.search(r"<td>%s</td><td class=\"n\">([^<]*)</td>" % re.escape(label), page)
    assert match, label
    return match.group(1)


def run_insights(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "ops.insights", "--out", str(tmp_path / "out"), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def save(store, conversation_events):  # type: ignore[no-untyped-def]
    """Saves the conversations (sender -> Rasa events) in a tracker store."""
    from rasa.shared.core.trackers import DialogueStateTracker

    for sender, events in conversation_events.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def status_after(question, text, status, **slots):  # type: ignore[no-untyped-def]
    """ActionAnswerRule's reply when the status statement `text` follows the user event `question`."""
    from actions.actions import ActionAnswerRule

    said = user_event(text, "inform_status")
    return run(ActionAnswerRule(), tracker("inform_status", text, status=status, events=[question, said], **slots))


def joined(replies) -> str:  # type: ignore[no-untyped-def]
    """The texts of a list of regelhulp.replies.Reply as one line (an answer may continue in the next one)."""
    return " ".join(" ".join(r.text for r in replies).split())
