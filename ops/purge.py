"""`make purge DAYS=N [PROFILE=prod]`: deletes every stored conversation whose last event is older
than N days from the tracker store of the profile (SQLite file or PostgreSQL database)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from ops.prod import ProdSettings
from regelhulp.paths import ROOT


def engine_url(profile: str) -> str:
    if profile == "prod":
        s = ProdSettings()
        return str(
            sa.engine.URL.create(
                "postgresql",
                username=s.pg_user,
                password=s.pg_password or None,
                host=s.pg_host,
                port=s.pg_port,
                database=s.pg_database,
            )
        )
    return "sqlite:///%s" % Path(os.environ.get("TRACKER_DB", ROOT / ".rasa" / "tracker.db"))


def purge(url: str, days: float, now: float = None) -> int:
    """Deletes old conversations; returns how many conversations were deleted."""
    cutoff = (now or time.time()) - days * 86400
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if not sa.inspect(connection).has_table("events"):
                return 0
            old = [
                row[0]
                for row in connection.execute(
                    sa.text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
                    {"cutoff": cutoff},
                )
            ]
            for start in range(0, len(old), 500):
                connection.execute(
                    sa.text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": old[start : start + 500]},
                )
            return len(old)
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, required=True)
    parser.add_argument("--profile", choices=("default", "prod"), default="default")
    args = parser.parse_args()
    if args.days < 0:
        parser.error("--days must be 0 or more")
    url = engine_url(args.profile)
    try:
        deleted = purge(url, args.days)
    except sa.exc.SQLAlchemyError as error:
        print(
            "purge: cannot reach the tracker store (%s): %s" % (args.profile, error.__class__.__name__), file=sys.stderr
        )
        return 1
    print(
        "purge: deleted %d conversation(s) with no activity in the last %g day(s) (%s profile)"
        % (deleted, args.days, args.profile)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
