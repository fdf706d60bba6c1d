"""The NLU component `LanguageDetector` (after the intent classifiers): adds the entity `language`
with value `nl` or `en`, which fills the slot `language` (domain.yml). How a message's language is
told lives in regelhulp/language.py (pure functions, also used by the channels and the actions)."""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.base import Component
from regelhulp.language import ENTITY, message_language


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(Component):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/"):
                continue  # a button payload has no language of its own
            intent = (message.get(INTENT) or {}).get("name")
            language = message_language(text, intent)
            if language:
                entity = {
                    "entity": ENTITY,
                    "value": language,
                    "start": 0,
                    "end": len(text),
                    "confidence": 1.0,
                    "extractor": type(self).__name__,
                }
                message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)
        return messages
