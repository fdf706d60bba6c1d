"""`make purge`: old conversations go, recent ones stay (SQLite here; PostgreSQL in test_prod.py)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from ops.purge import purge
from regelhulp.paths import ROOT


def store_conversation(store, sender: str, *ages_days: float) -> None:
    events = []
    for age in ages_days:
        stamp = time.time() - age * 86400
        events += [ActionExecuted("action_listen", timestamp=stamp), UserUttered("hallo", timestamp=stamp + 1)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def senders(url: str) -> set:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = {row[0] for row in connection.execute(sa.text("SELECT DISTINCT sender_id FROM events"))}
    engine.dispose()
    return found


def fill(store) -> None:
    store_conversation(store, "old", 40)
    store_conversation(store, "recent", 2)
    store_conversation(store, "mixed", 40, 1)  # still active: kept whole


def test_purge_deletes_only_conversations_idle_for_longer(tmp_path):
    db = tmp_path / "tracker.db"
    fill(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db)))
    url = "sqlite:///%s" % db
    assert purge(url, 30) == 1
    assert senders(url) == {"recent", "mixed"}
    assert purge(url, 30) == 0


def test_make_purge_command(tmp_path):
    db = tmp_path / "tracker.db"
    fill(SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db)))
    done = subprocess.run(
        [sys.executable, "-m", "ops.purge", "--days", "10"],
        cwd=ROOT,
        env={**__import__("os").environ, "TRACKER_DB": str(db)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "deleted 1 conversation" in done.stdout
    assert senders("sqlite:///%s" % db) == {"recent", "mixed"}


def test_purge_of_a_missing_store_is_a_clear_message(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "ops.purge", "--days", "10", "--profile", "prod"],
        cwd=ROOT,
        env={**__import__("os").environ, "PGPORT": "1"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "cannot reach the tracker store" in done.stderr
