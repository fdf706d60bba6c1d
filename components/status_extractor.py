"""The status of the person a message is about, as a status-group id, found in the NLU.

`StatusExtractor` adds the entity `status` with a group id of knowledge/status_groups.yml
("asylum_seeker", ...) when a message names one group (the longest phrase wins: "in het azc, maar
met een verblijfsvergunning" is a status holder). It fills the slot `status` directly (domain.yml),
so no custom action has to turn the phrase into an id. A message that names two groups as
alternatives ("een asielzoeker of een statushouder") gets the entity `status_option` once per group
instead, and the answer covers each of them. Button payloads carry the entity themselves.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.base import Component, Config, Model
from regelhulp.knowledge import KnowledgeBase, load_shared

STATUS = "status"
OPTION = "status_option"


def status_entities(kb: KnowledgeBase, text: str, extractor: str = "StatusExtractor") -> List[Dict[str, Any]]:
    """The `status` / `status_option` entities of a message text, with the span of the phrase."""

    def entity(name: str, mention: Tuple[int, int, str]) -> Dict[str, Any]:
        start, end, group = mention
        return {"entity": name, "value": group, "start": start, "end": end, "confidence": 1.0, "extractor": extractor}

    mentions = kb.status_mentions(text)
    options = kb.statuses_side_by_side(text)
    if options:
        first = {group: next(m for m in mentions if m[2] == group) for group in options}
        return [entity(OPTION, first[group]) for group in options]
    status = kb.status_in_text(text)
    if not status:
        return []
    longest = max((m for m in mentions if m[2] == status), key=lambda m: m[1] - m[0])
    return [entity(STATUS, longest)]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class StatusExtractor(Component):
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    @classmethod
    def build(cls, config: Config, storage: ModelStorage, resource: Resource, model: Model = None) -> "Component":
        return cls(load_shared())

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or any(e.get("entity") == STATUS for e in message.get(ENTITIES, [])):
                continue
            found = status_entities(self.kb, text, type(self).__name__)
            if found:
                message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
