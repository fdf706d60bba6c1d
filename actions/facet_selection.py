"""Which concrete question (facet) of a knowledge entry a message asks.

Each facet has example phrasings in knowledge/facets/ (Dutch and English). A message is compared with
all phrasings of its language by TF-IDF cosine similarity on word and character n-grams; the facet
whose closest phrasing is most similar wins, when that similarity reaches a threshold and beats the
entry's general questions (its intent's NLU examples in data/nlu/: "mag hij bij ons werken?" asks
for the overview, not for the facet about a refused asylum application). Fitted once when the
action server starts (a few thousand texts: about a second).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from actions.knowledge import DEFAULT_LANGUAGE, LANGUAGES, Facet, KnowledgeBase, fold

NLU_DIR = Path(__file__).resolve().parent.parent / "data" / "nlu"
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")
Overviews = Dict[str, Dict[str, List[str]]]  # entry id -> language -> general questions


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

# Chosen with `make tune-facets` on tests/dev/facets.yml (reports/facet_tuning.md, 380 questions):
# below THRESHOLD similarity, or when the entry's general questions are more than OVERVIEW_MARGIN
# more similar, the entry's overview answer is given instead of a facet. At 0.30/0.15: Dutch 154 of
# 231 right, 14 wrong facets; English 119 of 149, 7 wrong. Without the margin the cost was slightly
# lower (Dutch 157 right, 14 wrong; English 124/7) but generic questions ("mag hij bij ons werken?")
# got a facet about a special case (a refused asylum application): we keep the margin.
THRESHOLD = 0.3
OVERVIEW_MARGIN = 0.15
# A follow-up in the conversation's entry (a message the classifier did not take for a new question):
# the best facet needs this similarity and twice the second's; chosen on the follow-ups of
# tests/dev/real_*.yml (the general questions of the entry are as similar as the facet there).
FOLLOW_UP_SCORE = 0.3
FOLLOW_UP_RATIO = 2.0


@dataclass(frozen=True)
class FacetMatch:
    facet: Facet
    score: float


class _Index:
    def __init__(self, facets: Iterable[Facet], language: str, overviews: Overviews) -> None:
        self.owners: List[Facet] = []
        texts: List[str] = []
        for facet in facets:
            for text in (facet.question_in(language),) + tuple(facet.phrasings_in(language)):
                self.owners.append(facet)
                texts.append(fold(text))
        self.overview_owners: List[str] = []
        overview_texts: List[str] = []
        for entry_id, by_language in overviews.items():
            for text in by_language.get(language, []):
                self.overview_owners.append(entry_id)
                overview_texts.append(fold(text))
        self.vectorizer = FeatureUnion([
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ])
        self.matrix = self.vectorizer.fit_transform(texts) if texts else None
        self.overview_matrix = self.vectorizer.transform(overview_texts) if texts and overview_texts else None

    def overview_score(self, text: str, entry_id: str) -> float:
        """The similarity of `text` to the entry's general questions."""
        if self.overview_matrix is None:
            return 0.0
        similarities = (self.overview_matrix @ self.vectorizer.transform([fold(text)]).T).toarray().ravel() / 2.0
        return max((float(s) for owner, s in zip(self.overview_owners, similarities) if owner == entry_id), default=0.0)

    def scores(self, text: str) -> Dict[str, Tuple[Facet, float]]:
        """The best similarity per facet id ("entry.facet")."""
        if self.matrix is None:
            return {}
        vector = self.vectorizer.transform([fold(text)])
        similarities = (self.matrix @ vector.T).toarray().ravel() / 2.0  # two unit-norm blocks: max 1
        best: Dict[str, Tuple[Facet, float]] = {}
        for facet, score in zip(self.owners, similarities):
            if facet.id not in best or score > best[facet.id][1]:
                best[facet.id] = (facet, float(score))
        return best


class FacetSelector:
    def __init__(self, kb: KnowledgeBase, threshold: float = THRESHOLD, overviews: Optional[Overviews] = None) -> None:
        self.threshold = threshold
        overviews = overview_examples(kb) if overviews is None else overviews
        self.indexes = {language: _Index(kb.facets, language, overviews) for language in LANGUAGES}

    def ranking(self, text: str, language: str, entry_ids: Optional[Iterable[str]] = None) -> List[FacetMatch]:
        """Facets by similarity to `text`, best first (only those of `entry_ids` when given)."""
        allowed = set(entry_ids) if entry_ids is not None else None
        index = self.indexes.get(language) or self.indexes[LANGUAGES[0]]
        matches = [FacetMatch(f, s) for f, s in index.scores(text).values() if allowed is None or f.entry in allowed]
        return sorted(matches, key=lambda m: -m.score)

    def overview_score(self, text: str, language: str, entry_id: str) -> float:
        index = self.indexes.get(language) or self.indexes[LANGUAGES[0]]
        return index.overview_score(text, entry_id)

    def select(self, text: str, language: str, entry_id: str, threshold: Optional[float] = None,
               margin: float = OVERVIEW_MARGIN) -> Optional[FacetMatch]:
        """The facet of `entry_id` that `text` asks, or None (then the overview answers)."""
        ranking = self.ranking(text, language, [entry_id])
        limit = self.threshold if threshold is None else threshold
        if not ranking or ranking[0].score < limit:
            return None
        return ranking[0] if ranking[0].score > self.overview_score(text, language, entry_id) - margin else None

    def follow_up(self, text: str, language: str, entry_id: str, min_score: float = FOLLOW_UP_SCORE,
                  ratio: float = FOLLOW_UP_RATIO) -> Optional[FacetMatch]:
        """The facet a short follow-up asks within the entry of the conversation ("hoe lang duurt
        dat?" after a question about the TWV): a clear winner among the entry's facets. The general
        questions do not count here: the follow-up is not a new question about the entry."""
        ranking = self.ranking(text, language, [entry_id])
        if not ranking or ranking[0].score < min_score:
            return None
        second = ranking[1].score if len(ranking) > 1 else 0.0
        return ranking[0] if ranking[0].score >= ratio * second else None
