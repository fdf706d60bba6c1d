"""NLU components that keep over-long messages from costing the pipeline and the user.

`MessageLengthGuard` (first in the pipeline) cuts a message longer than `max_characters`
down before spaCy and the intent classifier see it and marks it; `LongMessageFallback` (last) turns a marked
message into `nlu_fallback`, so the user gets the polite "please ask it shorter" answer
instead of a guess based on a fragment.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.base import Component, Config, Model

TOO_LONG = "regelhulp_message_too_long"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MessageLengthGuard(Component):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_characters": 1000}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.max_characters = int(config["max_characters"])

    @classmethod
    def build(cls, config: Config, storage: ModelStorage, resource: Resource, model: Model = None) -> "Component":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if len(text) > self.max_characters:
                message.set(TEXT, text[: self.max_characters])
                message.set(TOO_LONG, True, add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LongMessageFallback(Component):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if message.get(TOO_LONG):
                fallback = {"name": "nlu_fallback", "confidence": 1.0}
                message.data[INTENT] = fallback
                message.data[INTENT_RANKING_KEY] = [fallback]  # a guess from a fragment is no option
        return messages
