"""Rasa's REST channel (same name and path: POST /webhooks/rest/webhook) with every message passing
through channels/guard.py first: size limit, redaction of personal data, no silent failures.

A request whose body is not a JSON object with a string `message` is refused with HTTP 400 and a
JSON error (Rasa itself would try to process it and, failing, the guard would say the service is
unavailable). An empty or blank `message` is accepted and answered with an empty list."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.guard import guarded
from channels.rasa_app import RunningRasa

MISSING_MESSAGE = (
    'The request body must be a JSON object with the user\'s text as a string in "message", '
    'e.g. {"sender": "a-conversation-id", "message": "Mag een asielzoeker werken?"}.'
)


def bad_request(body: Any) -> Optional[str]:
    """Why a webhook request body cannot be processed, or None when it can."""
    if not isinstance(body, dict):
        return MISSING_MESSAGE
    if not isinstance(body.get("message"), str):
        return MISSING_MESSAGE
    return None


def error_response(reason: str) -> HTTPResponse:
    return response.json({"status": "failure", "code": 400, "reason": "BadRequest", "message": reason}, status=400)


class GuardedRestInput(RestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        rasa = RunningRasa()
        blueprint = super().blueprint(guarded(on_new_message, rasa))
        rasa.attach(blueprint)

        @blueprint.middleware("request")
        async def require_message(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            try:
                body = request.json
            except Exception:  # not JSON at all (Sanic raises on parsing)
                return error_response(MISSING_MESSAGE)
            problem = bad_request(body)
            return error_response(problem) if problem else None

        return blueprint
