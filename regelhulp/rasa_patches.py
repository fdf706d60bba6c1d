"""Small, behaviour-preserving patches to Rasa 3.6 that remove work it repeats on every message.

Applied by `apply()` in the Rasa server process before Rasa starts (regelhulp/rasa_server.py, which
ops/servers.py runs instead of `python -m rasa`). A profile of the server under load showed:

1. `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for every
   custom action; `validate` checks the schema against its meta-schema and builds a new validator
   each time, which was more than half of the server's CPU. The patch builds the validator once
   (per schema function) and reuses it. A valid response passes as before; an invalid one is
   handed to Rasa's original method, so it is rejected with exactly Rasa's error (a
   `jsonschema.ValidationError` with Rasa's message).
2. `Event.resolve_by_type` walks all subclasses of `Event` (`all_subclasses`, with an
   `inspect.isabstract` check each) for every single event read from the tracker store or the
   action server, so the cost per message grew with the length of the conversation. The patch keeps
   a dict type name -> class, built from the same `all_subclasses` list in the same order (the
   first class with a name wins, as before), rebuilt when a new `Event` subclass is defined; names
   it does not know (`topic`, unknown names, with or without a default) go to Rasa's original.
3. `SQLTrackerStore._retrieve` (also used by stores/resilient_sql.py) loads every event row of the
   conversation as an ORM object only to read its `data` column. The patch runs the same query
   (same filters, same order) selecting only that column, and builds the tracker the same way.
4. Rasa deep-copies values for its debug log lines (`structlogger.debug(..., x=copy.deepcopy(x))`)
   also when debug logging is off: in the processor (events, parse data) and the policies, where
   `RulePolicy` copies all dialogue states of the conversation, twice per prediction, so this grows
   with the conversation. The copies only protect the values from Rasa Pro's anonymisation
   pipeline, which rewrites logged values. In the modules of LOG_COPY_MODULES, whose only use of
   `copy` is exactly this (checked in their source when applied), `copy.deepcopy` hands the value
   on as it is when no anonymisation pipeline is registered (Rasa Open Source never has one), and
   copies as before when one is.

`apply_all()` (what the server entry runs) then applies the patches for long conversations
(CONVERSATION_PATCHES, numbered 5-9 below; each function's docstring says what it replaces and what
to compare on an upgrade): 5. sqlite-wal (SQLite tracker store: one kept connection, write-ahead log,
no fsync per message), 6. sql-tracker-cache (the session's events kept per conversation while the
database's row count and highest id for the sender are unchanged), 7. incremental-dialogue-states
(`Domain.states_for_tracker_history` goes on from the replay of the previous call), 8.
gc-freeze-after-load (`gc.freeze()` after the model is loaded), 9. applied-events-by-type
(`DialogueStateTracker.applied_events` with the event kinds looked up per class). They are tested in
tests/unit/test_rasa_patches_conversation.py.

When Rasa is upgraded: the patches refuse to apply to another version than 3.6.x (the server does
not start; set REGELHULP_RASA_PATCHES=0 to start it unpatched). Before widening SUPPORTED, compare
`RemoteAction._validate_action_result` and `action_response_format_spec` in
rasa/core/actions/action.py and `Event.resolve_by_type` in rasa/shared/core/events.py and
`SQLTrackerStore._retrieve` in rasa/core/tracker_store.py with the 3.6 versions these patches assume, then run tests/unit/test_rasa_patches.py.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Dict, List, Optional, Type

logger = logging.getLogger(__name__)

SUPPORTED = "3.6."
SWITCH = "REGELHULP_RASA_PATCHES"  # "0": start Rasa unpatched (to compare, or after an upgrade)

_applied: List[str] = []
_originals: Dict[str, Callable[..., Any]] = {}


class UnsupportedRasaVersion(RuntimeError):
    pass


def enabled() -> bool:
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def applied() -> List[str]:
    """The names of the patches applied in this process."""
    return list(_applied)


def apply() -> List[str]:
    """Applies the patches once per process (idempotent); returns their names ([] when switched off)."""
    if _applied:
        return applied()
    if not enabled():
        logger.warning("Rasa patches switched off (%s=0): Rasa runs unpatched.", SWITCH)
        return []
    import rasa

    if not rasa.__version__.startswith(SUPPORTED):
        raise UnsupportedRasaVersion(
            "regelhulp.rasa_patches is written for rasa==%sx, found %s: check the patched functions (see the "
            "module's docstring) and widen SUPPORTED, or start with %s=0." % (SUPPORTED, rasa.__version__, SWITCH)
        )
    for patch in (_patch_action_validation, _patch_event_lookup, _patch_sql_tracker_read, _patch_debug_log_copies):
        patch()
    logger.info("Rasa patches applied: %s", ", ".join(_applied))
    return applied()


def apply_all() -> List[str]:
    """`apply()` and then the patches for long conversations (CONVERSATION_PATCHES); what the Rasa
    server entry (regelhulp/rasa_server.py) runs. Returns the names of all patches applied."""
    names = apply()
    if names and not any(name in _applied for name in CONVERSATION_PATCHES):
        conversation_patches = (_patch_sqlite_wal, _patch_sql_tracker_cache, _patch_incremental_states)
        for patch in conversation_patches + (_patch_applied_events, _patch_gc_freeze):
            patch()
        logger.info("Rasa patches for long conversations applied: %s", ", ".join(CONVERSATION_PATCHES))
    return applied()


def revert() -> None:
    """Puts Rasa's own functions back (for tests that must see Rasa unpatched)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    _revert_conversation_patches()

    if "RemoteAction._validate_action_result" in _originals:
        RemoteAction._validate_action_result = _originals.pop("RemoteAction._validate_action_result")  # type: ignore[assignment]
    if "Event.resolve_by_type" in _originals:
        Event.resolve_by_type = staticmethod(_originals.pop("Event.resolve_by_type"))  # type: ignore[assignment]
        if "__init_subclass__" in Event.__dict__:
            del Event.__init_subclass__
    if "SQLTrackerStore._retrieve" in _originals:
        from rasa.core.tracker_store import SQLTrackerStore

        SQLTrackerStore._retrieve = _originals.pop("SQLTrackerStore._retrieve")  # type: ignore[assignment]
    for name in LOG_COPY_MODULES:
        if "%s.copy" % name in _originals:
            import importlib

            setattr(importlib.import_module(name), "copy", _originals.pop("%s.copy" % name))  # noqa: B010
    _validators.clear()
    _forget_event_classes()
    _applied.clear()


