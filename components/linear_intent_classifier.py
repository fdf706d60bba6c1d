"""Intent classifier: a linear support vector machine on TF-IDF-weighted n-grams, with calibrated
confidences.

Why not DIET: on this project's training data (many near-boundary examples: long employer e-mails,
mixed topics, chitchat variants) DIET fits every training example within a few epochs and then
does worse on unseen questions than a linear model on the same n-grams (5-fold cross-validation,
docs/pipeline.md). This classifier trains in seconds instead of half an hour.

What it does with the features the CountVectorsFeaturizers made (their sentence features: the
counts of a message's word n-grams and character n-grams):
- per featurizer, sublinear TF-IDF weighting and length normalisation (sklearn's TfidfTransformer),
  so a long message does not outweigh a short one and the word and character blocks weigh the same;
- a one-vs-rest linear SVM (LinearSVC) decides the ranking;
- a message of several sentences is also classified on its question sentences alone (those with a
  question mark, else the last one), and the two confidences are mixed (`question_weight`): the
  context of a long e-mail ("we are a flower nursery, the women live in the municipal reception")
  pulls less towards the topics it mentions in passing. Chosen on the development sets: with 0.2,
  of 360 multi-sentence questions 12 instead of 20 got a wrong intent, 31 instead of 20 the fallback;
- its scores become confidences by a softmax with one scale factor (temperature scaling), fitted
  on the scores of held-out folds of the training data so that the confidences are as close as
  possible to "how likely is this right". FallbackClassifier's threshold then has that meaning
  and is tuned on the development sets (`make tune-fallback`). (Calibrating each intent on its
  own, sklearn's CalibratedClassifierCV, gives two intents that both fit a message 0.5 each,
  e.g. "Wat doet het UAF?", so the fallback could not tell them apart.)

The trained model is saved as plain arrays (numpy .npz without pickle, and JSON): loading runs no
code from the file, and takes no noticeable time (skops, which Rasa's own sklearn classifier uses,
adds about 11 s to every server start here).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
import scipy.optimize
import scipy.sparse
import scipy.special
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from components.base import Component, Config, Model

logger = logging.getLogger(__name__)

ARRAYS_FILE = "linear_intent_classifier.npz"  # TF-IDF weights per featurizer, SVM weights
META_FILE = "linear_intent_classifier.json"  # featurizers, intents, confidence scale
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def question_spans(text: str) -> List[Tuple[int, int]]:
    """The character spans of a message's question sentences (with a question mark, else the last
    sentence); [] for a message of one sentence, whose question is the whole message."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    spans = [(a, b) for a, b in spans if text[a:b].strip()]
    if len(spans) < 2:
        return []
    questions = [(a, b) for a, b in spans if "?" in text[a:b]]
    return questions or spans[-1:]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(Component, IntentClassifier):
    @classmethod
    def required_components(cls) -> List[type]:
        return [Featurizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 0.5,  # SVM regularisation: smaller is smoother
            "calibration_folds": 5,  # held-out folds for fitting the confidence scale
            "ranking_length": 10,  # intents kept in intent_ranking
            "question_weight": 0.2,  # weight of the question sentences' confidences in a longer message
            "random_seed": 42,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model  # origins, weighting (TfidfTransformer per origin), intents, coef, intercept, scale

    @classmethod
    def build(cls, config: Config, storage: ModelStorage, resource: Resource, model: Model = None) -> "Component":
        return cls(config, storage, resource, model)

    # --- features ---------------------------------------------------------------------------

    @staticmethod
    def _origins(messages: List[Message]) -> List[str]:
        """The featurizers that gave these messages sparse sentence features, in a fixed order."""
        return sorted(
            {
                f.origin
                for m in messages
                for f in m.features
                if f.attribute == TEXT and f.type == "sentence" and f.is_sparse() and isinstance(f.origin, str)
            }
        )

    @staticmethod
    def _counts(messages: List[Message], origin: str, width: Optional[int] = None) -> scipy.sparse.csr_matrix:
        """One row of n-gram counts per message; a message without features (an empty text) gets a
        row of zeros, `width` wide (at prediction: the width the model was trained on)."""
        rows = [m.get_sparse_features(TEXT, [origin])[1] for m in messages]
        if width is None:
            width = next((row.features.shape[1] for row in rows if row is not None), 0)
        return scipy.sparse.vstack(
            [row.features if row is not None else scipy.sparse.csr_matrix((1, width)) for row in rows]
        ).tocsr()

    def _trained(self) -> Dict[str, Any]:
        if self.model is None:
            raise RuntimeError("LinearIntentClassifier has no model: train or load it first")
        return self.model

    def _features(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        model = self._trained()
        blocks = [
            weighting.transform(self._counts(messages, origin, len(weighting.idf_)))
            for origin, weighting in zip(model["origins"], model["weighting"])
        ]
        return scipy.sparse.hstack(blocks).tocsr()

    # --- training ---------------------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(INTENT) and m.get(TEXT)]
        intents = [m.get(INTENT) for m in examples]
        if len(set(intents)) < 2:
            raise ValueError(
                "LinearIntentClassifier needs examples of at least two intents, got %d." % len(set(intents))
            )
        origins = self._origins(examples)
        if not origins:
            raise ValueError(
                "LinearIntentClassifier needs sparse sentence features: put a "
                "CountVectorsFeaturizer before it in the pipeline."
            )
        weighting = [TfidfTransformer(sublinear_tf=True).fit(self._counts(examples, origin)) for origin in origins]
        self.model = {"origins": origins, "weighting": weighting}
        self.model.update(self._fit_svm(self._features(examples), np.asarray(intents)))
        self._persist()
        return self._resource

    def _fit_svm(self, features: scipy.sparse.csr_matrix, intents: np.ndarray) -> Dict[str, Any]:
        names, truth, counts = np.unique(intents, return_inverse=True, return_counts=True)
        smallest_intent = int(counts.min())
        if smallest_intent < 2:
            raise ValueError("LinearIntentClassifier needs at least two examples of every intent.")
        svm = LinearSVC(C=self.config["C"], random_state=self.config["random_seed"])
        # Each fold needs every intent; with very little data, fewer folds (at least 2).
        folds = StratifiedKFold(
            min(self.config["calibration_folds"], smallest_intent),
            shuffle=True,
            random_state=self.config["random_seed"],
        )
        held_out_scores = _as_columns(cross_val_predict(svm, features, intents, cv=folds, method="decision_function"))
        svm.fit(features, intents)  # svm.classes_ == names: sklearn sorts the intents the same way
        return {
            "intents": [str(name) for name in names],
            "coef": svm.coef_,
            "intercept": svm.intercept_,
            "scale": _fit_scale(held_out_scores, truth),
        }

    def _persist(self) -> None:
        model = self._trained()
        arrays = {"coef": model["coef"], "intercept": model["intercept"]}
        arrays.update({"idf_%d" % i: weighting.idf_ for i, weighting in enumerate(model["weighting"])})
        meta = {key: model[key] for key in ("origins", "intents", "scale")}
        with self._model_storage.write_to(self._resource) as directory:
            np.savez_compressed(directory / ARRAYS_FILE, **arrays)
            (directory / META_FILE).write_text(json.dumps(meta))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                model = json.loads((directory / META_FILE).read_text())
                with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
                    model.update(coef=arrays["coef"], intercept=arrays["intercept"])
                    model["weighting"] = [_weighting(arrays["idf_%d" % i]) for i in range(len(model["origins"]))]
        except (ValueError, OSError) as error:  # no trained model in storage (e.g. no intents), or a broken one
            logger.warning("LinearIntentClassifier not loaded: %s", error)
            model = None
        return cls(config, model_storage, resource, model)

    # --- prediction -------------------------------------------------------------------------

    def process(self, messages: List[Message]) -> List[Message]:
        if self.model is None or not messages:
            return messages
        confidences = self._confidences(self._features(messages))
        weight = float(self.config["question_weight"])
        for index, message in enumerate(messages):
            questions = self._question_features(message) if weight > 0 else None
            if questions is not None:
                confidences[index] = (1 - weight) * confidences[index] + weight * self._confidences(questions)[0]
        for message, row in zip(messages, confidences):
            order = np.argsort(-row)
            ranking = [
                {INTENT_NAME_KEY: self.model["intents"][i], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order[: self.config["ranking_length"]]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def _confidences(self, features: scipy.sparse.csr_matrix) -> np.ndarray:
        model = self._trained()
        scores = _as_columns(features @ model["coef"].T + model["intercept"])
        return scipy.special.softmax(model["scale"] * scores, axis=1)

    def _question_features(self, message: Message) -> Optional[scipy.sparse.csr_matrix]:
        """The features of the message's question sentences alone: the sum of their tokens' rows of
        each featurizer's sequence features (word bigrams across tokens are left out), or None when
        the message is one sentence."""
        text = message.get(TEXT) or ""
        spans = question_spans(text)
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        mask = np.array([any(a <= token.start < b for a, b in spans) for token in tokens], dtype=bool)
        if not spans or not mask.any() or mask.all():
            return None
        blocks = []
        model = self._trained()
        for origin, weighting in zip(model["origins"], model["weighting"]):
            sequence, _ = message.get_sparse_features(TEXT, [origin])
            if sequence is None or sequence.features.shape[0] != len(tokens):
                return None
            counts = scipy.sparse.csr_matrix(sequence.features.tocsr()[mask].sum(axis=0))
            blocks.append(weighting.transform(counts))
        return scipy.sparse.hstack(blocks).tocsr()


def _as_columns(scores: np.ndarray) -> np.ndarray:
    """One column of SVM scores per intent (with two intents the SVM gives one score, for the second)."""
    scores = np.asarray(scores).reshape(len(scores), -1)
    return np.hstack([-scores, scores]) if scores.shape[1] == 1 else scores


def _fit_scale(scores: np.ndarray, truth: np.ndarray) -> float:
    """The factor for softmax(factor x scores) that best predicts the true intents of held-out
    examples (lowest log loss): temperature scaling, one parameter for all intents."""

    def log_loss(log_factor: float) -> float:
        log_probabilities = scipy.special.log_softmax(np.exp(log_factor) * scores, axis=1)
        return -float(np.mean(log_probabilities[np.arange(len(truth)), truth]))

    best = scipy.optimize.minimize_scalar(log_loss, bounds=(np.log(0.01), np.log(1000.0)), method="bounded")
    return float(np.exp(best.x))


def _weighting(idf: np.ndarray) -> TfidfTransformer:
    """A fitted TfidfTransformer from its saved weights."""
    weighting = TfidfTransformer(sublinear_tf=True)
    weighting.idf_ = idf
    return weighting
