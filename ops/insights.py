"""`make insights [PROFILE=prod]`: a report for the helpdesk and the content team from the stored
conversations: conversations and messages per day, themes, fallback and out-of-scope rates,
feedback per answer, the (redacted) messages the assistant could not answer, and the knowledge-base
entries to review: first those with a date that passed without a later check or a source page that
changed since (the state of the last `make check-sources`), last those not checked for a long time. Writes reports/insights.html with PNG plots.

Reads the tracker store of the profile like `make purge`: the SQLite file TRACKER_DB, or the
PostgreSQL database from the PG* settings (ops/prod.py). Reading only; nothing is changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import sqlalchemy as sa

from ops.check_sources import STATE_FILE, load_state
from ops.insights_report import write_report
from ops.insights_stats import compute
from ops.purge import engine_url
from ops.review import to_review
from regelhulp import dates
from regelhulp.knowledge import KnowledgeError, load, stale_rules
from regelhulp.paths import ROOT


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


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("default", "prod"), default="default")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="folder for insights.html and the plots")
    parser.add_argument(
        "--sources-state", type=Path, default=STATE_FILE, help="the state of the last make check-sources"
    )
    args = parser.parse_args(argv)
    url = engine_url(args.profile)
    try:
        kb = load()
    except KnowledgeError as error:
        print("insights: %s" % error, file=sys.stderr)
        return 1
    try:
        conversations, unreadable = read_conversations(url)
    except StoreMissing as error:
        print("insights: %s" % error, file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as error:
        print(
            "insights: cannot read the tracker store (%s profile, %s): %s"
            % (args.profile, describe(url), reason(error)),
            file=sys.stderr,
        )
        return 1
    figures = compute(conversations)
    today = dates.today()
    review = to_review(kb, today, load_state(args.sources_state))
    path = write_report(figures, kb, stale_rules(kb, today), args.out, describe(url), today, review)
    if unreadable:
        print("insights: skipped %d event(s) that are not valid JSON" % unreadable, file=sys.stderr)
    print(
        "insights: %d conversation(s), %d message(s), %d not understood, %d out of scope; wrote %s"
        % (figures.conversations, figures.messages, figures.fallback, figures.out_of_scope, path)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
