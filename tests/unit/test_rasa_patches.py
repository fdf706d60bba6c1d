"""regelhulp/rasa_patches.py: the patches change how much work Rasa does, never what it does."""

from __future__ import annotations

import asyncio
import datetime
import gc
import inspect
import json
from typing import Any, Dict, List

import jsonschema
import jsonschema.validators
import pytest
from conftest import BASE_PATCHES
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as rasa_events
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

from regelhulp import rasa_patches
from regelhulp.rasa_server import BANNER


@pytest.fixture
def patched():
    """The patches applied in this test process, and Rasa's own functions back afterwards."""
    rasa_patches.revert()
    assert rasa_patches.apply() == BASE_PATCHES
    yield
    rasa_patches.revert()


def sample_events() -> List[Dict[str, Any]]:
    """One serialised event of many kinds, as an action server sends them."""
    return [
        rasa_events.SlotSet("status", "asylum_seeker").as_dict(),
        rasa_events.SlotSet("language", None).as_dict(),
        rasa_events.ActiveLoop(None).as_dict(),
        rasa_events.FollowupAction("action_listen").as_dict(),
        rasa_events.BotUttered("hallo", {"buttons": []}).as_dict(),
        rasa_events.UserUtteranceReverted().as_dict(),
        rasa_events.ActionReverted().as_dict(),
        rasa_events.Restarted().as_dict(),
        rasa_events.AllSlotsReset().as_dict(),
        rasa_events.ConversationPaused().as_dict(),
        rasa_events.ConversationResumed().as_dict(),
        rasa_events.SessionStarted().as_dict(),
        rasa_events.ReminderScheduled("EXTERNAL_x", datetime.datetime(2030, 1, 1)).as_dict(),
    ]


VALID_RESULTS = [
    {},
    {"events": [], "responses": []},
    {"events": sample_events(), "responses": [{"text": "Ja.", "buttons": [{"title": "a", "payload": "/b"}]}]},
    {"responses": [{"response": "utter_greet"}]},
]

INVALID_RESULTS = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},  # a slot event without a name
    {"events": [{"event": "slot", "name": 3, "value": "x"}]},
    {"responses": ["not an object"]},
    {"responses": {"text": "not a list"}},
    {"events": [rasa_events.SlotSet("a", 1).as_dict(), {"event": "slot", "name": "b", "timestamp": "today"}]},
    {"events": [{"event": "user", "text": ["not", "a", "string"]}]},
]


def test_valid_action_results_pass_without_jsonschema_validate_and_one_validator_is_built(patched, monkeypatch):
    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    check_schema = validator_class.check_schema
    checks: List[Any] = []
    validate_calls: List[Any] = []
    validate = jsonschema.validate

    def counting_check_schema(cls, schema, *args, **kwargs):  # once per validator built (jsonschema.validate: per call)
        checks.append(schema)
        return check_schema(schema, *args, **kwargs)

    def counting_validate(*args, **kwargs):
        validate_calls.append(args)
        return validate(*args, **kwargs)

    monkeypatch.setattr(validator_class, "check_schema", classmethod(counting_check_schema))
    monkeypatch.setattr(jsonschema, "validate", counting_validate)
    rasa_patches._validators.clear()
    action = RemoteAction("action_answer", None)
    for _ in range(5):
        for result in VALID_RESULTS:
            assert action._validate_action_result(result) is True
    assert checks == [schema]
    assert validate_calls == []
    assert len(rasa_patches._validators) == 1

    # the counters do count: Rasa's own method checks the schema and calls validate every time
    rasa_validate = rasa_patches.original("RemoteAction._validate_action_result")
    rasa_validate(action, VALID_RESULTS[1])
    rasa_validate(action, VALID_RESULTS[1])
    assert len(checks) == 3 and len(validate_calls) == 2


