"""The intent classifier (components/linear_intent_classifier.py) on small data, with Rasa's own
tokenizer and featurizers in front of it: ranking, confidences, saving and loading, clear errors."""

from __future__ import annotations

from typing import List, Tuple

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.linear_intent_classifier import LinearIntentClassifier

EXAMPLES = {
    "ask_paid_work": [
        "mag een asielzoeker werken",
        "mag hij bij ons werken",
        "betaald werk voor asielzoekers",
        "kan ik een baan krijgen",
        "mag ik werken in nederland",
        "werken met een twv",
    ],
    "ask_study": [
        "mag ik studeren",
        "kan ik naar de universiteit",
        "een opleiding volgen aan het mbo",
        "studeren als statushouder",
        "mag ik naar het hbo",
        "kan ik een studie beginnen",
    ],
    "greet": ["hallo", "goedemorgen", "hoi daar", "hey", "goedemiddag", "hallo daar"],
}


class Pipeline:
    """Tokenizer, word and character CountVectorsFeaturizers and the classifier, in one storage."""

    def __init__(self, tmp_path, config=None):
        self.storage = LocalModelStorage(tmp_path)
        self.tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        self.featurizers = [
            CountVectorsFeaturizer.create(
                {**CountVectorsFeaturizer.get_default_config(), **extra},
                self.storage,
                Resource(name),
                ExecutionContext(None, node_name=name),
            )
            for name, extra in [("words", {}), ("chars", {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4})]
        ]
        self.resource = Resource("intents")
        self.context = ExecutionContext(None, node_name="intents")
        self.classifier = LinearIntentClassifier.create(config or {}, self.storage, self.resource, self.context)

    def featurize(self, messages: List[Message]) -> List[Message]:
        self.tokenizer.process(messages)
        for featurizer in self.featurizers:
            featurizer.process(messages)
        return messages

    def train(self, examples) -> None:
        data = TrainingData([Message.build(text, intent) for intent, texts in examples.items() for text in texts])
        self.tokenizer.process_training_data(data)
        for featurizer in self.featurizers:
            featurizer.train(data)
            featurizer.process_training_data(data)
        self.classifier.train(data)

    def parse(self, text: str, classifier=None) -> Tuple[str, List[dict]]:
        message = self.featurize([Message.build(text)])[0]
        (classifier or self.classifier).process([message])
        return message.get("intent")["name"], message.get("intent_ranking")


def test_ranks_intents_with_confidences(tmp_path):
    pipeline = Pipeline(tmp_path, {"ranking_length": 2})
    pipeline.train(EXAMPLES)
    intent, ranking = pipeline.parse("mag een vluchteling bij ons werken")
    assert intent == "ask_paid_work"
    assert len(ranking) == 2  # ranking_length
    assert ranking[0]["confidence"] > ranking[1]["confidence"] > 0
    assert sum(item["confidence"] for item in ranking) <= 1.0 + 1e-9
    assert pipeline.parse("goedemorgen allemaal")[0] == "greet"
    assert pipeline.parse("ik wil studeren aan de universiteit")[0] == "ask_study"


def test_saved_model_loads_and_predicts_the_same(tmp_path):
    pipeline = Pipeline(tmp_path)
    pipeline.train(EXAMPLES)
    loaded = LinearIntentClassifier.load({}, pipeline.storage, pipeline.resource, pipeline.context)
    for text in ["mag ik werken", "hoi", "studie aan het hbo", "iets heel anders"]:
        assert pipeline.parse(text, loaded) == pipeline.parse(text)


def test_untrained_classifier_leaves_messages_alone(tmp_path):
    pipeline = Pipeline(tmp_path)  # nothing trained, nothing saved
    loaded = LinearIntentClassifier.load({}, pipeline.storage, pipeline.resource, pipeline.context)
    message = pipeline.featurize([Message.build("hallo")])[0]
    loaded.process([message])
    assert message.get("intent") is None


@pytest.mark.parametrize(
    "examples, error",
    [
        ({"greet": EXAMPLES["greet"]}, "at least two intents"),
        ({"greet": EXAMPLES["greet"], "ask_study": ["mag ik studeren"]}, "at least two examples of every intent"),
    ],
)
def test_too_little_data_gives_a_clear_error(tmp_path, examples, error):
    with pytest.raises(ValueError, match=error):
        Pipeline(tmp_path).train(examples)


def test_needs_sparse_features(tmp_path):
    pipeline = Pipeline(tmp_path)
    data = TrainingData([Message.build(text, intent) for intent, texts in EXAMPLES.items() for text in texts])
    with pytest.raises(ValueError, match="CountVectorsFeaturizer"):
        pipeline.classifier.train(data)


def test_message_without_features_gets_a_ranking(tmp_path):
    """spaCy makes no token of an empty text, so the featurizers give it no features at all."""
    pipeline = Pipeline(tmp_path)
    pipeline.train(EXAMPLES)
    message = Message.build("")
    pipeline.classifier.process([message])
    assert message.get("intent")["name"] in EXAMPLES
    assert len(message.get("intent_ranking")) == len(EXAMPLES)


def test_two_intents(tmp_path):
    """With two intents the SVM gives one score per message; the ranking still has both."""
    pipeline = Pipeline(tmp_path)
    pipeline.train({intent: EXAMPLES[intent] for intent in ("greet", "ask_study")})
    intent, ranking = pipeline.parse("hallo daar")
    assert intent == "greet"
    assert [item["name"] for item in ranking] == ["greet", "ask_study"]
    assert abs(sum(item["confidence"] for item in ranking) - 1.0) < 1e-9


def test_the_question_sentences_of_a_longer_message():
    from components.linear_intent_classifier import question_spans

    text = "Wij zijn een kwekerij. Ze wonen in de opvang. Moet ik een vergunning aanvragen? Wat meld ik aan wie?"
    assert [text[a:b] for a, b in question_spans(text)] == ["Moet ik een vergunning aanvragen?", "Wat meld ik aan wie?"]
    statement = "Wij hebben een kandidaat uit het azc. Graag hoor ik wat ik moet regelen."
    assert [statement[a:b] for a, b in question_spans(statement)] == ["Graag hoor ik wat ik moet regelen."]
    assert question_spans("Mag een asielzoeker bij ons werken?") == []