def original(name: str) -> Callable[..., Any]:
    """Rasa's own function that a patch replaced (for tests and the slow paths)."""
    return _originals[name]


# 1. Action server responses: validator built once -------------------------------------------------

_validators: Dict[Callable[[], Dict[str, Any]], Any] = {}


def action_result_validator(spec: Callable[[], Dict[str, Any]]) -> Any:
    """The jsonschema validator for the schema that SPEC returns, built (and the schema checked) once."""
    validator = _validators.get(spec)
    if validator is None:
        from jsonschema.validators import validator_for

        schema = spec()
        cls = validator_for(schema)  # what jsonschema.validate uses
        cls.check_schema(schema)
        validator = _validators[spec] = cls(schema)
    return validator


def _patch_action_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    rasa_validate = RemoteAction._validate_action_result
    _originals["RemoteAction._validate_action_result"] = rasa_validate

    def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
        # The staticmethod seen through the class is the same function object every time; a subclass
        # with its own schema gets its own validator.
        validator = action_result_validator(type(self).action_response_format_spec)
        if validator.is_valid(result):
            return True
        return rasa_validate(self, result)  # raises Rasa's ValidationError with Rasa's message

    _validate_action_result.__doc__ = rasa_validate.__doc__
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    _applied.append("action-result-validator")


# 2. Event class by type name: a dict instead of a walk over all subclasses -------------------------

_event_classes: Optional[Dict[str, type]] = None


def event_classes() -> Dict[str, type]:
    """Type name -> event class, in the order Rasa's lookup tries them (the first one wins)."""
    global _event_classes
    classes = _event_classes
    if classes is None:
        from rasa.shared.core.events import Event
        from rasa.shared.utils.common import all_subclasses

        classes = {}
        for cls in all_subclasses(Event):
            classes.setdefault(cls.type_name, cls)
        _event_classes = classes
    return classes


def _forget_event_classes() -> None:
    global _event_classes
    _event_classes = None


def _patch_event_lookup() -> None:
    from rasa.shared.core.events import Event

    if "__init_subclass__" in Event.__dict__:  # Rasa 3.6's Event has none; do not guess how to chain one
        raise UnsupportedRasaVersion("Event defines __init_subclass__; review the event lookup patch")
    rasa_resolve = Event.resolve_by_type
    _originals["Event.resolve_by_type"] = rasa_resolve

    def resolve_by_type(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        cls = event_classes().get(type_name)
        if cls is not None:
            return cls
        return rasa_resolve(type_name, default)  # "topic", defaults and the error for unknown names

    resolve_by_type.__doc__ = rasa_resolve.__doc__
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        super(Event, cls).__init_subclass__(**kwargs)  # type: ignore[misc]
        _forget_event_classes()  # a new event class: rebuild the dict on the next lookup

    Event.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    _applied.append("event-class-lookup")


# 3. SQL tracker store: read the event data column only --------------------------------------------


def _patch_sql_tracker_read() -> None:
    import json

    from rasa.core import tracker_store
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_retrieve = SQLTrackerStore._retrieve
    _originals["SQLTrackerStore._retrieve"] = rasa_retrieve

    async def _retrieve(
        self: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data).all()]
            if self.domain and len(events) > 0:
                tracker_store.logger.debug(f"Recreating tracker from sender id '{sender_id}'")
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            tracker_store.logger.debug(
                f"Can't retrieve tracker matching sender id '{sender_id}' from SQL storage. Returning `None` instead."
            )
            return None

    _retrieve.__doc__ = rasa_retrieve.__doc__
    SQLTrackerStore._retrieve = _retrieve  # type: ignore[assignment]
    _applied.append("sql-tracker-read")


