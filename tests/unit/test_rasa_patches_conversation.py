"""regelhulp/rasa_patches.py, the patches for long conversations (apply_all): the same trackers, the
same dialogue states and the same stored rows as Rasa, with less work per message."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any, Dict, List

import pytest
from rasa.shared.core import events as rasa_events
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from regelhulp import rasa_patches

CONVERSATION = [
    "sqlite-wal",
    "sql-tracker-cache",
    "incremental-dialogue-states",
    "applied-events-by-type",
    "gc-freeze-after-load",
]


@pytest.fixture
def patched():
    rasa_patches.revert()
    assert rasa_patches.apply_all() == rasa_patches.applied()
    assert rasa_patches.applied()[-5:] == CONVERSATION == list(rasa_patches.CONVERSATION_PATCHES)
    yield
    rasa_patches.revert()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load("domain.yml")


def run(coroutine: Any) -> Any:
    return asyncio.new_event_loop().run_until_complete(coroutine)


def user(
    text: str, intent: str, confidence: float = 0.9, entities: List[Dict[str, Any]] = ()
) -> rasa_events.UserUttered:
    parse = {
        "intent": {"name": intent, "confidence": confidence},
        "entities": list(entities),
        "text": text,
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }
    return rasa_events.UserUttered(text, parse["intent"], list(entities), parse)


def turn(tracker: DialogueStateTracker, text: str, intent: str, action: str, slots: Dict[str, Any] = None) -> None:
    """One message as Rasa logs it: user, slots, featurization, action, bot, listen."""
    tracker.update(user(text, intent))
    for name, value in (slots or {}).items():
        tracker.update(rasa_events.SlotSet(name, value))
    tracker.update(rasa_events.DefinePrevUserUtteredFeaturization(False))
    tracker.update(rasa_events.ActionExecuted(action, policy="RulePolicy", confidence=1.0))
    tracker.update(rasa_events.BotUttered("antwoord op " + text, {"buttons": []}, {"rule_id": "x"}))
    tracker.update(rasa_events.SlotSet("theme", "paid_work"))
    tracker.update(rasa_events.ActionExecuted("action_listen", policy="RulePolicy", confidence=1.0))


def new_tracker(domain: Domain, sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update(rasa_events.ActionExecuted("action_session_start"))
    tracker.update(rasa_events.SessionStarted())
    tracker.update(rasa_events.ActionExecuted("action_listen"))
    return tracker


def rasa_read(store: Any, sender: str, all_sessions: bool = False) -> Any:
    return run(rasa_patches.original("SQLTrackerStore._retrieve")(store, sender, all_sessions))


def dicts(tracker: Any) -> List[Dict[str, Any]]:
    return [event.as_dict() for event in tracker.events]


def test_sqlite_store_keeps_one_connection_with_a_write_ahead_log(patched, domain, tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore

    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    run(store.save(new_tracker(domain, "wal")))
    assert sqlite3.connect(str(tmp_path / "tracker.db")).execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert type(store.engine.pool).__name__ == "SingletonThreadPool"
    rasa_patches.revert()
    plain = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "plain.db"))
    assert type(plain.engine.pool).__name__ == "NullPool"  # Rasa's (SQLAlchemy 1.4's) own choice


def test_cached_reads_give_rasa_s_tracker_through_a_conversation(patched, domain, tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore

    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert run(store.retrieve("long")) is None
    tracker = new_tracker(domain, "long")
    run(store.save(tracker))
    for index in range(12):
        tracker = run(store.retrieve("long"))
        assert dicts(tracker) == dicts(rasa_read(store, "long"))
        assert "long" in rasa_patches.tracker_cache(store).entries
        turn(tracker, "vraag %d" % index, "ask_paid_work", "action_answer_rule", {"status": "asylum_seeker"})
        run(store.save(tracker))
        rows = (
            sqlite3.connect(str(tmp_path / "tracker.db"))
            .execute("SELECT count(*) FROM events WHERE sender_id = 'long'")
            .fetchone()[0]
        )
        assert rows == len(tracker.events) + 1  # each event stored once (+ action_session_start, before the session)
    final = run(store.retrieve("long"))
    assert dicts(final) == dicts(rasa_read(store, "long")) == dicts(tracker)
    assert final.current_slot_values() == rasa_read(store, "long").current_slot_values()


def test_writes_and_deletes_by_others_and_new_sessions_are_seen(patched, domain, tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore

    db = str(tmp_path / "tracker.db")
    store = SQLTrackerStore(domain, dialect="sqlite", db=db)
    other = SQLTrackerStore(domain, dialect="sqlite", db=db)  # another process or replica
    tracker = new_tracker(domain, "shared")
    turn(tracker, "hallo", "greet", "utter_greet")
    run(store.save(tracker))
    ours = run(store.retrieve("shared"))
    theirs = run(other.retrieve("shared"))
    turn(theirs, "en nu?", "ask_study", "action_answer_rule")
    run(other.save(theirs))
    assert dicts(run(store.retrieve("shared"))) == dicts(theirs) == dicts(rasa_read(store, "shared"))
    assert len(theirs.events) > len(ours.events)

    # a new session: Rasa's query starts at the new session_started
    tracker = run(store.retrieve("shared"))
    tracker.update(rasa_events.ActionExecuted("action_session_start"))
    tracker.update(rasa_events.SessionStarted())
    tracker.update(rasa_events.ActionExecuted("action_listen"))
    run(store.save(tracker))
    read = run(store.retrieve("shared"))
    assert dicts(read) == dicts(rasa_read(store, "shared"))
    assert [e["event"] for e in dicts(read)][:2] == ["session_started", "action"]
    assert dicts(run(store.retrieve_full_tracker("shared"))) == dicts(rasa_read(store, "shared", True))

    # purge deletes the conversation
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM events WHERE sender_id = 'shared'")
    assert run(store.retrieve("shared")) is None


def test_the_cache_forgets_the_least_recently_used_conversations(patched, domain, tmp_path, monkeypatch):
    from rasa.core.tracker_store import SQLTrackerStore

    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    rasa_patches.tracker_cache(store).size = 3
    for index in range(5):
        run(store.save(new_tracker(domain, "c%d" % index)))
        run(store.retrieve("c%d" % index))
    assert list(rasa_patches.tracker_cache(store).entries) == ["c2", "c3", "c4"]
    assert dicts(run(store.retrieve("c0"))) == dicts(rasa_read(store, "c0"))


def growing_trackers(domain: Domain, sender: str) -> List[DialogueStateTracker]:
    """The trackers Rasa's policies see during a conversation: after each event, read back anew
    (fresh event objects, as from the store), with a fallback that is undone on the way."""
    tracker = new_tracker(domain, sender)
    for index in range(6):
        turn(
            tracker,
            "vraag %d" % index,
            "ask_paid_work" if index % 2 else "inform_status",
            "action_answer_rule",
            {"status": "asylum_seeker"} if index == 1 else None,
        )
    tracker.update(user("???", "nlu_fallback", 0.3))
    tracker.update(rasa_events.ActionExecuted("action_default_fallback"))
    tracker.update(rasa_events.UserUtteranceReverted())  # Rasa's own code from here on
    tracker.update(rasa_events.ActionExecuted("action_listen"))
    turn(tracker, "dank", "thanks", "utter_thanks")
    serialised = dicts(tracker)
    return [DialogueStateTracker.from_dict(sender, serialised[:n], domain.slots) for n in range(1, len(serialised) + 1)]


ARGUMENTS = [
    (False, False, None),
    (False, True, {"slots": ["theme"], "loops": []}),
    (True, False, None),
    (False, True, {"slots": [], "loops": []}),
]


def test_dialogue_states_are_rasa_s_for_every_length_and_argument(patched, domain, monkeypatch):
    rasa_states = rasa_patches._originals["Domain.states_for_tracker_history (conversation patches)"]
    started: List[Any] = []

    class CountedRun(rasa_patches.StatesRun):
        def __init__(self, *args: Any) -> None:
            started.append(args)
            super().__init__(*args)

    monkeypatch.setattr(rasa_patches, "StatesRun", CountedRun)
    trackers = growing_trackers(domain, "states")
    for tracker in trackers[:40]:  # before the undone fallback: each new event goes on from the kept run
        for arguments in ARGUMENTS:
            assert domain.states_for_tracker_history(tracker, *arguments) == rasa_states(domain, tracker, *arguments)
    # one run per argument set from the first event, and one again at session_started (which empties the applied events)
    assert len(started) == 2 * len(ARGUMENTS)
    for tracker in trackers:
        for arguments in ARGUMENTS:
            ours = domain.states_for_tracker_history(tracker, *arguments)
            assert ours == rasa_states(domain, tracker, *arguments)
            # the same tracker asked again (as the policies do within one prediction)
            assert tracker.past_states(domain, *arguments) == ours
    assert any(key[0] == "states" for key in rasa_patches._STATES)


def test_dialogue_states_handed_out_are_copies(patched, domain):
    tracker = growing_trackers(domain, "copies")[-1]
    first = domain.states_for_tracker_history(tracker)
    expected = json.loads(json.dumps(first))
    first[-1].clear()
    first[-2].get("user", {}).clear()
    again = domain.states_for_tracker_history(tracker)
    assert json.loads(json.dumps(again)) == expected


def test_other_events_or_another_history_go_to_rasa_s_method(patched, domain):
    rasa_states = rasa_patches._originals["Domain.states_for_tracker_history (conversation patches)"]
    tracker = growing_trackers(domain, "other")[20]
    domain.states_for_tracker_history(tracker)
    # another history under the same conversation id (e.g. replaced through the HTTP API)
    changed = new_tracker(domain, "other")
    turn(changed, "iets anders", "ask_study", "action_answer_rule")
    assert domain.states_for_tracker_history(changed) == rasa_states(domain, changed)
    # an event whose replay is not safe to skip
    changed.update(rasa_events.EntitiesAdded([{"entity": "status", "value": "other"}]))
    changed.update(rasa_events.ActionExecuted("action_listen"))
    assert domain.states_for_tracker_history(changed) == rasa_states(domain, changed)


def test_revert_puts_rasa_s_functions_back(patched):
    from rasa.core.tracker_store import SQLTrackerStore

    patched_retrieve = SQLTrackerStore._retrieve
    rasa_patches.revert()
    assert SQLTrackerStore._retrieve is not patched_retrieve
    assert "tracker_store.py" in SQLTrackerStore.save.__code__.co_filename
    assert "domain.py" in Domain.states_for_tracker_history.__code__.co_filename
    assert "tracker_store.py" in SQLTrackerStore.__init__.__code__.co_filename
    assert rasa_patches.applied() == []


def test_the_model_is_frozen_for_the_garbage_collector_after_it_is_loaded(monkeypatch):
    import gc

    from rasa.core import agent

    frozen: List[int] = []

    async def rasa_load_agent(*args: Any, **kwargs: Any) -> str:
        assert frozen == []  # after the model is loaded
        return "agent %s" % kwargs["model_path"]

    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))
    monkeypatch.setattr(agent, "load_agent", rasa_load_agent)
    rasa_patches.revert()
    try:
        rasa_patches.apply_all()
        assert agent.load_agent is not rasa_load_agent
        assert run(agent.load_agent(model_path="m")) == "agent m"
        assert frozen == [1]
    finally:
        rasa_patches.revert()
    assert agent.load_agent is rasa_load_agent


def test_applied_events_are_rasa_s(patched, domain):
    rasa_applied = rasa_patches._originals["DialogueStateTracker.applied_events (conversation patches)"]
    trackers = growing_trackers(domain, "applied")
    with_loop = trackers[-1].copy()
    with_loop.update(rasa_events.ActiveLoop("some_form"))
    with_loop.update(rasa_events.ActionExecuted("some_form"))
    with_loop.update(rasa_events.ActiveLoop(None))
    without_name = trackers[-1].copy()
    without_name.update(rasa_events.ActiveLoop(None))
    reverted = trackers[-1].copy()
    reverted.update(rasa_events.ActionExecuted("utter_greet"))
    reverted.update(rasa_events.ActionReverted())
    reverted.update(rasa_events.Restarted())
    reverted.update(rasa_events.ActionExecuted("action_listen"))
    for tracker in trackers + [with_loop, without_name, reverted]:
        ours = tracker.applied_events()
        theirs = rasa_applied(tracker)
        assert len(ours) == len(theirs) and all(a is b for a, b in zip(ours, theirs))
    assert len(reverted.applied_events()) == 1
