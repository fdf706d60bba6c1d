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
import sys
from pathlib import Path
from typing import List

import sqlalchemy as sa

from ops.purge import engine_url
from regelhulp import dates
from regelhulp.insights.read import StoreMissing, describe, read_conversations, reason
from regelhulp.insights.report import write_report
from regelhulp.insights.stats import compute
from regelhulp.knowledge import KnowledgeError, load, stale_rules
from regelhulp.paths import ROOT
from regelhulp.review import STATE_FILE, load_state, to_review


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
