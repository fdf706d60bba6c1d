"""Shared fixtures. The Rasa model is trained at most once per test run (ops/train.py
reuses it by fingerprint; `make test` trains it before pytest starts)."""

from __future__ import annotations

import datetime as dt
import shutil
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
    return any(text and text in reply for text in texts)


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
    import json
    import sqlite3

    with sqlite3.connect(stack.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(r[0]) for r in rows]


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
