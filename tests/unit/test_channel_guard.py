"""Redaction of personal data (channels/privacy.py) and the channel guard (channels/guard.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import UserUttered

from channels.guard import REDACTED_KEY, guarded, load_phrases
from channels.privacy import passes_eleven_test, redact, valid_iban

TODAY = dt.date(2026, 11, 22)


# Messages with personal data: the kind found, then the message with that data between « and ».
PERSONAL_DATA = """
bsn        | mijn bsn is «111222333»
bsn        | BSN «1112.22.333» graag
email      | mail «jan.de.vries@example.nl» even
phone      | bel «06-12345678»
phone      | of «+31 6 1234 5678»
phone      | kantoor «020 123 4567»
iban       | IBAN «NL91 ABNA 0417 1643 00» graag
iban       | «nl91abna0417164300»
birth_date | ik ben geboren op «12-03-1990»
birth_date | geboortedatum: «3 mei 1988»
birth_date | zoon, geb. «04/07/2015», mag hij werken?
birth_date | hij is van «14-02-1975»
"""


def personal_data_cases():  # type: ignore[no-untyped-def]
    for line in PERSONAL_DATA.strip().splitlines():
        kind, marked = (part.strip() for part in line.split("|", 1))
        text = marked.replace("«", "").replace("»", "")
        expected = marked.split("«")[0] + "[weggelaten]" + marked.split("»")[1]
        yield pytest.param(text, expected, (kind,), id=text)


@pytest.mark.parametrize("text, expected, kinds", personal_data_cases())
def test_personal_data_is_replaced(text, expected, kinds):
    assert redact(text, TODAY) == (expected, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "sinds 29 november 2023 geldt de 24-wekeneis niet meer",
        "vanaf 01-01-2026 verandert de bijstand",
        "de boete is 11250 euro per werknemer",
        "kosten 2.250 tot 11.250",
        "bsn 123456789 is geen geldig nummer",  # fails the 11-test
        "NL91ABNA0417164301",  # wrong IBAN check digits
        "bel de Arbeidsinspectie op 0800-5151",
        "Mag een asielzoeker na 6 maanden werken?",
    ],
)
def test_rule_language_and_invalid_numbers_stay(text):
    assert redact(text, TODAY) == (text, ())


def test_checks():
    assert passes_eleven_test("111222333") and not passes_eleven_test("111222334")
    assert not passes_eleven_test("000000000")
    assert valid_iban("NL91 ABNA 0417 1643 00") and not valid_iban("NL91 ABNA 0417 1643 01")


def with_check_digits(country: str, account: str) -> str:
    """An IBAN-shaped string whose mod-97 check digits are right, whatever the country's format."""
    number = int("".join(str(int(c, 36)) for c in account + country + "00"))
    return "%s%02d%s" % (country, 98 - number % 97, account)


def test_iban_must_fit_its_country():
    assert valid_iban("DE89 3704 0044 0532 0130 00") and valid_iban("BE71 0961 2345 6769")
    assert valid_iban(with_check_digits("NL", "ABNA0417164300"))  # the helper makes real ones too
    wrong_length = with_check_digits("NL", "ABNA041716430")  # 17 characters: an NL IBAN has 18
    belgian_in_nl = with_check_digits("NL", "096123456769")  # a Belgian account number with NL in front
    digits_as_bank = with_check_digits("NL", "12340417164300")  # the bank code must be 4 letters
    unknown_country = with_check_digits("XX", "ABNA0417164300")
    for candidate in (wrong_length, belgian_in_nl, digits_as_bank, unknown_country):
        assert not valid_iban(candidate), candidate
        assert redact("rekening %s graag" % candidate, TODAY).kinds == (), candidate
    assert redact("rekening DE89370400440532013000", TODAY) == ("rekening [weggelaten]", ("iban",))


class FakeTrackerStore:
    def __init__(self):
        self.events = {}

    async def retrieve(self, sender):
        return SimpleNamespace(events=self.events.get(sender, []))


def run_guarded(text, processing, store=None, sender="s1"):
    """Sends TEXT through the guard; PROCESSING(message) plays Rasa. Returns (texts sent, message seen)."""
    seen = {}

    async def on_new_message(message):
        seen["message"] = message
        await processing(message)
        if store is not None:
            store.events.setdefault(sender, []).append(UserUttered(message.text, metadata=message.metadata))

    class Rasa:  # stands in for channels.rasa_app.RunningRasa
        def refuse_silent_fallback(self):
            pass

        async def tracker(self, sender_id):
            return await store.retrieve(sender_id) if store else None

    output = CollectingOutputChannel()
    asyncio.run(guarded(on_new_message, Rasa())(UserMessage(text, output, sender)))
    return [m["text"] for m in output.messages], seen.get("message")


