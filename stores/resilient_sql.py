"""Rasa's SQL tracker store with connections that are tested before use.

After a database restart or a network cut, the connections in SQLAlchemy's pool are dead; Rasa's
store would fail the next message on each of them. With `pool_pre_ping` every connection is
checked when it is taken from the pool and replaced when it is dead, so service resumes with the
first message after the database is back.

Configured in endpoints.prod.yml as `type: stores.resilient_sql.ResilientSQLTrackerStore`, with
the same settings as Rasa's `SQL` type.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class ResilientSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
