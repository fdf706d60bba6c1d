"""What every message passes through before Rasa sees it, in both channels (REST and widget):

0. A message that is missing, empty or only whitespace is not processed and gets no reply at all
   (no rule answer, no refusal): rasa-webchat sends one when it opens. Over REST, the webhook
   answers such a message with an empty list (channels/rest.py answers a body without `message`
   with HTTP 400).
1. A message longer than REGELHULP_MAX_MESSAGE_CHARS (default 10,000) gets a polite answer and is
   not processed, so it is never parsed or stored.
2. Personal data (channels/privacy.py) is replaced by placeholders before parsing and storage; the
   kinds removed are kept in the message metadata, and the first time in a conversation the user
   is told that it was removed.
3. When processing fails (tracker store down) or produces no answer at all (action server down),
   the user gets "temporarily unavailable" with the helpdesk contact instead of silence
   (except for the feedback buttons, which are stored without a reply).

The texts live in knowledge/phrases.yml and phrases_en.yml (`channel_*`). They are said in the
language of the message (regelhulp/language.py), else in the language the widget sends as
`metadata.lang` (the conversation's), else in Dutch.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage

from channels.privacy import redact
from regelhulp import knowledge
from regelhulp.language import detect_language

logger = logging.getLogger(__name__)

REDACTED_KEY = "regelhulp_redacted"
PHRASE_KEYS = ("channel_too_long", "channel_personal_data", "channel_unavailable")
SILENT_PAYLOADS = ("/feedback",)  # the widget's 👍/👎 buttons are stored without a reply

Handler = Callable[[UserMessage], Awaitable[Any]]


def load_phrases(directory: Optional[Path] = None, language: str = knowledge.DEFAULT_LANGUAGE) -> Dict[str, str]:
    """The channel's texts in one language; a missing or malformed file stops the server with a
    clear message."""
    try:
        phrases = knowledge.load_phrases(directory, language)
    except knowledge.KnowledgeError as error:
        raise RuntimeError("cannot read the channel phrases: %s" % error) from error
    missing = [key for key in PHRASE_KEYS if not isinstance(phrases.get(key), str)]
    if missing:
        raise RuntimeError("%s: phrases missing: %s" % (knowledge.phrases_file(language), ", ".join(missing)))
    return {key: str(phrases[key]) for key in PHRASE_KEYS}


def load_all_phrases(directory: Optional[Path] = None) -> Dict[str, Dict[str, str]]:
    """{language: the channel's texts} for every language of the knowledge base."""
    return {language: load_phrases(directory, language) for language in knowledge.LANGUAGES}


def reply_language(message: UserMessage) -> str:
    """The language of the message itself, else the one the widget says the conversation has."""
    said = (message.metadata or {}).get("lang")
    fallback = said if said in knowledge.LANGUAGES else knowledge.DEFAULT_LANGUAGE
    text = message.text or ""
    if text.startswith("/"):  # a button's payload has no language of its own
        return fallback
    return detect_language(text[:2000]) or fallback


def is_empty(text: Any) -> bool:
    """True for a message without text: missing, not a string, empty or only whitespace."""
    return not isinstance(text, str) or not text.strip()


def max_message_chars() -> int:
    return int(os.environ.get("REGELHULP_MAX_MESSAGE_CHARS", "10000"))


async def _already_warned(rasa: Optional[Any], sender_id: str) -> bool:
    """True when an earlier message of this conversation had personal data removed."""
    if rasa is None:
        return False
    try:
        tracker = await rasa.tracker(sender_id)
    except Exception:  # the warning is not worth failing the message for
        return False
    events = tracker.events if tracker is not None else []
    return any(getattr(e, "type_name", "") == "user" and REDACTED_KEY in (e.metadata or {}) for e in events)


def guarded(
    on_new_message: Handler, rasa: Optional[Any] = None, all_phrases: Optional[Dict[str, Dict[str, str]]] = None
) -> Handler:
    """RASA (channels.rasa_app.RunningRasa) gives access to the tracker store."""
    all_phrases = all_phrases or load_all_phrases()
    limit = max_message_chars()

    async def handle(message: UserMessage) -> None:
        if is_empty(message.text):
            logger.debug("empty message from %s not processed", message.sender_id)
            return
        if rasa is not None:
            rasa.refuse_silent_fallback()
        output = message.output_channel
        sender = message.sender_id
        text = message.text or ""
        lang = reply_language(message)
        phrases = all_phrases[lang]
        if len(text) > limit:
            logger.info("message of %d characters from %s not processed (limit %d)", len(text), sender, limit)
            await output.send_response(sender, {"text": phrases["channel_too_long"], "lang": lang})
            return
        redaction = redact(text)
        if redaction.kinds:
            warned = await _already_warned(rasa, sender)
            message.text = redaction.text
            message.metadata = dict(message.metadata or {}, **{REDACTED_KEY: list(redaction.kinds)})
            if not warned:
                await output.send_response(sender, {"text": phrases["channel_personal_data"], "lang": lang})

        answered = []
        send = output.send_response

        async def counting_send(recipient_id: str, response: Dict[str, Any]) -> None:
            answered.append(True)
            await send(recipient_id, response)

        output.send_response = counting_send  # this output channel object lives for this message only
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("processing a message from %s failed", sender)
        finally:
            output.send_response = send
        if not answered and not text.startswith(SILENT_PAYLOADS):
            logger.error("no answer for a message from %s (action server or tracker store down?)", sender)
            await output.send_response(sender, {"text": phrases["channel_unavailable"], "lang": lang})

    return handle
