"""Access from a channel to the running Rasa server (its agent and tracker store)."""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa.core.tracker_store import FailSafeTrackerStore
from sanic import Blueprint

logger = logging.getLogger(__name__)


class TrackerStoreUnavailable(RuntimeError):
    pass


def _fail_loudly(error: Exception) -> None:
    raise TrackerStoreUnavailable("the tracker store is not reachable: %s" % error) from error


class RunningRasa:
    """Known once the server starts; `attach` hooks it to a channel's blueprint."""

    def __init__(self) -> None:
        self.app: Any = None

    def attach(self, blueprint: Blueprint) -> None:
        @blueprint.listener("before_server_start")
        async def remember(app, _loop) -> None:  # type: ignore[no-untyped-def]
            self.app = app

    @property
    def tracker_store(self) -> Optional[Any]:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        return getattr(agent, "tracker_store", None)

    def refuse_silent_fallback(self) -> None:
        """Rasa wraps the tracker store so that, when the database is down, a conversation goes on
        from an empty in-memory tracker (the status forgotten, the messages lost). Make such an
        error reach the guard instead, so the user is told the service is unavailable."""
        store = self.tracker_store
        if (
            isinstance(store, FailSafeTrackerStore)
            and getattr(store, "_on_tracker_store_error", None) is not _fail_loudly
        ):
            store._on_tracker_store_error = _fail_loudly  # the constructor's callback, set after the fact

    async def tracker(self, sender_id: str) -> Optional[Any]:
        store = self.tracker_store
        return await store.retrieve(sender_id) if store is not None else None
