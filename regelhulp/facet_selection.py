"""Which concrete question (facet) of a knowledge entry a message asks.

Two measures, both fitted when the action server starts (about 5 s):

- Within an entry (`select`): a logistic regression per entry on TF-IDF word and character n-grams,
  with one class per facet (its question and phrasings in knowledge/facets/, Dutch and English) and
  one class "overview" (the entry's general questions: its intent's NLU examples in data/nlu/). A
  general question ("mag hij bij ons werken?") keeps getting the overview; a concrete one its facet.
- Similarity (`ranking`, `follow_up`): TF-IDF cosine similarity to the closest phrasing, comparable
  across entries; for a short follow-up in the conversation's entry ("hoe lang duurt dat?") and for a
  question the classifier did not take for a rule question.

Chosen with `make tune-facets` on eval/development/facets.yml (reports/facet_tuning.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from regelhulp.knowledge import DEFAULT_LANGUAGE, LANGUAGES, Facet, KnowledgeBase, RuleEntry, fold
from regelhulp.paths import NLU_DIR

_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
Overviews = Dict[str, Dict[str, List[str]]]  # entry id -> language -> general questions
OVERVIEW = "overview"

# make tune-facets, 7 December 2026, on eval/development/facets.yml + facets2.yml (571 single questions), after
# 10 more Dutch and 6 more English phrasings per facet: inverse regularisation of the per-entry classifier.
# C=0.5: Dutch 299 of 345 right (facet, or overview where that is right), 4 wrong facets; English 203 of
# 226, no wrong facet (cost 77, wrong facet = 3). C=0.2: Dutch 298 (8 wrong facets), English 209 (1)
# (cost 82); C=1: Dutch 292. A least probability above 0 and a margin over the second class (1.1-1.5 x)
# only sent more concrete questions to the overview; adding the nearest-phrasing similarity to the
# probabilities gave more wrong facets.
C = 0.5
# The least probability of the chosen facet (0: the most probable class decides).
THRESHOLD = 0.0
# A short question names the theme more often than a detail ("Werkvergunning asielzoeker", "Moet een
# statushouder inburgeren?"): with at most SHORT_WORDS words it gets a facet only when that is at least
# SHORT_PROBABILITY probable. On the facet development sets: Dutch 300 -> 313 of 352 right, English
# 203 -> 204 of 227, no more wrong facets (at most 6 words: 310 / 203; at most 10: 304 / 185).
SHORT_WORDS = 7
SHORT_PROBABILITY = 0.5
# A follow-up in the conversation's entry (a message the classifier did not take for a new question):
# the closest phrasing needs this cosine similarity and twice the second facet's; chosen on the
# follow-ups of eval/development/real_*.yml (the entry's general questions are as similar as the facet there).
FOLLOW_UP_SCORE = 0.3
FOLLOW_UP_RATIO = 2.0


def overview_examples(kb: KnowledgeBase, nlu_dir: Path = NLU_DIR) -> Overviews:
    """The NLU examples of every rule intent, per entry and language (Dutch in data/nlu/, the
    other languages in data/nlu/<language>/), without entity annotations."""
    overviews: Overviews = {}
    for language in LANGUAGES:
        folder = nlu_dir if language == DEFAULT_LANGUAGE else nlu_dir / language
        for path in sorted(folder.glob("*.yml")):
            for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
                entry = kb.rule_for_intent(item.get("intent")) if isinstance(item, dict) else None
                if entry is None:
                    continue
                for line in str(item.get("examples") or "").splitlines():
                    text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line.strip().lstrip("-").strip())
                    if text:
                        overviews.setdefault(entry.id, {}).setdefault(language, []).append(text)
    return overviews


def _features() -> FeatureUnion:
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )


def _phrasings(facet: Facet, language: str) -> Tuple[str, ...]:
    return (facet.question_in(language),) + tuple(facet.phrasings_in(language))


@dataclass(frozen=True)
class FacetMatch:
    facet: Facet
    score: float


class _EntryClassifier:
    """Facet or overview, for the questions of one entry (both languages in one model)."""

    def __init__(self, entry: RuleEntry, overviews: Dict[str, List[str]], c: float) -> None:
        texts, labels = [], []
        for facet in entry.facets:
            for language in LANGUAGES:
                texts += [fold(t) for t in _phrasings(facet, language)]
                labels += [facet.id] * len(_phrasings(facet, language))
        for language in LANGUAGES:
            general = overviews.get(language, [])
            texts += [fold(t) for t in general]
            labels += [OVERVIEW] * len(general)
        self.facets = {f.id: f for f in entry.facets}
        self.model = None
        if self.facets and OVERVIEW in labels:
            self.features = _features()
            matrix = self.features.fit_transform(texts)
            self.model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(matrix, labels)

    def best(self, text: str) -> Tuple[str, float]:
        """The most probable class (a facet id or OVERVIEW) and its probability."""
        if self.model is None:
            return OVERVIEW, 1.0
        probabilities = self.model.predict_proba(self.features.transform([fold(text)]))[0]
        index = int(probabilities.argmax())
        return str(self.model.classes_[index]), float(probabilities[index])


class _SimilarityIndex:
    """Cosine similarity of a text to every facet's closest phrasing, in one language."""

    def __init__(self, facets: Iterable[Facet], language: str) -> None:
        self.owners: List[Facet] = []
        texts: List[str] = []
        for facet in facets:
            for text in _phrasings(facet, language):
                self.owners.append(facet)
                texts.append(fold(text))
        self.features = _features()
        self.matrix = self.features.fit_transform(texts) if texts else None

    def scores(self, text: str) -> Dict[str, Tuple[Facet, float]]:
        """The best similarity per facet id ("entry.facet")."""
        if self.matrix is None:
            return {}
        similarities = (
            self.matrix @ self.features.transform([fold(text)]).T
        ).toarray().ravel() / 2.0  # two unit-norm blocks
        best: Dict[str, Tuple[Facet, float]] = {}
        for facet, score in zip(self.owners, similarities):
            if facet.id not in best or score > best[facet.id][1]:
                best[facet.id] = (facet, float(score))
        return best


