"""Rasa's socket.io channel, but each bot message goes out as ONE event with its buttons and the
answer's metadata (its language, rule_id, status, checked date, sources), so the widget can show an answer as
one bubble and attach feedback to the rule it came from.

Every message passes through channels/guard.py first (size limit, redaction, no silent failure).
The stock channel splits a text at blank lines into several events and drops the metadata.
It also never joins the browser to its session's room with the python-socketio 5 that Rasa 3.6
installs (`enter_room` became a coroutine there and Rasa does not await it), so with session
persistence no answer would reach the browser; `session_request` is handled here instead.
"""
from __future__ import annotations

import inspect
import uuid
from typing import Any, Dict, Optional, Text

import rasa.core.channels.socketio as stock
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from channels.guard import guarded
from channels.rasa_app import RunningRasa

PASSED_ON = ("lang", "rule_id", "status", "state", "checked", "sources", "asks", "handoff", "custom", "image", "attachment")


class WholeMessageSocketIOOutput(SocketIOOutput):
    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        payload: Dict[Text, Any] = {"text": message.get("text") or ""}
        # a domain response carries its language in `metadata: {lang: ...}` (domain.yml)
        nested = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
        message = dict(message, lang=message.get("lang") or nested.get("lang"))
        buttons = message.get("buttons") or message.get("quick_replies") or []
        if buttons:
            payload["quick_replies"] = [
                {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
            ]
        payload.update({k: message[k] for k in PASSED_ON if message.get(k) not in (None, [], {})})
        await self._send_message(recipient_id, payload)


class WidgetSocketIOInput(SocketIOInput):
    """Same settings, path and events as `socketio`; only the output differs."""

    def get_output_channel(self) -> WholeMessageSocketIOOutput:
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

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = (data or {}).get("session_id") or uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return webhook