@pytest.mark.parametrize("result", VALID_RESULTS + INVALID_RESULTS, ids=lambda r: json.dumps(r)[:40])
def test_same_verdict_and_same_error_as_rasa(patched, result):
    action = RemoteAction("action_answer", None)
    rasa_validate = rasa_patches.original("RemoteAction._validate_action_result")
    outcomes = []
    for validate in (rasa_validate, type(action)._validate_action_result):
        try:
            outcomes.append(("ok", validate(action, result)))
        except Exception as error:  # the comparison below checks type and content
            outcomes.append((type(error), error.message, list(error.path), error.validator))
    assert outcomes[0] == outcomes[1]
    if result in INVALID_RESULTS:
        assert outcomes[1][0] is jsonschema.ValidationError
        assert "Failed to validate Action server response from API" in outcomes[1][1]


def test_invalid_result_is_rejected_on_every_call(patched):
    action = RemoteAction("action_answer", None)
    for _ in range(3):
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result({"events": [{"event": "slot"}]})


def test_a_subclass_with_its_own_schema_gets_its_own_validator(patched):
    class StrictAction(RemoteAction):
        @staticmethod
        def action_response_format_spec() -> Dict[str, Any]:
            return {"type": "object", "required": ["events"]}

    assert RemoteAction("a", None)._validate_action_result({}) is True
    with pytest.raises(jsonschema.ValidationError):
        StrictAction("b", None)._validate_action_result({})


def all_type_names() -> List[str]:
    return sorted({cls.type_name for cls in all_subclasses(Event)})


def test_event_lookup_gives_rasa_s_class_for_every_event_type(patched):
    rasa_resolve = rasa_patches.original("Event.resolve_by_type")
    names = all_type_names()
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is rasa_resolve(name), name
        assert Event.resolve_by_type(name, rasa_events.SlotSet) is rasa_resolve(name, rasa_events.SlotSet), name


def test_event_lookup_keeps_rasa_s_answers_for_unknown_names(patched):
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", rasa_events.SlotSet) is rasa_events.SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_events_deserialise_to_the_same_objects(patched):
    serialised = sample_events() + [
        rasa_events.UserUttered("hoi", {"name": "greet", "confidence": 1.0}).as_dict(),
        rasa_events.ActionExecuted("action_listen").as_dict(),
    ]
    with_dict = rasa_events.deserialise_events(serialised)
    rasa_patches.revert()
    assert rasa_events.deserialise_events(serialised) == with_dict
    assert [type(e) for e in with_dict] == [type(e) for e in rasa_events.deserialise_events(serialised)]


def test_event_class_defined_after_the_first_lookup_is_found_as_rasa_would(patched):
    rasa_resolve = rasa_patches.original("Event.resolve_by_type")
    assert Event.resolve_by_type("slot") is rasa_events.SlotSet  # the dict is built now

    class LateEvent(Event):
        type_name = "regelhulp_test_late"

        def __eq__(self, other: Any) -> bool:
            return isinstance(other, type(self))

        def as_story_string(self) -> None:
            return None

    class ShadowSlot(Event):  # same name as SlotSet: Rasa's lookup still finds SlotSet first
        type_name = "slot"

        def __eq__(self, other: Any) -> bool:
            return isinstance(other, type(self))

        def as_story_string(self) -> None:
            return None

    try:
        assert Event.resolve_by_type("regelhulp_test_late") is LateEvent
        assert Event.resolve_by_type("slot") is rasa_resolve("slot") is rasa_events.SlotSet
    finally:
        del LateEvent, ShadowSlot
        gc.collect()
        rasa_patches._forget_event_classes()


def two_session_tracker(domain, sender: str):
    tracker = DialogueStateTracker(sender, domain.slots)
    for session in range(2):
        tracker.update(rasa_events.ActionExecuted("action_session_start"))
        tracker.update(rasa_events.SessionStarted())
        tracker.update(rasa_events.ActionExecuted("action_listen"))
        for turn in range(3):
            parse = {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "text": "hoi %d" % turn}
            tracker.update(rasa_events.UserUttered("hoi %d" % turn, parse["intent"], [], parse))
            tracker.update(rasa_events.SlotSet("status", "asylum_seeker" if turn else None))
            tracker.update(rasa_events.ActionExecuted("utter_greet"))
            tracker.update(
                rasa_events.BotUttered("Hallo %d.%d" % (session, turn), {"buttons": [{"title": "a", "payload": "/b"}]})
            )
            tracker.update(rasa_events.ActionExecuted("action_listen"))
    return tracker