# 4. Debug log lines: no deep copies for a log call nobody rewrites ---------------------------------

# Rasa modules on the message path whose only use of `copy` is `copy.deepcopy(...)` as an argument of
# `structlogger.debug(...)` (checked when applied; the rule policy's copy grows with the conversation).
LOG_COPY_MODULES = ("rasa.core.policies.rule_policy", "rasa.core.policies.memoization", "rasa.core.processor")


def anonymization_pipeline() -> Any:
    """Rasa's anonymisation pipeline (a Rasa Pro plugin), None in Rasa Open Source."""
    from rasa.plugin import plugin_manager

    return plugin_manager().hook.get_anonymization_pipeline()


def copies_only_for_debug_logs(source: str) -> bool:
    """True when every use of the name `copy` in SOURCE is `copy.deepcopy(...)` passed as a keyword
    argument to `structlogger.debug(...)`."""
    import ast

    def is_attribute(node: ast.AST, owner: str, name: str) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == name
            and isinstance(node.value, ast.Name)
            and node.value.id == owner
        )

    tree = ast.parse(source)
    allowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and is_attribute(node.func, "structlogger", "debug"):
            for keyword in node.keywords:
                func = keyword.value.func if isinstance(keyword.value, ast.Call) else None
                if isinstance(func, ast.Attribute) and is_attribute(func, "copy", "deepcopy"):
                    allowed.add(id(func.value))
    uses = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "copy"]
    return bool(uses) and all(id(node) in allowed for node in uses)


class CopyForLogging:
    """Stands in for the `copy` module inside the LOG_COPY_MODULES, where it only deep-copies values
    handed to a structlog debug call. The copy protects a logged value from Rasa Pro's anonymisation
    pipeline, which rewrites logged values; without one, no log processor changes the value, and a
    log line (when debug logging is on) is written before the call returns, so the value serves as it is."""

    def __init__(self, module: Any):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def deepcopy(self, value: Any, memo: Optional[Dict[int, Any]] = None) -> Any:
        if anonymization_pipeline() is None:
            return value
        return self._module.deepcopy(value, memo)


def _patch_debug_log_copies() -> None:
    import copy
    import importlib
    import inspect

    modules = [importlib.import_module(name) for name in LOG_COPY_MODULES]
    for module in modules:
        if getattr(module, "copy", None) is not copy or not copies_only_for_debug_logs(inspect.getsource(module)):
            raise UnsupportedRasaVersion(
                "%s uses `copy` for more than debug log values; review the patch" % module.__name__
            )
    for module in modules:
        _originals["%s.copy" % module.__name__] = module.copy
        module.copy = CopyForLogging(copy)  # type: ignore[attr-defined]
    _applied.append("debug-log-copies")


# Patches for long conversations (applied by apply_all(), after the ones above) ----------------------

CONVERSATION_PATCHES = (
    "sqlite-wal",
    "sql-tracker-cache",
    "incremental-dialogue-states",
    "applied-events-by-type",
    "gc-freeze-after-load",
)


def _revert_conversation_patches() -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    for name in ("__init__", "_retrieve", "_additional_events", "save"):
        key = "SQLTrackerStore.%s (conversation patches)" % name
        if key in _originals:
            setattr(SQLTrackerStore, name, _originals.pop(key))
    from rasa.core import agent
    from rasa.shared.core.domain import Domain

    if "agent.load_agent (conversation patches)" in _originals:
        agent.load_agent = _originals.pop("agent.load_agent (conversation patches)")
    from rasa.shared.core.trackers import DialogueStateTracker

    if "DialogueStateTracker.applied_events (conversation patches)" in _originals:
        DialogueStateTracker.applied_events = _originals.pop(
            "DialogueStateTracker.applied_events (conversation patches)"
        )
    if "Domain.states_for_tracker_history (conversation patches)" in _originals:
        Domain.states_for_tracker_history = _originals.pop("Domain.states_for_tracker_history (conversation patches)")
    _STATES.clear()
    for name in CONVERSATION_PATCHES:
        if name in _applied:
            _applied.remove(name)


