"""Rasa's REST channel (same name and path: POST /webhooks/rest/webhook) with every message passing
through channels/guard.py first: size limit, redaction of personal data, no silent failures."""
from __future__ import annotations

from typing import Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from channels.guard import guarded
from channels.rasa_app import RunningRasa


class GuardedRestInput(RestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        rasa = RunningRasa()
        blueprint = super().blueprint(guarded(on_new_message, rasa))
        rasa.attach(blueprint)
        return blueprint
