"""Rasa's socket.io channel, speaking Rasa's socket.io protocol as the stock channel does, so that
any client of that protocol (our widget in web/, rasa-webchat, ...) can talk to Regelhulp:

- `bot_uttered` carries `text`, `quick_replies` (when the message has buttons) and, under
  `metadata`, everything else the widget needs: the answer's language (`lang`), `rule_id`,
  `status`, `state`, `checked`, `sources`, ... (rasa-webchat shows a message only when its keys are
  exactly `text` or `text` + `quick_replies` once `metadata` is taken out).
- Unlike the stock channel, each bot message goes out as ONE event with its buttons (the stock one
  splits a text at blank lines into several events), so an answer is one bubble and feedback can
  be attached to the rule it came from.
- A `user_uttered` event whose message is missing, empty or blank gets no reply (rasa-webchat sends
  one when it opens, without a message); see channels/guard.py. A client that sends its data as
  `customData` (rasa-webchat) instead of `metadata` has it read as the message metadata.

Every message passes through channels/guard.py first (size limit, redaction, no silent failure).
The stock channel also never joins the browser to its session's room with the python-socketio 5
that Rasa 3.6 installs (`enter_room` became a coroutine there and Rasa does not await it), so with
session persistence no answer would reach the browser; `session_request` is handled here instead.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Dict, Optional, Text

import rasa.core.channels.socketio as stock
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from channels.guard import guarded
from channels.rasa_app import RunningRasa

logger = logging.getLogger(__name__)

# the keys of a bot message passed on to the client under `metadata`
PASSED_ON = (
    "lang",
    "rule_id",
    "facet_id",
    "part",
    "status",
    "statuses",
    "state",
    "checked",
    "sources",
    "asks",
    "options",
    "refusal",
    "other_language",
    "handoff",
    "custom",
    "image",
    "attachment",
)


def bot_uttered(message: Dict[Text, Any]) -> Dict[Text, Any]:
    """The `bot_uttered` payload for one bot message: text, quick replies, metadata."""
    payload: Dict[Text, Any] = {"text": message.get("text") or ""}
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if buttons:
        payload["quick_replies"] = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
    # a domain response carries its language in `metadata: {lang: ...}` (domain.yml)
    nested = message["metadata"] if isinstance(message.get("metadata"), dict) else {}
    values = dict(message, lang=message.get("lang") or nested.get("lang"))
    metadata = {key: values[key] for key in PASSED_ON if values.get(key) not in (None, [], {})}
    if metadata:
        payload["metadata"] = metadata
    return payload


class WholeMessageSocketIOOutput(SocketIOOutput):
    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await self._send_message(recipient_id, bot_uttered(message))


def user_uttered_data(data: Any, metadata_key: Text = "metadata") -> Optional[Dict[Text, Any]]:
    """The `user_uttered` data as the stock handler expects it, or None for data that is not an
    object; a message that is not a string is left out. rasa-webchat sends its `customData` next to the message; it is used as the metadata
    when there is none (its `language` as the conversation's `lang`)."""
    if not isinstance(data, dict):
        return None
    if "message" in data and not isinstance(data["message"], str):
        data = {k: v for k, v in data.items() if k != "message"}  # no text: no reply (channels/guard.py)
    if metadata_key not in data and isinstance(data.get("customData"), dict):
        custom = dict(data["customData"])
        if "lang" not in custom and isinstance(custom.get("language"), str):
            custom["lang"] = custom["language"][:2].lower()  # rasa-webchat's usual {"language": "en"}
        data = dict(data, **{metadata_key: custom})
    return data


class WidgetSocketIOInput(SocketIOInput):
    """Same settings, path and events as `socketio`; only the output differs."""

    def get_output_channel(self) -> Optional[WholeMessageSocketIOOutput]:
        output = super().get_output_channel()
        return WholeMessageSocketIOOutput(output.sio, self.bot_message_evt) if output else None

    def blueprint(self, on_new_message):  # type: ignore[no-untyped-def]
        # The stock handler builds its output channel from the module-level name; point that
        # name at our class for this process (the only socket.io channel it runs).
        stock.SocketIOOutput = WholeMessageSocketIOOutput
        rasa = RunningRasa()
        webhook = super().blueprint(guarded(on_new_message, rasa))
        rasa.attach(webhook)
        sio = self.sio
        namespace = self.namespace or "/"
        stock_handle_message = sio.handlers[namespace][self.user_message_evt]

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            data = user_uttered_data(data, self.metadata_key or "metadata")
            if data is None:
                logger.debug("user_uttered from %s without an object: ignored", sid)
                return
            await stock_handle_message(sid, data)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = (data if isinstance(data, dict) else {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return webhook