def test_sql_tracker_read_gives_the_same_trackers(patched, tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    domain = Domain.load("domain.yml")
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    stored = two_session_tracker(domain, "p10-sql")
    asyncio.run(store.save(stored))
    rasa_retrieve = rasa_patches.original("SQLTrackerStore._retrieve")

    for all_sessions in (False, True):
        ours = asyncio.run(store._retrieve("p10-sql", all_sessions))
        theirs = asyncio.run(rasa_retrieve(store, "p10-sql", all_sessions))
        assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]
        assert ours.current_slot_values() == theirs.current_slot_values()
        last_session = max(i for i, e in enumerate(stored.events) if isinstance(e, rasa_events.SessionStarted))
        assert len(ours.events) == len(stored.events) - (0 if all_sessions else last_session)
    assert asyncio.run(store.retrieve("nobody")) is None
    assert asyncio.run(store.retrieve_full_tracker("p10-sql")).events == stored.events


def test_debug_log_values_are_copied_only_for_an_anonymisation_pipeline(patched, monkeypatch):
    from rasa.core import processor
    from rasa.core.policies import memoization, rule_policy

    states = [{"user": {"intent": "greet"}}, {"prev_action": {"action_name": "action_listen"}}]
    for module in (rule_policy, memoization, processor):
        assert module.copy.deepcopy(states) is states  # Rasa Open Source: no pipeline rewrites the log values
        assert module.copy.copy is __import__("copy").copy
    monkeypatch.setattr(rasa_patches, "anonymization_pipeline", lambda: object())
    copied = rule_policy.copy.deepcopy(states)
    assert copied == states and copied is not states and copied[0]["user"] is not states[0]["user"]
    rasa_patches.revert()
    assert rule_policy.copy is memoization.copy is processor.copy is __import__("copy")


def test_only_debug_log_copies_qualify():
    debug_only = "import copy\ndef f(x):\n    structlogger.debug('e', value=copy.deepcopy(x))\n    return x\n"
    assert rasa_patches.copies_only_for_debug_logs(debug_only)
    assert not rasa_patches.copies_only_for_debug_logs(debug_only + "def g(x):\n    return copy.deepcopy(x)\n")
    assert not rasa_patches.copies_only_for_debug_logs(debug_only + "def g(x):\n    return copy.copy(x)\n")
    assert not rasa_patches.copies_only_for_debug_logs(debug_only + "clone = copy\n")
    assert not rasa_patches.copies_only_for_debug_logs("import copy\nstructlogger.info('e', v=copy.deepcopy(1))\n")
    assert not rasa_patches.copies_only_for_debug_logs("x = 1\n")


def test_switched_off_applies_nothing(monkeypatch):
    rasa_patches.revert()
    monkeypatch.setenv(rasa_patches.SWITCH, "0")
    assert rasa_patches.apply() == []
    assert "jsonschema import validate" in inspect.getsource(RemoteAction._validate_action_result)  # Rasa's own


def test_refuses_another_rasa_version(monkeypatch):
    import rasa

    rasa_patches.revert()
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(rasa_patches.UnsupportedRasaVersion, match="3.7.0"):
        rasa_patches.apply()
    assert rasa_patches.applied() == []


@pytest.mark.parametrize(
    "switch, expected", [("1", BANNER + ", ".join(BASE_PATCHES)), ("0", "Rasa patches switched off")]
)
def test_server_entry_applies_the_patches_then_runs_rasa_s_command_line(switch, expected):
    import os
    import subprocess
    import sys

    env = dict(os.environ, **{rasa_patches.SWITCH: switch, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"})
    done = subprocess.run(
        [sys.executable, "-m", "regelhulp.rasa_server", "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stderr
    assert "Rasa Version" in done.stdout and "3.6." in done.stdout
