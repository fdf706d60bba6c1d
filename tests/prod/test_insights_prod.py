"""The production-profile tests split from tests/unit/test_insights.py (the real PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest
from conftest import cell, conversations, run_insights, save


@pytest.mark.prod
def test_reads_the_postgresql_store_of_the_production_profile(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from ops.prod import ProdSettings, drop_database, ensure_database

    settings = ProdSettings(pg_database="regelhulp_insights_%s" % uuid.uuid4().hex[:10])
    ensure_database(settings)
    try:
        store = SQLTrackerStore(
            Domain.empty(),
            dialect="postgresql",
            host=settings.pg_host,
            port=settings.pg_port,
            db=settings.pg_database,
            username=settings.pg_user,
            password=settings.pg_password or None,
        )
        save(store, conversations())
        store.engine.dispose()
        done = run_insights(
            tmp_path,
            "--profile",
            "prod",
            PGDATABASE=settings.pg_database,
            PGHOST=settings.pg_host,
            PGPORT=str(settings.pg_port),
        )
    finally:
        drop_database(settings)
    assert done.returncode == 0, done.stderr
    assert "3 conversation(s), 12 message(s), 3 not understood, 1 out of scope" in done.stdout
    page = (tmp_path / "out" / "insights.html").read_text(encoding="utf-8")
    assert "postgresql://" in page and "/%s." % settings.pg_database in page
    assert cell(page, "Gesprekken") == "3" and "blorp mail me op [weggelaten]" in page