async def answers(message):
    await message.output_channel.send_response(message.sender_id, {"text": "antwoord"})


def test_redacted_before_rasa_and_warned_once_per_conversation():
    store = FakeTrackerStore()
    texts, message = run_guarded("mijn BSN is 111222333, mag ik werken?", answers, store)
    assert message.text == "mijn BSN is [weggelaten], mag ik werken?"
    assert message.metadata[REDACTED_KEY] == ["bsn"]
    warning = load_phrases()["channel_personal_data"]
    assert texts == [warning, "antwoord"]
    texts, _ = run_guarded("en mijn telefoon is 06-12345678", answers, store)
    assert texts == ["antwoord"]  # warned already in this conversation
    texts, _ = run_guarded("bel 06-12345678", answers, store, sender="s2")
    assert texts[0] == warning


def test_too_long_message_is_not_processed(monkeypatch):
    monkeypatch.setenv("REGELHULP_MAX_MESSAGE_CHARS", "50")
    texts, message = run_guarded("x" * 51, answers)
    assert message is None
    assert texts == [load_phrases()["channel_too_long"]]


@pytest.mark.parametrize("failure", ["silent", "raises"])
def test_failures_get_the_unavailable_answer(failure):
    async def broken(message):
        if failure == "raises":
            raise ConnectionError("tracker store down")

    texts, _ = run_guarded("mag een asielzoeker werken?", broken)
    assert texts == [load_phrases()["channel_unavailable"]]


def test_feedback_buttons_may_stay_silent():
    async def silent(message):
        pass

    texts, _ = run_guarded('/feedback{"feedback_value": "up", "feedback_rule": "paid_work"}', silent)
    assert texts == []


@pytest.mark.parametrize(
    "text, metadata, language",
    [
        ("can an asylum seeker work for us? " + "x" * 60, None, "en"),
        ("mag een asielzoeker bij ons werken? " + "x" * 60, {"lang": "en"}, "nl"),  # the text decides
        ("x" * 60, {"lang": "en"}, "en"),  # no language of its own: the conversation's (from the widget)
        ("x" * 60, None, "nl"),
        ("x" * 60, {"lang": "fr"}, "nl"),  # a language the knowledge base does not have
        ('/request_human{"x": "' + "y" * 60 + '"}', {"lang": "nl"}, "nl"),  # a payload: the conversation's
    ],
)
def test_channel_texts_in_the_language_of_the_message(monkeypatch, text, metadata, language):
    monkeypatch.setenv("REGELHULP_MAX_MESSAGE_CHARS", "50")
    sent = []

    class Recording(CollectingOutputChannel):
        async def send_response(self, recipient_id, message):
            sent.append(message)

    asyncio.run(guarded(answers)(UserMessage(text, Recording(), "s1", metadata=metadata)))
    assert sent == [{"text": load_phrases(language=language)["channel_too_long"], "lang": language}]


def test_missing_channel_phrase_is_a_clear_error(tmp_path):
    broken = tmp_path / "phrases.yml"
    broken.write_text("phrases:\n  channel_too_long: te lang\n")
    with pytest.raises(RuntimeError, match="channel_personal_data"):
        load_phrases(tmp_path)


def test_tracker_store_errors_are_not_hidden_by_rasas_fail_safe_wrapper():
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    from channels.rasa_app import RunningRasa, TrackerStoreUnavailable

    class DownStore(InMemoryTrackerStore):
        async def retrieve(self, sender_id):
            raise ConnectionError("database down")

    rasa = RunningRasa()
    rasa.app = SimpleNamespace(
        ctx=SimpleNamespace(agent=SimpleNamespace(tracker_store=FailSafeTrackerStore(DownStore(Domain.empty()))))
    )
    assert asyncio.run(rasa.tracker("s1")) is None  # Rasa's default: silently a new, empty conversation
    rasa.refuse_silent_fallback()
    with pytest.raises(TrackerStoreUnavailable, match="database down"):
        asyncio.run(rasa.tracker("s1"))
