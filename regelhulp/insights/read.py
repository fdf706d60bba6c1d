"""Reading the stored conversations for the insights report: every conversation's events from the tracker
store (SQLite or PostgreSQL, read only), and a description of the store without its password."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Tuple

import sqlalchemy as sa


class StoreMissing(Exception):
    pass


def describe(url: str) -> str:
    """Where the conversations come from, without a password."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def reason(error: Exception) -> str:
    """The first line of the database's own message ("database ... does not exist"), else the kind."""
    lines = str(getattr(error, "orig", None) or "").strip().splitlines()
    return lines[0] if lines else error.__class__.__name__


def read_conversations(url: str) -> Tuple[Dict[str, List[dict]], int]:
    """Every stored conversation's events in stored order, and the number of unreadable rows."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise StoreMissing("the tracker store %s does not exist (TRACKER_DB)" % parsed.database)
    conversations: Dict[str, List[dict]] = {}
    unreadable = 0
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("events"):
                return {}, 0
            for sender, data in connection.execute(sa.text("SELECT sender_id, data FROM events ORDER BY id")):
                try:
                    event = json.loads(data)
                except (TypeError, ValueError):
                    unreadable += 1
                    continue
                if isinstance(event, dict):
                    conversations.setdefault(sender, []).append(event)
    finally:
        engine.dispose()
    return conversations, unreadable
