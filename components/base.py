"""The base of Regelhulp's NLU components: one place for what every Rasa graph component must have."""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.training_data import TrainingData

Config = Dict[Text, Any]
Model = Optional[Dict[str, Any]]  # what a trainable component stored


class Component(GraphComponent):
    """A graph component built by `build` from its configuration (and, for a trainable one, its storage);
    it passes training data through unchanged unless it overrides `process_training_data`."""

    @classmethod
    def build(cls, config: Config, storage: ModelStorage, resource: Resource, model: Model = None) -> "Component":
        return cls()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "Component":
        return cls.build(config, model_storage, resource)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