class FacetSelector:
    def __init__(
        self, kb: KnowledgeBase, overviews: Optional[Overviews] = None, c: float = C, threshold: float = THRESHOLD
    ) -> None:
        overviews = overview_examples(kb) if overviews is None else overviews
        self.kb = kb
        self.threshold = threshold
        self.classifiers = {entry.id: _EntryClassifier(entry, overviews.get(entry.id, {}), c) for entry in kb.rules}
        self.indexes = {language: _SimilarityIndex(kb.facets, language) for language in LANGUAGES}

    def select(
        self, text: str, language: str, entry_id: str, threshold: Optional[float] = None
    ) -> Optional[FacetMatch]:
        """The facet of `entry_id` that `text` asks, or None (then the overview answers).
        (`language` is not needed: one model per entry covers both languages.)"""
        classifier = self.classifiers.get(entry_id)
        if classifier is None:
            return None
        cued = [classifier.facets[f] for f in self.kb.cued_facets(text, entry_id) if f in classifier.facets]
        if len(cued) == 1:  # a cue (routing.yml) settles it; two cues: the classifier decides
            return FacetMatch(cued[0], 1.0)
        label, probability = classifier.best(text)
        least = self.threshold if threshold is None else threshold
        if len(text.split()) <= SHORT_WORDS or self.kb.asks_in_general(text):
            least = max(least, SHORT_PROBABILITY)
        if label == OVERVIEW or probability < least:
            return None
        return FacetMatch(classifier.facets[label], probability)

    def ranking(self, text: str, language: str, entry_ids: Optional[Iterable[str]] = None) -> List[FacetMatch]:
        """Facets by cosine similarity to `text`, best first (only those of `entry_ids` when given)."""
        allowed = set(entry_ids) if entry_ids is not None else None
        index = self.indexes.get(language) or self.indexes[DEFAULT_LANGUAGE]
        matches = [FacetMatch(f, s) for f, s in index.scores(text).values() if allowed is None or f.entry in allowed]
        return sorted(matches, key=lambda m: -m.score)

    def follow_up(
        self,
        text: str,
        language: str,
        entry_ids: Iterable[str],
        min_score: float = FOLLOW_UP_SCORE,
        ratio: float = FOLLOW_UP_RATIO,
    ) -> Optional[FacetMatch]:
        """The facet a short follow-up asks within the entries of the conversation ("hoe lang duurt
        dat?" after a question about the TWV): a clear winner among their facets by similarity.
        The general questions do not count here: a follow-up is not a new question about the entry."""
        ranking = self.ranking(text, language, entry_ids)
        if not ranking or ranking[0].score < min_score:
            return None
        second = ranking[1].score if len(ranking) > 1 else 0.0
        return ranking[0] if ranking[0].score >= ratio * second else None