def _keep_original(cls: type, name: str) -> Callable[..., Any]:
    function = getattr(cls, name)
    _originals["%s.%s (conversation patches)" % (cls.__name__, name)] = function
    return function


# 5. SQLite tracker store: write-ahead log, no fsync per message -----------------------------------


def sqlite_pragmas(dbapi_connection: Any, connection_record: Any = None) -> None:
    """WAL journal and synchronous=NORMAL on a new SQLite connection (see _patch_sqlite_wal)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _patch_sqlite_wal() -> None:
    """The default profile's SQLite tracker store commits every message with a rollback journal and
    `synchronous=FULL`: two fsyncs per message, during which Rasa's event loop (which runs the store
    synchronously) serves nobody. With a write-ahead log and `synchronous=NORMAL` (SQLite's
    recommendation for WAL) a commit appends to the log without an fsync; a crash of the process loses
    nothing, a power failure or OS crash may lose the last commits (not a corrupted database). Readers
    (purge, insights, tests reading the file with sqlite3) keep working, also while the server writes.
    And SQLAlchemy 1.4 gives a SQLite file database no connection pool (NullPool): every read and every
    save opened a new connection (and closing the last connection of a WAL database checkpoints it);
    the engine is made again from the same URL with SQLAlchemy's SingletonThreadPool, which keeps one
    connection per thread (Rasa uses the store from its event loop's thread). Only file-based SQLite
    engines of SQLTrackerStore (and subclasses) are touched; PostgreSQL and in-memory SQLite are unchanged.
    On a Rasa upgrade: check that SQLTrackerStore.__init__ still sets `engine` and `sessionmaker` and
    nothing else bound to the engine, and which pool SQLAlchemy gives SQLite file databases."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    rasa_init = _keep_original(SQLTrackerStore, "__init__")

    def __init__(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
        rasa_init(self, *args, **kwargs)
        engine = getattr(self, "engine", None)
        if engine is None or engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
            return
        # the same URL; a kept connection (per thread) with the pragmas instead of a new one per session
        engine.dispose()
        self.engine = sa.create_engine(engine.url, poolclass=sa.pool.SingletonThreadPool)
        sa.event.listen(self.engine, "connect", sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    __init__.__doc__ = rasa_init.__doc__
    SQLTrackerStore.__init__ = __init__  # type: ignore[assignment]
    _applied.append("sqlite-wal")


# 6. SQL tracker store: the events of a conversation read once, kept while the database agrees -----

TRACKER_CACHE_SIZE = 500  # conversations per store (least recently used go first)


class CachedConversation:
    """The stored rows of one conversation's current session as Rasa's query returns them: the event
    dicts (marshal-encoded, so each read gets fresh dicts), the number and the highest id of ALL the
    sender's rows (any insert or delete by anyone changes one of these), and the session start the
    query filtered on."""

    __slots__ = ("events", "count", "last_id", "session_start")

    def __init__(self, events: List[bytes], count: int, last_id: Optional[int], session_start: Optional[float]):
        self.events, self.count, self.last_id, self.session_start = events, count, last_id, session_start


class TrackerCache:
    """Per SQLTrackerStore: sender id -> CachedConversation, least recently used dropped first."""

    def __init__(self, size: int = TRACKER_CACHE_SIZE):
        from collections import OrderedDict

        self.size = size
        self.entries: "OrderedDict[str, CachedConversation]" = OrderedDict()

    def get(self, sender_id: str) -> Optional[CachedConversation]:
        entry = self.entries.get(sender_id)
        if entry is not None:
            self.entries.move_to_end(sender_id)
        return entry

    def put(self, sender_id: str, entry: CachedConversation) -> None:
        self.entries[sender_id] = entry
        self.entries.move_to_end(sender_id)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def drop(self, sender_id: str) -> None:
        self.entries.pop(sender_id, None)


def tracker_cache(store: Any) -> TrackerCache:
    cache = store.__dict__.get("_regelhulp_tracker_cache")
    if cache is None:
        cache = store.__dict__["_regelhulp_tracker_cache"] = TrackerCache()
    return cache


def _statements(store: Any) -> Dict[str, Any]:
    """The two plain SQL statements of the cache, for the store's events table (made once per store)."""
    statements = store.__dict__.get("_regelhulp_statements")
    if statements is None:
        import sqlalchemy as sa

        table = store.SQLEvent.__table__
        name = table.name if not table.schema else "%s.%s" % (table.schema, table.name)
        statements = store.__dict__["_regelhulp_statements"] = {
            "rows": sa.text("SELECT count(id), max(id) FROM %s WHERE sender_id = :sender_id" % name),
            "newer": sa.text(
                "SELECT id, type_name, timestamp, data FROM %s WHERE sender_id = :sender_id AND id > :last_id "
                "ORDER BY id" % name
            ),
        }
    return statements


def _sender_rows(store: Any, session: Any, sender_id: str) -> tuple:
    """(number of rows, highest id) of all the sender's events: one indexed query."""
    return tuple(session.execute(_statements(store)["rows"], {"sender_id": sender_id}).one())


def valid_entry(store: Any, session: Any, sender_id: str) -> Optional[CachedConversation]:
    """The cached conversation when the database still holds exactly the rows it was made from, else None."""
    entry = tracker_cache(store).get(sender_id)
    if entry is None:
        return None
    if _sender_rows(store, session, sender_id) != (entry.count, entry.last_id):
        tracker_cache(store).drop(sender_id)
        return None
    return entry


def _load_entry(store: Any, session: Any, sender_id: str) -> CachedConversation:
    """Rasa's query for the current session (the same filters and order), with id, type and timestamp."""
    import json
    import marshal

    from rasa.shared.core.events import SessionStarted

    count, last_id = _sender_rows(store, session, sender_id)
    event = store.SQLEvent
    rows = (
        store._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        .with_entities(event.type_name, event.timestamp, event.data)
        .all()
    )
    starts = [
        timestamp for type_name, timestamp, _ in rows if type_name == SessionStarted.type_name and timestamp is not None
    ]
    return CachedConversation(
        [marshal.dumps(json.loads(data)) for _, _, data in rows], count, last_id, max(starts) if starts else None
    )


def _patch_sql_tracker_cache() -> None:
    """Rasa reads every event of the conversation's current session from SQL and decodes its JSON for
    every message, and counts them again when it saves (to find the new events): both grow with the
    length of the conversation. Here each store keeps the decoded events of recent conversations. A
    read first asks the database for the number and the highest id of the sender's rows (one indexed
    query); only when both still match what the cache was made from are the cached events used,
    otherwise Rasa's query runs again. So a write or delete by any other process or replica (purge,
    another Rasa replica, the HTTP API) is seen, and the tracker is built from the same event dicts
    by Rasa's own `DialogueStateTracker.from_dict`. After Rasa's own save the new rows are read back
    (rows with a higher id) and appended when they belong to the same session as Rasa's query defines
    it (not a new `session_started`, timestamp not before the session start); otherwise the entry is
    dropped and the next read runs Rasa's query. Reads of all sessions go to Rasa unchanged."""
    import json
    import marshal

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_retrieve = _keep_original(SQLTrackerStore, "_retrieve")
    rasa_additional_events = _keep_original(SQLTrackerStore, "_additional_events")
    rasa_save = _keep_original(SQLTrackerStore, "save")

    async def _retrieve(
        self: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:
            return await rasa_retrieve(self, sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            entry = valid_entry(self, session, sender_id)
            if entry is None:
                entry = _load_entry(self, session, sender_id)
                if entry.events:
                    tracker_cache(self).put(sender_id, entry)
        events = [marshal.loads(data) for data in entry.events]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _additional_events(self: SQLTrackerStore, session: Any, tracker: DialogueStateTracker) -> Any:
        import itertools

        entry = valid_entry(self, session, tracker.sender_id)
        if entry is None:
            return rasa_additional_events(self, session, tracker)
        return itertools.islice(tracker.events, len(entry.events), len(tracker.events))

    async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        cache = tracker_cache(self)
        before = cache.get(sender_id)
        try:
            await rasa_save(self, tracker)
        except BaseException:
            cache.drop(sender_id)
            raise
        if before is None:
            return
        with self.session_scope() as session:
            entry = cache.get(sender_id)
            if entry is not before:
                return
            # the rows stored after the cached ones (ours, and any other writer's): the next read checks
            # the number and the highest id of all rows again, so a delete is seen there
            rows = session.execute(
                _statements(self)["newer"], {"sender_id": sender_id, "last_id": entry.last_id or 0}
            ).all()
            same_session = all(
                type_name != SessionStarted.type_name
                and (entry.session_start is None or (timestamp is not None and timestamp >= entry.session_start))
                for _, type_name, timestamp, _ in rows
            )
            if not same_session:
                cache.drop(sender_id)  # a new session: Rasa's query next time
                return
            entry.events.extend(marshal.dumps(json.loads(data)) for _, _, _, data in rows)
            if rows:
                entry.count, entry.last_id = entry.count + len(rows), rows[-1][0]

    _retrieve.__doc__ = rasa_retrieve.__doc__
    _additional_events.__doc__ = rasa_additional_events.__doc__
    save.__doc__ = rasa_save.__doc__
    SQLTrackerStore._retrieve = _retrieve  # type: ignore[assignment]
    SQLTrackerStore._additional_events = _additional_events  # type: ignore[assignment]
    SQLTrackerStore.save = save  # type: ignore[assignment]
    _applied.append("sql-tracker-cache")


# 7. Dialogue states: computed once per conversation turn, not again for the whole history ----------

STATES_CACHE_SIZE = 1500  # (conversation, arguments) pairs; about three per conversation


def _replay_safe_event_types() -> tuple:
    """Events whose `apply_to` only sets the replay tracker's state from the event itself. Any other
    event in the history (EntitiesAdded mutates the user message on every replay, reverts replay the
    tracker's own events, ...) sends the computation to Rasa's own code."""
    from rasa.shared.core import events as ev

    return (
        ev.ActionExecuted,
        ev.UserUttered,
        ev.BotUttered,
        ev.SlotSet,
        ev.DefinePrevUserUtteredFeaturization,
        ev.ActiveLoop,
        ev.LoopInterrupted,
        ev.FollowupAction,
        ev.ActionExecutionRejected,
        ev.ConversationPaused,
        ev.ConversationResumed,
        ev.AllSlotsReset,
    )


class StatesRun:
    """Rasa's `Domain.states_for_tracker_history` loop, stopped after the applied events seen so far so that
    it can go on with the next ones: the replay tracker, the states of the turns so far (without the final
    one, which depends on what comes next) and the loop's two variables."""

    __slots__ = (
        "domain",
        "slots",
        "events",
        "tracker",
        "states",
        "last_ml_action_sub_state",
        "turn_was_hidden",
        "flat",
        "user_at",
        "bot_at",
    )

    def __init__(self, domain: Any, slots: tuple, tracker: Any):
        self.domain, self.slots, self.tracker = domain, slots, tracker
        self.events: List[Any] = []
        self.states: List[Dict[str, Any]] = []
        self.last_ml_action_sub_state: Any = None
        self.turn_was_hidden = False
        self.flat = True  # all states so far pass immutable_values
        # positions in `events` of the user and bot events the replay tracker holds as latest_message and
        # latest_bot_utterance: going on with another tracker's events, it must hold that tracker's objects
        # (replaying DefinePrevUserUtteredFeaturization sets an attribute of the user event it holds)
        self.user_at: Optional[int] = None
        self.bot_at: Optional[int] = None

    def take_over(self, events: List[Any]) -> None:
        """Goes on with EVENTS (which begin with equal events, see same_events) instead of self.events."""
        if self.user_at is not None:
            self.tracker.latest_message = events[self.user_at]
        if self.bot_at is not None:
            self.tracker.latest_bot_utterance = events[self.bot_at]
        self.events = events

    def turn(
        self,
        tr: Any,
        hide_rule_turn: bool,
        omit_unset_slots: bool,
        ignore_rule_only_turns: bool,
        rule_only_data: Optional[Dict[str, Any]],
    ) -> None:
        """The body of Rasa's loop for one prior tracker (rasa/shared/core/domain.py, 3.6)."""
        import rasa.shared.core.constants

        domain = self.domain
        if ignore_rule_only_turns:
            if not self.turn_was_hidden:
                self.last_ml_action_sub_state = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return
        state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml_action_sub_state:
                state[rasa.shared.core.constants.PREVIOUS_ACTION] = self.last_ml_action_sub_state
        state = domain._clean_state(state)
        if self.flat and not immutable_values(state):
            self.flat = False
        self.states.append(state)


_STATES: "Dict[tuple, StatesRun]" = {}


# What makes an event what it is, for the events of _replay_safe_event_types (besides type and timestamp).
EVENT_FIELDS = {
    "UserUttered": ("text", "intent", "entities", "message_id"),
    "BotUttered": ("text", "data"),
    "ActionExecuted": ("action_name", "action_text", "policy", "hide_rule_turn"),
    "SlotSet": ("key", "value"),
    "DefinePrevUserUtteredFeaturization": ("use_text_for_featurization",),
    "ActiveLoop": ("name",),
    "LoopInterrupted": ("is_interrupted",),
    "FollowupAction": ("action_name",),
    "ActionExecutionRejected": ("action_name", "policy"),
}
_FIELDS_BY_TYPE: Dict[type, tuple] = {}


def _fields(cls: type) -> tuple:
    fields = _FIELDS_BY_TYPE.get(cls)
    if fields is None:
        fields = _FIELDS_BY_TYPE[cls] = EVENT_FIELDS.get(cls.__name__, ())
    return fields


def same_events(cached: List[Any], events: List[Any]) -> bool:
    """True when EVENTS begins with the events of CACHED: the same objects, or events of the same type with the
    same timestamp and the same EVENT_FIELDS (the events are read from the store anew for every message;
    Event.__eq__ is slower than the replay it would save). A UserUttered's `use_text_for_featurization` is
    not compared: the replay itself sets it (from the DefinePrevUserUtteredFeaturization event after it)."""
    if len(events) < len(cached):
        return False
    for old, new in zip(cached, events):
        if old is new:
            continue
        cls = type(old)
        if cls is not type(new) or old.timestamp != new.timestamp:
            return False
        a, b = old.__dict__, new.__dict__
        for name in _fields(cls):
            if a.get(name) != b.get(name):
                return False
    return True


_IMMUTABLE = (str, int, float, bool, type(None))


def immutable_values(state: Dict[str, Any]) -> bool:
    """True when every value in the state's sub-states is a string, number, None or a tuple of them."""
    for sub_state in state.values():
        if type(sub_state) is not dict:
            return False
        for value in sub_state.values():
            if isinstance(value, tuple):
                if not all(isinstance(item, _IMMUTABLE) for item in value):
                    return False
            elif not isinstance(value, _IMMUTABLE):
                return False
    return True


def copy_states(states: List[Dict[str, Any]], flat: bool = False) -> List[Dict[str, Any]]:
    """A copy of the states in which objects shared between states are shared again, as in the list Rasa
    builds; callers change the states they get (the last user input). FLAT: every state is a dict of
    sub-state dicts with immutable values (immutable_values), so two levels are copied; else dicts and
    lists at any depth."""
    memo: Dict[int, Any] = {}
    if flat:
        result = []
        for state in states:
            new = {}
            for name, sub_state in state.items():
                done = memo.get(id(sub_state))
                if done is None:
                    done = memo[id(sub_state)] = sub_state.copy()
                new[name] = done
            result.append(new)
        return result

    def copy(value: Any) -> Any:
        if isinstance(value, dict):
            done = memo.get(id(value))
            if done is None:
                done = memo[id(value)] = {k: copy(v) for k, v in value.items()}
            return done
        if isinstance(value, list):
            done = memo.get(id(value))
            if done is None:
                done = memo[id(value)] = [copy(v) for v in value]
            return done
        return value  # strings, numbers, tuples of them

    return [copy(state) for state in states]


def _patch_incremental_states() -> None:
    """The policies ask for the dialogue states of the whole conversation several times per prediction
    (MemoizationPolicy and RulePolicy, with different arguments), and Rasa computes them each time by
    replaying every applied event on a fresh tracker: this grew with the length of the conversation. The
    state of a turn depends only on the events before it, so here the computation of each (conversation,
    arguments) pair is kept (StatesRun: Rasa's loop, stopped after the events seen so far) and goes on with
    the new events only, when the tracker's applied events begin with the ones already replayed (same
    events, same timestamps), the domain and the slot definitions are the same, and every event is one whose
    replay depends on nothing but the event (_replay_safe_event_types). Otherwise, and for rule trackers or
    a maximum event history, Rasa's own method runs. The caller gets a copy of the states (see copy_states).
    On a Rasa upgrade: compare Domain.states_for_tracker_history and DialogueStateTracker.generate_all_prior_trackers
    and init_copy with StatesRun.turn and this function."""
    from collections import OrderedDict

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    global _STATES
    _STATES = OrderedDict()
    rasa_states = _keep_original(Domain, "states_for_tracker_history")
    safe = _replay_safe_event_types()

    def states_for_tracker_history(
        self: Domain,
        tracker: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: Optional[Dict[str, Any]] = None,
    ) -> List[Dict[str, Any]]:
        if getattr(tracker, "is_rule_tracker", False) or getattr(tracker, "_max_event_history", None) is not None:
            return rasa_states(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        events = tracker.applied_events()
        if any(type(event) not in safe for event in events):
            return rasa_states(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        slots = tuple(
            (name, type(slot), repr(slot.initial_value), slot.influence_conversation)
            for name, slot in tracker.slots.items()
        )
        key = (tracker.sender_id, id(self), omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
        run = _STATES.get(key)
        if run is None or run.domain is not self or run.slots != slots or not same_events(run.events, events):
            run = StatesRun(self, slots, tracker.init_copy())
        else:
            _STATES.move_to_end(key)
        args = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        done = len(run.events)
        run.take_over(events)
        for index in range(done, len(events)):
            event = events[index]
            if isinstance(event, ActionExecuted):
                run.turn(run.tracker, event.hide_rule_turn, *args)
            run.tracker.update(event)
            if isinstance(event, UserUttered):
                run.user_at = index
            elif isinstance(event, BotUttered):
                run.bot_at = index
        # the final turn (the tracker after all events), without keeping it in the run
        kept = (len(run.states), run.last_ml_action_sub_state, run.turn_was_hidden, run.flat)
        run.turn(run.tracker, False, *args)
        result = copy_states(run.states, run.flat)
        del run.states[kept[0] :]
        run.last_ml_action_sub_state, run.turn_was_hidden, run.flat = kept[1:]
        _STATES[key] = run
        while len(_STATES) > STATES_CACHE_SIZE:
            _STATES.popitem(last=False)
        return result

    states_for_tracker_history.__doc__ = rasa_states.__doc__
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[assignment]
    _applied.append("incremental-dialogue-states")


# 8. Garbage collector: the loaded model is not traversed again at every full collection ------------


def _patch_gc_freeze() -> None:
    """Python's cyclic garbage collector traverses every tracked object of the process at each full
    (generation 2) collection: with the loaded model (spaCy, TensorFlow, scikit-learn, the knowledge base)
    that took 100-300 ms of CPU, at a random message now and then (seen in the CPU per message of long
    conversations). After Rasa loads a model (`rasa.core.agent.load_agent`: at start and when a model is
    replaced through the HTTP API) the objects that exist then are collected once and moved to the
    permanent generation (`gc.freeze()`), which collections skip. Garbage is still freed by reference
    counting; only reference cycles among the frozen objects (a replaced model's) are not collected.
    On a Rasa upgrade: check that rasa/core/run.py still loads the model through `agent.load_agent`."""
    import gc

    from rasa.core import agent

    rasa_load_agent = agent.load_agent
    _originals["agent.load_agent (conversation patches)"] = rasa_load_agent

    async def load_agent(*args: Any, **kwargs: Any) -> Any:
        loaded = await rasa_load_agent(*args, **kwargs)
        gc.collect()
        gc.freeze()
        return loaded

    load_agent.__doc__ = rasa_load_agent.__doc__
    agent.load_agent = load_agent  # type: ignore[assignment]
    _applied.append("gc-freeze-after-load")


# 9. Applied events: the kind of each event from its class, looked up once per class ------------------

_APPEND, _RESET, _ACTION_REVERTED, _USER_REVERTED, _LOOP = range(5)
_EVENT_KINDS: Dict[type, int] = {}


def event_kind(cls: type) -> int:
    """What DialogueStateTracker.applied_events does with an event of class CLS, in the order it checks."""
    kind = _EVENT_KINDS.get(cls)
    if kind is None:
        from rasa.shared.core.events import ActionReverted, ActiveLoop, Restarted, SessionStarted, UserUtteranceReverted

        if issubclass(cls, (Restarted, SessionStarted)):
            kind = _RESET
        elif issubclass(cls, ActionReverted):
            kind = _ACTION_REVERTED
        elif issubclass(cls, UserUtteranceReverted):
            kind = _USER_REVERTED
        elif issubclass(cls, ActiveLoop):
            kind = _LOOP
        else:
            kind = _APPEND
        _EVENT_KINDS[cls] = kind
    return kind


def _patch_applied_events() -> None:
    """`DialogueStateTracker.applied_events` (the events without the undone ones) walks all events of the
    conversation with up to five `isinstance` checks against abstract (ABCMeta) event classes each, and
    it is called several times per prediction (dialogue states, session check, the action server's
    tracker): it grew with the conversation. Here the kind of an event is looked up by its class
    (event_kind: the same checks, as `issubclass`, once per class), and the same algorithm runs on it.
    A conversation with active loops (forms), whose loop-execution rule looks at the events around
    each one, goes to Rasa's own method. On a Rasa upgrade: compare applied_events in
    rasa/shared/core/trackers.py with this function."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_applied_events = DialogueStateTracker.applied_events
    _originals["DialogueStateTracker.applied_events (conversation patches)"] = rasa_applied_events

    def applied_events(self: DialogueStateTracker) -> List[Any]:
        events = self.events
        kinds = [_EVENT_KINDS.get(type(event)) for event in events]
        if None in kinds:
            kinds = [event_kind(type(event)) for event in events]
        if _LOOP in kinds:
            # loop_names is built from ActiveLoop events with a name; without them Rasa's loop branch never applies
            if any(event.name for event, kind in zip(events, kinds) if kind == _LOOP):
                return rasa_applied_events(self)
        applied: List[Any] = []
        for event, kind in zip(events, kinds):
            if kind == _RESET:
                applied = []
            elif kind == _ACTION_REVERTED:
                self._undo_till_previous(ActionExecuted, applied)
            elif kind == _USER_REVERTED:
                self._undo_till_previous(UserUttered, applied)
                self._undo_till_previous(ActionExecuted, applied)
            else:
                applied.append(event)
        return applied

    applied_events.__doc__ = rasa_applied_events.__doc__
    DialogueStateTracker.applied_events = applied_events  # type: ignore[assignment]
    _applied.append("applied-events-by-type")
