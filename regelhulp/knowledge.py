"""The knowledge base: the loaded model (dataclasses), its loader and validation.

One loader serves the action server (answers), the spaCy pipeline builder (entity-ruler
patterns) and `make validate`. The shape of each item is checked by the pydantic models of
regelhulp/knowledge_schema.py; the loader adds what needs other files. Loading either returns a complete, valid `KnowledgeBase` or
raises `KnowledgeError` listing every problem as ``file: entry 'id': field 'name': message``.

Dutch is the source language. Every rule entry, status group, theme and organisation also carries
its texts in each language of TRANSLATIONS in a block named after the language (`en:`), with the
same fields as the Dutch text; the fixed phrases are in phrases_<language>.yml with the same keys
and placeholders as phrases.yml. The accessors (`title_in`, `answer_for(status, lang)`,
`label_in`, `kb.phrase(key, lang)`, ...) return Dutch unless asked for another language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import string
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple, Type

import yaml

from regelhulp import knowledge_schema as schema
from regelhulp.knowledge_schema import (  # noqa: F401 (the limits are part of this module's API)
    DEFAULT_LANGUAGE,
    ID_PATTERN,
    LANGUAGES,
    MAX_ANSWER_WORDS,
    MAX_COMBINED_WORDS,
    MAX_FACET_WORDS,
    MAX_LABEL_WORDS,
    MIN_PHRASINGS,
    RULE_STATES,
    STATUS_GROUP_IDS,
    TRANSLATIONS,
)
from regelhulp.paths import KNOWLEDGE_DIR

DEFAULT_DIR = KNOWLEDGE_DIR
MAX_CHECKED_AGE_DAYS = 180  # an entry checked longer ago than this should be checked again


def phrases_file(language: str = DEFAULT_LANGUAGE) -> str:
    """phrases.yml for Dutch, phrases_<language>.yml for a translation."""
    return "phrases.yml" if _language(language) == DEFAULT_LANGUAGE else "phrases_%s.yml" % language


def _language(language: Optional[str]) -> str:
    if language is None:
        return DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        raise ValueError("unknown language %r; the knowledge base has %s" % (language, ", ".join(LANGUAGES)))
    return language


def _translated(item: object, language: Optional[str], name: str) -> str:
    """A text field of a status group, theme or organisation in `language` (Dutch by default)."""
    language = _language(language)
    if language == DEFAULT_LANGUAGE:
        return getattr(item, name)
    try:
        return item.translations[language][name]  # type: ignore[attr-defined]
    except KeyError:
        raise LookupError(
            "%s '%s' has no %s text for '%s'" % (type(item).__name__, getattr(item, "id", "?"), language, name)
        ) from None


@dataclass(frozen=True)
class Translated:
    """A knowledge item with Dutch text fields and their translations (`translations[language][field]`,
    e.g. {"en": {"label": ...}}); its subclasses are built with keyword arguments."""

    id: str
    translations: Dict[str, Dict[str, str]] = field(hash=False)

    def in_language(self, name: str, language: str = DEFAULT_LANGUAGE) -> str:
        """The text field `name` in `language` (Dutch by default)."""
        return _translated(self, language, name)


class KnowledgeError(Exception):
    """The knowledge base is broken; `problems` names file, entry and field of each fault."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__("The knowledge base has %d problem(s):\n- %s" % (len(problems), "\n- ".join(problems)))


@dataclass(frozen=True)
class Named(Translated):
    """An item users name in their own words: `synonyms` are the words the entity ruler and status finder know."""

    synonyms: Tuple[str, ...]


@dataclass(frozen=True)
class StatusGroup(Named):
    label: str
    button: str


@dataclass(frozen=True)
class Organisation(Named):
    name: str
    abbreviation: str
    description: str
    website: str


@dataclass(frozen=True)
class Theme(Translated):
    label: str


@dataclass(frozen=True)
class Source:
    url: str
    organisation: str
    as_of: Optional[dt.date] = None  # the version of the page that was read (the 1st when only the month is known)
    as_of_day: bool = False  # True when `as_of` names a day, False when only the month


@dataclass(frozen=True)
class FacetText:
    """The texts of a facet in one language."""

    question: str
    label: str
    answer: Optional[str] = None
    answers: Dict[str, str] = field(default_factory=dict)
    phrasings: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Facet:
    """One concrete question inside a rule entry, with its short direct answer (facets/<theme>.yml)."""

    id: str  # "<entry>.<key>", unique in the knowledge base
    key: str
    entry: str
    file: str
    texts: Dict[str, FacetText]  # {"nl": ..., "en": ...}
    sources: Tuple[Source, ...] = ()
    statuses: Tuple[str, ...] = ()  # the status groups the question concerns; empty: everybody

    def concerns(self, status: Optional[str]) -> bool:
        """Whether the question matters for someone of this status group ("how do I apply for a
        volunteer statement?" does not for a status holder, who needs none); True when unknown."""
        return not status or not self.statuses or status in self.statuses

    def text_in(self, language: str = DEFAULT_LANGUAGE) -> FacetText:
        return self.texts[_language(language)]

    def question_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return self.text_in(language).question

    def label_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return self.text_in(language).label

    def phrasings_in(self, language: str = DEFAULT_LANGUAGE) -> Tuple[str, ...]:
        return self.text_in(language).phrasings

    def specific_to(self, status: Optional[str]) -> bool:
        """True when the facet has an answer of its own for this status group."""
        return bool(status) and status in self.texts[DEFAULT_LANGUAGE].answers

    def answer_for(self, status: Optional[str], language: str = DEFAULT_LANGUAGE) -> Optional[str]:
        """The answer for the status group: its own, else the one for everybody, else (with a
        status) the one for `other`. None when the answer depends on a status that is not known."""
        text = self.text_in(language)
        if status and status in text.answers:
            return text.answers[status]
        if text.answer:
            return text.answer
        if status:
            return text.answers.get("other")
        return None


@dataclass(frozen=True)
class RuleText:
    """The texts of a rule entry in one language: the same fields as the Dutch entry."""

    title: str
    answer: Optional[str] = None
    answers: Dict[str, str] = field(default_factory=dict)
    pending: Optional[str] = None


@dataclass(frozen=True)
class RuleEntry:
    id: str
    intent: str
    theme: str
    title: str
    state: str
    organisations: Tuple[str, ...]
    sources: Tuple[Source, ...]
    checked: dt.date
    file: str
    answers: Dict[str, str] = field(default_factory=dict)
    answer: Optional[str] = None
    pending: Optional[str] = None
    pending_for: Tuple[str, ...] = ()  # status groups the pending change concerns; empty = all
    statuses: Tuple[str, ...] = ()  # the status groups the entry concerns; empty = everybody
    pending_from: Optional[dt.date] = None  # when the planned change was meant to start
    valid_from: Optional[dt.date] = None  # `from`: the rule as written holds from this date
    valid_until: Optional[dt.date] = None  # `until`: the rule as written holds until this date
    translations: Dict[str, RuleText] = field(default_factory=dict)  # {"en": RuleText(...)}
    facets: Tuple[Facet, ...] = ()

    @property
    def newest_source_date(self) -> Optional[dt.date]:
        """The newest `as_of` of the entry's sources and of its facets' sources."""
        dates = [s.as_of for s in self.sources + tuple(s for f in self.facets for s in f.sources) if s.as_of]
        return max(dates) if dates else None

    def facet(self, key: str) -> Optional[Facet]:
        return next((f for f in self.facets if f.key == key or f.id == key), None)

    def concerns(self, status: Optional[str]) -> bool:
        """Whether the entry answers a question about someone of this status group (reporting a
        Ukrainian employee does not concern an asylum seeker); True when the status is unknown."""
        return not status or not self.statuses or status in self.statuses

    def pending_applies(self, status: Optional[str]) -> bool:
        return bool(self.pending) and (not self.pending_for or status is None or status in self.pending_for)

    @property
    def depends_on_status(self) -> bool:
        return bool(self.answers)

    def text_in(self, language: str = DEFAULT_LANGUAGE) -> RuleText:
        """All texts of the entry in `language` (Dutch by default)."""
        language = _language(language)
        if language == DEFAULT_LANGUAGE:
            return RuleText(title=self.title, answer=self.answer, answers=self.answers, pending=self.pending)
        try:
            return self.translations[language]
        except KeyError:
            raise LookupError("entry '%s' has no %s text" % (self.id, language)) from None

    def title_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return self.text_in(language).title

    def shared_answer_in(self, language: str = DEFAULT_LANGUAGE) -> Optional[str]:
        """The answer for everybody (`answer`), or None when the entry has none."""
        return self.text_in(language).answer

    def pending_in(self, language: str = DEFAULT_LANGUAGE) -> Optional[str]:
        return self.text_in(language).pending

    def answer_for(self, status: Optional[str], language: str = DEFAULT_LANGUAGE) -> str:
        """The part for the status group (the direct answer, first), then the shared answer (if any)."""
        return "\n\n".join(part for part in self.answer_parts(status, language) if part)

    def answer_parts(
        self, status: Optional[str], language: str = DEFAULT_LANGUAGE
    ) -> Tuple[Optional[str], Optional[str]]:
        """The part for the status group (None when the answer is the same for everybody) and the
        shared answer (None when there is none)."""
        text = self.text_in(language)
        own = (text.answers.get(status or "other") or text.answers["other"]) if self.depends_on_status else None
        return own, text.answer or None


@dataclass(frozen=True)
class HelpdeskContact:
    """Where people get personal help (knowledge/helpdesk.yml), offered by the handoff."""

    id: str
    name: str
    purpose: str  # `for` in the file: who or what it is for
    url: str
    phone: Optional[str] = None
    hours: Optional[str] = None
    translations: Dict[str, Dict[str, str]] = field(default_factory=dict)  # {"en": {"for": ..., "hours": ...}}

    def purpose_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return self.purpose if _language(language) == DEFAULT_LANGUAGE else _translated(self, language, "for")

    def hours_in(self, language: str = DEFAULT_LANGUAGE) -> Optional[str]:
        if not self.hours:
            return None
        return self.hours if _language(language) == DEFAULT_LANGUAGE else _translated(self, language, "hours")


@dataclass(frozen=True)
class Refusal:
    """A kind of message Regelhulp does not answer, and the phrase it replies with (refusals.yml)."""

    id: str
    reply: str
    patterns: Tuple["re.Pattern[str]", ...]
    screen: bool = False
    decides: bool = False  # a match refuses a message the classifier is not sure about

    def matches(self, text: str) -> bool:
        folded = fold(text)
        return any(p.search(folded) for p in self.patterns)


@dataclass(frozen=True)
class KnowledgeBase:
    status_groups: Tuple[StatusGroup, ...]
    organisations: Dict[str, Organisation]
    themes: Tuple[Theme, ...]
    rules: Tuple[RuleEntry, ...]
    phrases: Dict[str, object]
    fingerprint: str
    helpdesk: Tuple[HelpdeskContact, ...] = ()
    translated_phrases: Dict[str, Dict[str, object]] = field(default_factory=dict)  # {"en": phrases_en.yml}
    overlaps: Tuple[FrozenSet[str], ...] = ()  # routing.yml: groups of intents with neighbouring answers
    cues: Dict[str, Tuple["re.Pattern[str]", ...]] = field(default_factory=dict, hash=False)  # routing.yml
    cues_hypothetical: Optional["re.Pattern[str]"] = None  # routing.yml: words that make a cue a supposition
    general_questions: Tuple["re.Pattern[str]", ...] = ()  # routing.yml: wordings that ask for the overview
    refusals: Tuple[Refusal, ...] = ()  # refusals.yml, in order

    def overlap(self, first: Optional[str], second: Optional[str]) -> bool:
        """Whether two intents answer neighbouring questions (routing.yml)."""
        return any(first in group and second in group for group in self.overlaps)

    def cued_intents(self, text: str) -> List[str]:
        """The rule intents whose cues (routing.yml) the message has, outside a supposition."""
        return [key for key in self._cued(text) if "." not in key]

    def cued_facets(self, text: str, entry_id: str) -> List[str]:
        """The facets of the entry whose cues (routing.yml, "entry.facet") the message has ("ik ben
        45" asks for the student-finance facet about studying after 30)."""
        return [key for key in self._cued(text) if key.startswith(entry_id + ".")]

    def _cued(self, text: str) -> List[str]:
        folded = fold(text)

        def stated(match: "re.Match[str]") -> bool:
            sentence = re.split(r"[.!?\n]", folded[: match.start()])[-1]
            return self.cues_hypothetical is None or not self.cues_hypothetical.search(sentence)

        return [
            key for key, patterns in self.cues.items() if any(stated(m) for p in patterns for m in p.finditer(folded))
        ]

    def asks_in_general(self, text: str) -> bool:
        """Whether the message asks how something works in general ("leg eens uit hoe ... werkt")."""
        folded = fold(text)
        return any(p.search(folded) for p in self.general_questions)

    def refusal_for(self, text: str, screened_only: bool = False) -> Optional[Refusal]:
        """The first refusal whose patterns match `text` (only `screen: true` ones if asked)."""
        return next((r for r in self.refusals if (r.screen or not screened_only) and r.matches(text)), None)

    @cached_property
    def _status_matcher(self) -> Tuple["re.Pattern[str]", Dict[str, str], List[Tuple[str, str]]]:
        """Built once: a regex of all status synonyms (longest first), the group of each synonym, and
        the one-word synonyms that are also found with one typo."""
        groups: Dict[str, str] = {}
        for group in self.status_groups:
            for synonym in group.synonyms:
                term = fold(synonym).strip()
                if term and term not in groups:
                    groups[term] = group.id
        terms = sorted(groups, key=lambda t: (-len(t), t))
        pattern = re.compile(r"(?<!\w)(?=(" + "|".join(re.escape(t) for t in terms) + r")(?!\w))")
        fuzzy = [(t, g) for t, g in groups.items() if " " not in t and len(t) >= MIN_FUZZY_LENGTH]
        return pattern, groups, fuzzy

    def status_mentions(self, text: str) -> List[Tuple[int, int, str]]:
        """The status phrases in a text as (start, end, group id), left to right; where phrases
        overlap, the longest wins ("asielzoeker met een verblijfsvergunning" is one mention)."""
        folded = fold(text)
        pattern, groups, fuzzy = self._status_matcher
        # one pass: at every position the longest synonym that starts there (a lookahead, so
        # overlapping phrases are all seen; the longest of overlapping ones wins below)
        spans = [(m.start(), m.start() + len(m.group(1)), groups[m.group(1)]) for m in pattern.finditer(folded)]
        spans += _misspelled_mentions(folded, fuzzy)
        return [m for m in _longest_first(spans) if not _denied(folded, m[0], m[1])]

    def statuses_side_by_side(self, text: str) -> List[str]:
        """Two or more status groups named as alternatives ("een asielzoeker of een statushouder",
        "asylum seekers and status holders"), or as two people the question is about ("my wife has a
        residence permit and I am still an asylum seeker ... can we both work?"), else []. A status
        named in passing elsewhere in the message ("in het azc, maar met een verblijfsvergunning")
        is not an alternative."""
        folded = fold(text)
        mentions = self.status_mentions(text)
        named = list(dict.fromkeys(g for _, _, g in mentions))
        if len(named) >= 2 and _TWO_PEOPLE.search(folded):
            return named
        groups: List[str] = []
        for (_, end, first), (start, _, second) in zip(mentions, mentions[1:]):
            between = folded[end:start]
            if (
                first != second
                and len(between.split()) <= 4
                and re.search(r"\b(of|en|or|and|en/of|and/or)\b|/|,", between)
                # "in het azc, maar met een verblijfsvergunning": one person, described twice
                and not re.search(r"\b(maar|but|wel|nu|now|inmiddels|al)\b", between)
            ):
                groups += [g for g in (first, second) if g not in groups]
        return groups if len(groups) >= 2 else []

    def rule_for_intent(self, intent: Optional[str]) -> Optional[RuleEntry]:
        return next((r for r in self.rules if r.intent == intent), None)

    def rule(self, rule_id: Optional[str]) -> Optional[RuleEntry]:
        return next((r for r in self.rules if r.id == rule_id), None)

    def facet(self, facet_id: Optional[str]) -> Optional[Facet]:
        """A facet by its full id ("work_permit.duration")."""
        entry_id, _, key = (facet_id or "").partition(".")
        entry = self.rule(entry_id)
        return entry.facet(key) if entry and key else None

    @property
    def facets(self) -> Tuple[Facet, ...]:
        return tuple(f for r in self.rules for f in r.facets)

    def status_group(self, status_id: Optional[str]) -> Optional[StatusGroup]:
        return next((s for s in self.status_groups if s.id == status_id), None)

    def status_in_text(self, text: str) -> Optional[str]:
        """The status group a text mentions (the longest phrase wins, also with one typo in a long
        word), or None."""
        mentions = self.status_mentions(text)
        return max(mentions, key=lambda m: (m[1] - m[0], -m[0]))[2] if mentions else None

    def organisation_in_text(self, text: str) -> Optional[str]:
        """The organisation a text mentions (longest synonym wins), or None."""
        return _longest_mention(
            text, ((o.id, o.synonyms + (o.abbreviation, o.name)) for o in self.organisations.values())
        )

    def organisations_in_text(self, text: str) -> List[str]:
        """Every organisation a text mentions, in the order they appear ("wat doet het COA, en wat
        VluchtelingenWerk?"); where two synonyms overlap, the longer one counts."""
        folded = fold(text)
        spans: List[Tuple[int, int, str]] = []
        for org in self.organisations.values():
            for synonym in org.synonyms + (org.abbreviation, org.name):
                term = fold(synonym).strip()
                if term:
                    pattern = r"(?<!\w)" + re.escape(term) + r"(?!\w)"
                    spans += [(m.start(), m.end(), org.id) for m in re.finditer(pattern, folded)]
        return list(dict.fromkeys(org_id for _, _, org_id in _longest_first(spans)))

    def phrases_in(self, language: str = DEFAULT_LANGUAGE) -> Dict[str, object]:
        """All phrases of `language` (Dutch by default), including `months` and `intent_labels`."""
        language = _language(language)
        if language == DEFAULT_LANGUAGE:
            return self.phrases
        try:
            return self.translated_phrases[language]
        except KeyError:
            raise LookupError("the knowledge base has no %s phrases" % language) from None

    def phrase(self, key: str, language: str = DEFAULT_LANGUAGE) -> str:
        return str(self.phrases_in(language)[key])


# ---------------------------------------------------------------- freshness


def stale_rules(
    kb: KnowledgeBase, today: Optional[dt.date] = None, max_age_days: int = MAX_CHECKED_AGE_DAYS
) -> List[RuleEntry]:
    """The rule entries whose `checked` date is more than `max_age_days` days before `today`
    (default: the current date), oldest first. Each entry carries its `id`, `file` and `checked`."""
    today = today or dt.date.today()
    stale = [r for r in kb.rules if (today - r.checked).days > max_age_days]
    return sorted(stale, key=lambda r: (r.checked, r.id))


# ---------------------------------------------------------------- text matching


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Oekraïense' and 'oekraiense' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
MIN_FUZZY_LENGTH = 8  # single-word status synonyms at least this long are also found with one typo


def _one_edit_apart(a: str, b: str) -> bool:
    """True when `a` and `b` differ by exactly one inserted, deleted or replaced character."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


# Words that say a question is about two (or more) people, each with their own status.
_TWO_PEOPLE = re.compile(
    r"\b(allebei|alle twee|beiden|beide|elk van|ieder van|voor elk|voor ieder|twee kandidaten|twee mensen|"
    r"de een .{1,60} de ander|both|each of|for each|two candidates|two people|two employees|one .{1,60} the other)\b"
)


def _misspelled_mentions(folded: str, words: List[Tuple[str, str]]) -> List[Tuple[int, int, str]]:
    """Status words with one typo ("statushoudr", "verblijfsvergunnig"): only one-word synonyms of
    MIN_FUZZY_LENGTH or more characters (`words`: (synonym, group id)), so short words are never guessed."""
    found = []
    for match in _WORD.finditer(folded):
        token = match.group(0)
        if len(token) < MIN_FUZZY_LENGTH - 1:
            continue
        # the first letter must be right: "o-document" is not a typo of "w-document"
        group = next((g for w, g in words if token[0] == w[0] and _one_edit_apart(token, w)), None)
        if group:
            found.append((match.start(), match.end(), group))
    return found


def _longest_first(spans: List[Tuple[int, int, str]]) -> List[Tuple[int, int, str]]:
    """The spans (start, end, id) that remain where overlapping ones are settled by length (the longest
    wins), left to right."""
    kept: List[Tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept)


# A status phrase that is denied ("geen statushouder", "not a status holder yet") or said to be over
# ("zijn verblijfsvergunning is verlopen", "her protection ended") does not name the person's status.
# Phrases that contain the denial themselves ("nog geen status", "geen verblijfsvergunning") are
# synonyms of their own group and are matched as a whole before this check.
_DENIAL_BEFORE = re.compile(
    r"\b(geen|niet(?! alleen)|nooit|zonder|not(?! only)|no|never|without|isn't|don't|doesn't|haven't|hasn't|didn't)"
    r"\s+(\S+\s+){0,2}$"
)
_ENDED_AFTER = re.compile(
    r"^\s*(is |was |has |have |zijn |werd |got )?(al |been |already )?"
    r"(verlopen|ingetrokken|afgelopen|gestopt|beeindigd|expired|revoked|withdrawn|ended|stopped|ran out)\b"
)


def _denied(folded: str, start: int, end: int) -> bool:
    """Whether the status phrase at folded[start:end] is denied or said to be over, in its clause."""
    clause_start = max(folded.rfind(c, 0, start) for c in ".!?,;:\n")
    before = re.split(r"\b(?:maar|but|wel|nu|now)\b", folded[clause_start + 1 : start])[-1]
    return bool(_DENIAL_BEFORE.search(before) or _ENDED_AFTER.match(folded[end:]))


def _longest_mention(text: str, candidates: Iterable[Tuple[str, Iterable[str]]]) -> Optional[str]:
    folded = fold(text)
    best: Tuple[int, Optional[str]] = (0, None)
    for key, synonyms in candidates:
        for synonym in synonyms:
            term = fold(synonym).strip()
            if not term:
                continue
            if re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", folded) and len(term) > best[0]:
                best = (len(term), key)
    return best[1]


# ---------------------------------------------------------------- loading


class _Problems:
    """Collects problems with their location instead of stopping at the first one."""

    def __init__(self) -> None:
        self.items: List[str] = []

    def add(self, file: str, entry: Optional[str], fld: Optional[str], message: str) -> None:
        where = file
        if entry is not None:
            where += ": entry '%s'" % entry
        if fld is not None:
            where += ": field '%s'" % fld
        self.items.append("%s: %s" % (where, message))


def _read_yaml(path: Path, root_key: str, problems: _Problems) -> list:
    """The value of ROOT_KEY in a knowledge file ([] when the file is missing or broken: a problem)."""
    return _read_document(path, root_key, problems).get(root_key, [])


def _read_document(path: Path, root_key: str, problems: _Problems) -> Dict[str, Any]:
    """A knowledge file as a mapping that has ROOT_KEY ({} when it is missing or broken: a problem)."""
    name = path.name if path.parent.name != "rules" else "rules/" + path.name
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        problems.add(name, None, None, "file is missing")
        return {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = " at line %d" % (mark.line + 1) if mark else ""
        problems.add(name, None, None, "is not valid YAML%s: %s" % (line, getattr(error, "problem", error)))
        return {}
    if not isinstance(data, dict) or not isinstance(data.get(root_key), (list, dict)):
        problems.add(name, None, root_key, "the file must have a top-level '%s:'" % root_key)
        return {}
    return data


def _text(raw: dict, key: str, file: str, entry: str, problems: _Problems, required=True, label=None) -> Optional[str]:
    value = raw.get(key)
    if value is None:
        if required:
            problems.add(file, entry, label or key, "is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(file, entry, label or key, "must be a non-empty text")
        return None
    return " ".join(value.split())


def _string_list(raw: dict, key: str, file: str, entry: str, problems: _Problems) -> Tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add(file, entry, key, "must be a list of texts")
        return ()
    return tuple(v.strip() for v in value)


def _entries(items: list, file: str, problems: _Problems) -> Iterable[Tuple[str, dict]]:
    """Yields (id, raw) for each well-formed entry, reporting malformed and duplicate ids."""
    seen = set()
    for position, raw in enumerate(items, start=1):
        if not isinstance(raw, dict):
            problems.add(file, "#%d" % position, None, "must be a mapping")
            continue
        entry_id = raw.get("id")
        if not isinstance(entry_id, str) or not ID_PATTERN.match(entry_id):
            problems.add(file, "#%d" % position, "id", "must be a snake_case identifier")
            continue
        if entry_id in seen:
            problems.add(file, entry_id, "id", "is used twice")
            continue
        seen.add(entry_id)
        yield entry_id, raw


def _report(problems: _Problems, file: str, entry: Optional[str], found: List[schema.Problem]) -> None:
    for fld, message in found:
        problems.add(file, entry, fld, message)


def _checked_items(
    directory: Path, file: str, root_key: str, model: Type[schema.M], problems: _Problems
) -> Iterator[Tuple[str, schema.M, bool]]:
    """(id, item, valid) for every well-formed entry of FILE, checked against MODEL."""
    for item_id, raw in _entries(_read_yaml(directory / file, root_key, problems), file, problems):
        item, found = schema.validate(model, raw)
        _report(problems, file, item_id, found)
        yield item_id, item, not found


def _english(item: schema.Schema, *names: str) -> Dict[str, Dict[str, str]]:
    """The valid texts of an item's `en:` block, as {"en": {name: text}}."""
    block = item.value("en")
    if block is None:
        return {}
    return {"en": {name: block.value(attr) for name, attr in _names_and_attrs(block, names) if block.value(attr)}}


def _names_and_attrs(block: schema.Schema, names: Tuple[str, ...]) -> List[Tuple[str, str]]:
    """(the name in the file, the model's attribute) of NAMES (`for` is `purpose` in the model)."""
    by_alias = {f.alias: f.name for f in type(block).__fields__.values()}
    return [(name, by_alias.get(name, name)) for name in names]


def _load_status_groups(directory: Path, problems: _Problems) -> Tuple[StatusGroup, ...]:
    file = "status_groups.yml"
    groups = tuple(
        StatusGroup(
            id=gid,
            label=item.value("label") or gid,
            button=item.value("button") or gid,
            synonyms=item.value("synonyms") or (),
            translations=_english(item, "label", "button"),
        )
        for gid, item, _ in _checked_items(directory, file, "status_groups", schema.StatusGroupSchema, problems)
    )
    if groups and sorted(g.id for g in groups) != sorted(STATUS_GROUP_IDS):
        problems.add(file, None, None, "must define exactly the groups %s" % ", ".join(STATUS_GROUP_IDS))
    return groups


def _load_organisations(directory: Path, problems: _Problems) -> Dict[str, Organisation]:
    return {
        oid: Organisation(
            id=oid,
            name=item.value("name") or oid,
            abbreviation=item.value("abbreviation") or item.value("name") or oid,
            description=item.value("description") or "",
            website=str(item.value("website")),
            synonyms=item.value("synonyms") or (),
            translations=_english(item, "description"),
        )
        for oid, item, _ in _checked_items(
            directory, "organisations.yml", "organisations", schema.OrganisationSchema, problems
        )
    }


def _load_themes(directory: Path, problems: _Problems) -> Tuple[Theme, ...]:
    return tuple(
        Theme(id=tid, label=item.value("label") or tid, translations=_english(item, "label"))
        for tid, item, _ in _checked_items(directory, "themes.yml", "themes", schema.ThemeSchema, problems)
    )


@dataclass(frozen=True)
class Routing:
    """routing.yml: how the assistant chooses between entries (see the file's comments)."""

    overlaps: Tuple[FrozenSet[str], ...] = ()
    cues: Dict[str, Tuple[Any, ...]] = field(default_factory=dict)
    cues_hypothetical: Optional[Any] = None
    general_questions: Tuple[Any, ...] = ()


ROUTING_FILE = "routing.yml"


def _load_routing(
    directory: Path, intents: Iterable[str], facet_ids: Optional[Iterable[str]], problems: _Problems
) -> Routing:
    """routing.yml, read once: the overlaps, the cues and the wordings of general questions
    (FACET_IDS None: the facets could not be read, so a facet's cue is not checked against them)."""
    data = _read_document(directory / ROUTING_FILE, "overlaps", problems)
    known = set(intents)
    cues, hypothetical = _cues(data, known, facet_ids, problems)
    return Routing(
        overlaps=_overlaps(data.get("overlaps") or [], known, problems),
        cues=cues,
        cues_hypothetical=hypothetical,
        general_questions=_general_questions(data, problems),
    )


def _overlaps(raw_groups: list, known: Set[str], problems: _Problems) -> Tuple[FrozenSet[str], ...]:
    """`overlaps`: groups of rule intents with neighbouring answers."""
    groups = []
    for index, raw in enumerate(raw_groups):
        where = "overlaps[%d]" % index
        if not isinstance(raw, list) or len(raw) < 2:
            problems.add(ROUTING_FILE, None, where, "must be a list of at least two intents")
            continue
        for intent in raw:
            if intent not in known:
                problems.add(ROUTING_FILE, None, where, "unknown intent %r: use the intent of a rule entry" % (intent,))
        groups.append(frozenset(str(i) for i in raw))
    return tuple(groups)


def _patterns(texts: Iterable[str], file: str, entry: Optional[str], where: str, problems: _Problems) -> List[Any]:
    """The regular expressions TEXTS, compiled case-insensitive; each invalid one is a problem."""
    compiled = []
    for text in texts:
        try:
            compiled.append(re.compile(text, re.IGNORECASE))
        except re.error as error:
            problems.add(file, entry, where, "%r is not a valid regular expression: %s" % (text, error))
    return compiled


def _general_questions(data: Dict[str, Any], problems: _Problems) -> Tuple[Any, ...]:
    """`general_questions`: the wordings of a question about how something works in general."""
    general = data.get("general_questions") or []
    if not isinstance(general, list) or not all(isinstance(x, str) for x in general):
        problems.add(ROUTING_FILE, None, "general_questions", "must be a list of patterns")
        return ()
    return tuple(_patterns(general, ROUTING_FILE, None, "general_questions", problems))


def _cues(
    data: Dict[str, Any], known: Set[str], facet_ids: Optional[Iterable[str]], problems: _Problems
) -> Tuple[Dict[str, Tuple[Any, ...]], Optional[Any]]:
    """`cues`: per rule intent or facet id, the patterns that settle the choice for it; and
    `cues_hypothetical`, the words that make a cue after them in its sentence a supposition."""
    hypothetical = None
    if data.get("cues_hypothetical") is not None:
        compiled = _patterns([str(data["cues_hypothetical"])], ROUTING_FILE, None, "cues_hypothetical", problems)
        hypothetical = compiled[0] if compiled else None
    raw = data.get("cues")
    if raw is None:
        return {}, hypothetical
    if not isinstance(raw, dict):
        problems.add(ROUTING_FILE, None, "cues", "must map a rule intent to a list of patterns")
        return {}, hypothetical
    cues: Dict[str, Tuple[Any, ...]] = {}
    facets = None if facet_ids is None else set(facet_ids)
    for intent, texts in raw.items():
        where = "cues.%s" % intent
        facet_key = "." in str(intent)
        if (facet_key and facets is not None and intent not in facets) or (not facet_key and intent not in known):
            problems.add(
                ROUTING_FILE,
                None,
                where,
                "unknown intent or facet %r: use a rule entry's intent or a facet id" % (intent,),
            )
        elif not isinstance(texts, list) or not texts or not all(isinstance(x, str) for x in texts):
            problems.add(ROUTING_FILE, None, where, "must be a non-empty list of patterns")
        else:
            cues[str(intent)] = tuple(_patterns(texts, ROUTING_FILE, None, where, problems))
    return cues, hypothetical


def _load_refusals(directory: Path, phrases: Dict[str, object], problems: _Problems) -> Tuple[Refusal, ...]:
    """refusals.yml: what is out of scope, how it is recognised and which phrase answers it."""
    file = "refusals.yml"
    refusals = []
    for rid, raw in _entries(_read_yaml(directory / file, "refusals", problems), file, problems):
        _reject_unknown(raw, ("id", "reply", "patterns", "screen", "decides"), file, rid, problems)
        reply = _text(raw, "reply", file, rid, problems) or ""
        if reply and phrases and reply not in phrases:
            problems.add(file, rid, "reply", "unknown phrase %r: add it to phrases.yml and phrases_en.yml" % reply)
        patterns = _patterns(_string_list(raw, "patterns", file, rid, problems), file, rid, "patterns", problems)
        if not patterns:
            problems.add(file, rid, "patterns", "needs at least one pattern")
        refusals.append(
            Refusal(
                id=rid,
                reply=reply,
                patterns=tuple(patterns),
                screen=bool(raw.get("screen", False)),
                decides=bool(raw.get("decides", False)),
            )
        )
    return tuple(refusals)


def _load_phrases(directory: Path, problems: _Problems, language: str = DEFAULT_LANGUAGE) -> Dict[str, object]:
    """The one reader of phrases.yml and its translations (phrases_<language>.yml)."""
    file = phrases_file(language)
    phrases = _read_yaml(directory / file, "phrases", problems)
    if phrases and not isinstance(phrases, dict):
        problems.add(file, None, "phrases", "must be a mapping of key: text")
        return {}
    return dict(phrases or {})


def _placeholders(text: str) -> Optional[List[str]]:
    """The {placeholders} of a format text, sorted; None when the braces are malformed."""
    try:
        return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name is not None})
    except ValueError:
        return None


def _compare_phrases(dutch: Dict, translated: Dict, file: str, problems: _Problems, prefix: str = "") -> None:
    """A translation of phrases.yml has exactly its keys (also inside mappings such as
    `intent_labels`), lists of the same length (`months`) and the same placeholders per text."""
    for key, original in dutch.items():
        name = prefix + str(key)
        if key not in translated:
            problems.add(file, name, None, "is missing (phrases.yml has it)")
            continue
        value = translated[key]
        if isinstance(original, dict):
            if isinstance(value, dict):
                _compare_phrases(original, value, file, problems, name + ".")
            else:
                problems.add(file, name, None, "must be a mapping of key: text, like in phrases.yml")
        elif isinstance(original, list):
            if (
                not isinstance(value, list)
                or len(value) != len(original)
                or not all(isinstance(v, str) and v.strip() for v in value)
            ):
                problems.add(file, name, None, "must be a list of %d texts, like in phrases.yml" % len(original))
        elif not isinstance(value, str) or not value.strip():
            problems.add(file, name, None, "must be a non-empty text")
        else:
            wanted, found = _placeholders(str(original)), _placeholders(value)
            if found is None:
                problems.add(file, name, "placeholders", "has unbalanced braces; use {name} placeholders only")
            elif wanted is not None and found != wanted:
                show = lambda names: ", ".join("{%s}" % n for n in names) or "none"  # noqa: E731
                problems.add(file, name, "placeholders", "has %s, but phrases.yml has %s" % (show(found), show(wanted)))
    for key in translated:
        if key not in dutch:
            problems.add(file, prefix + str(key), None, "is not in phrases.yml (the keys must be the same)")


def _load_helpdesk(directory: Path, problems: _Problems) -> Tuple[HelpdeskContact, ...]:
    file = "helpdesk.yml"
    before = len(problems.items)
    if not _read_yaml(directory / file, "helpdesk", problems) and len(problems.items) == before:
        problems.add(file, None, "helpdesk", "must list at least one contact")
        return ()
    if len(problems.items) > before:
        return ()
    return tuple(
        HelpdeskContact(
            id=cid,
            name=item.value("name") or cid,
            purpose=item.value("purpose") or "",
            url=str(item.value("url")),
            phone=item.value("phone"),
            hours=item.value("hours"),
            translations=_english(item, "for", "hours"),
        )
        for cid, item, _ in _checked_items(directory, file, "helpdesk", schema.HelpdeskSchema, problems)
    )


def _reject_unknown(
    raw: dict, allowed: Tuple[str, ...], file: str, entry: str, problems: _Problems, prefix: str = ""
) -> None:
    """A field the schema does not know is an error: a typo such as `anwser` must not pass silently."""
    for extra in sorted(set(map(str, raw)) - set(allowed)):
        problems.add(file, entry, prefix + extra, "is not a known field (%s)" % ", ".join(allowed))


def _source(item: schema.SourceSchema) -> Source:
    as_of = item.value("as_of")
    return Source(
        url=str(item.value("url")),
        organisation=str(item.value("organisation")),
        as_of=dt.date(as_of.year, as_of.month, as_of.day) if as_of else None,
        as_of_day=bool(as_of) and not isinstance(as_of, schema.MonthDate),
    )


def _check_sources(
    items: Optional[List[schema.SourceSchema]], file: str, entry: str, ctx: dict, problems: _Problems
) -> Tuple[Source, ...]:
    """What the schema cannot know of `sources:`: a known organisation, an `as_of` not in the future."""
    sources = []
    for number, item in enumerate(items or [], start=1):
        fld = "sources[%d]" % number
        if item.value("organisation") not in ctx["organisations"]:
            problems.add(file, entry, fld + ".organisation", "unknown organisation '%s'" % item.value("organisation"))
        source = _source(item)
        if source.as_of is not None and source.as_of > ctx["today"]:
            problems.add(file, entry, fld + ".as_of", "lies in the future (%s)" % source.as_of)
        sources.append(source)
    return tuple(sources)


def _load_rule(raw: dict, rid: str, file: str, ctx: dict, problems: _Problems) -> Optional[RuleEntry]:
    item, found = schema.validate(schema.RuleSchema, raw)
    _report(problems, file, rid, found)
    before = len(problems.items) - len(found)
    get = item.value
    if get("theme") and get("theme") not in ctx["themes"]:
        problems.add(file, rid, "theme", "unknown theme '%s' (see themes.yml)" % get("theme"))
    for oid in get("organisations") or ():
        if oid not in ctx["organisations"]:
            problems.add(file, rid, "organisations", "unknown organisation '%s'" % oid)
    sources = _check_sources(get("sources"), file, rid, ctx, problems)
    checked = get("checked")
    if checked is not None and checked > ctx["today"]:
        problems.add(file, rid, "checked", "lies in the future (%s)" % checked)
    newest = max((s.as_of for s in sources if s.as_of), default=None)
    if checked is not None and newest is not None and checked < newest:
        problems.add(
            file,
            rid,
            "checked",
            "%s lies before the newest as_of of its sources (%s): check the entry against them" % (checked, newest),
        )
    if len(problems.items) > before:
        return None
    english = get("en")
    return RuleEntry(
        id=rid,
        intent=get("intent"),
        theme=get("theme"),
        title=get("title"),
        state=get("state"),
        organisations=get("organisations"),
        sources=sources,
        checked=checked,
        file=file,
        answers=item.status_answers(),
        answer=get("answer"),
        pending=get("pending"),
        pending_for=get("pending_for"),
        statuses=get("statuses"),
        pending_from=get("pending_from"),
        valid_from=get("valid_from"),
        valid_until=get("valid_until"),
        translations={
            "en": RuleText(
                title=english.title, answer=english.answer, answers=dict(english.answers or {}), pending=english.pending
            )
        },
    )


# ---------------------------------------------------------------- facets


def _facet_text(item: schema.FacetTextSchema) -> FacetText:
    return FacetText(
        question=item.question,
        label=item.label,
        answer=item.answer,
        answers=dict(item.answers or {}),
        phrasings=item.phrasings,
    )


def _load_facets(directory: Path, rules: List[RuleEntry], ctx: dict, problems: _Problems) -> List[RuleEntry]:
    """Reads facets/<theme>.yml and returns the rules with their facets attached."""
    by_id = {r.id: r for r in rules}
    attached: Dict[str, List[Facet]] = {r.id: [] for r in rules}
    seen_phrasings: Dict[str, str] = {}
    for path in sorted((directory / "facets").glob("*.yml")):
        file = "facets/" + path.name
        theme = path.stem
        if theme not in ctx["themes"]:
            problems.add(file, None, None, "is not named after a theme of themes.yml")
        for position, raw in enumerate(_read_yaml(path, "facets", problems), start=1):
            key = raw.get("id") if isinstance(raw, dict) else None
            entry_id = raw.get("entry") if isinstance(raw, dict) else None
            if not isinstance(key, str) or not ID_PATTERN.match(key):
                problems.add(file, "#%d" % position, "id", "must be a snake_case identifier")
                continue
            where = "%s.%s" % (entry_id or "?", key)
            entry = by_id.get(str(entry_id))
            if entry is None:
                problems.add(file, where, "entry", "unknown entry '%s'" % entry_id if entry_id else "is missing")
                continue
            if entry.theme != theme:
                problems.add(
                    file, where, "entry", "belongs to theme '%s'; put it in facets/%s.yml" % (entry.theme, entry.theme)
                )
            if any(f.key == key for f in attached[entry.id]):
                problems.add(file, where, "id", "is used twice in entry '%s'" % entry.id)
                continue
            item, found = schema.validate(schema.FacetSchema, raw)
            _report(problems, file, where, found)
            sources = _check_sources(item.value("sources"), file, where, ctx, problems)
            if found:
                continue
            texts = {DEFAULT_LANGUAGE: _facet_text(item), "en": _facet_text(item.en)}
            for text in texts.values():
                for phrasing in text.phrasings:
                    folded = fold(" ".join(phrasing.split()))
                    if folded in seen_phrasings and seen_phrasings[folded] != where:
                        problems.add(
                            file,
                            where,
                            "phrasings",
                            "'%s' is also a phrasing of %s" % (phrasing, seen_phrasings[folded]),
                        )
                    seen_phrasings[folded] = where
            attached[entry.id].append(
                Facet(
                    id=where,
                    key=key,
                    entry=entry.id,
                    file=file,
                    texts=texts,
                    sources=sources,
                    statuses=tuple(item.value("statuses") or ()),
                )
            )
    result = []
    for rule in rules:
        updated = dataclasses.replace(rule, facets=tuple(attached[rule.id]))
        newest = updated.newest_source_date
        if newest and rule.checked and rule.checked < newest:
            problems.add(
                rule.file,
                rule.id,
                "checked",
                "%s lies before the newest as_of of its facets' sources (%s)" % (rule.checked, newest),
            )
        result.append(updated)
    return result


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yml")):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _directory(directory: Optional[Path]) -> Path:
    return Path(directory or os.environ.get("REGELHULP_KNOWLEDGE") or DEFAULT_DIR)


def load_phrases(directory: Optional[Path] = None, language: str = DEFAULT_LANGUAGE) -> Dict[str, object]:
    """Only the phrases, for processes that need the fixed texts but not the rules (the channels):
    phrases.yml for Dutch (the default), phrases_<language>.yml, checked against phrases.yml, otherwise."""
    language = _language(language)
    directory = _directory(directory)
    problems = _Problems()
    phrases = _load_phrases(directory, problems, language)
    if language != DEFAULT_LANGUAGE and not problems.items:
        dutch = _load_phrases(directory, problems)
        if not problems.items:
            _compare_phrases(dutch, phrases, phrases_file(language), problems)
    if problems.items:
        raise KnowledgeError(problems.items)
    return phrases


def load(directory: Optional[Path] = None, today: Optional[dt.date] = None) -> KnowledgeBase:
    """Loads and validates the knowledge base; raises KnowledgeError on any problem.

    The directory defaults to $REGELHULP_KNOWLEDGE, else the project's knowledge/ folder.
    """
    directory = _directory(directory)
    problems = _Problems()
    if not directory.is_dir():
        raise KnowledgeError(["%s: the knowledge directory does not exist" % directory])
    status_groups = _load_status_groups(directory, problems)
    organisations = _load_organisations(directory, problems)
    themes = _load_themes(directory, problems)
    before = len(problems.items)
    phrases = _load_phrases(directory, problems)
    dutch_phrases_ok = len(problems.items) == before
    translated_phrases: Dict[str, Dict[str, object]] = {}
    for language in TRANSLATIONS:
        before = len(problems.items)
        translated_phrases[language] = _load_phrases(directory, problems, language)
        if dutch_phrases_ok and len(problems.items) == before:
            _compare_phrases(phrases, translated_phrases[language], phrases_file(language), problems)
    helpdesk = _load_helpdesk(directory, problems)
    ctx = {"themes": {t.id for t in themes}, "organisations": organisations, "today": today or dt.date.today()}

    rules: List[RuleEntry] = []
    rule_files = sorted((directory / "rules").glob("*.yml"))
    if not rule_files:
        problems.add("rules/", None, None, "no rule files found")
    seen_ids: Dict[str, str] = {}
    seen_intents: Dict[str, str] = {}
    for path in rule_files:
        file = "rules/" + path.name
        for rid, raw in _entries(_read_yaml(path, "entries", problems), file, problems):
            if rid in seen_ids:
                problems.add(file, rid, "id", "is also used in %s" % seen_ids[rid])
                continue
            seen_ids[rid] = file
            entry = _load_rule(raw, rid, file, ctx, problems)
            if entry is None:
                continue
            if entry.intent in seen_intents:
                problems.add(
                    file,
                    rid,
                    "intent",
                    "'%s' is also answered by entry '%s'" % (entry.intent, seen_intents[entry.intent]),
                )
                continue
            seen_intents[entry.intent] = rid
            rules.append(entry)

    facet_ids: Optional[List[str]] = None  # unknown while the facets could not be read
    if not problems.items:
        rules = _load_facets(directory, rules, ctx, problems)
        facet_ids = [facet.id for rule in rules for facet in rule.facets]
    routing = _load_routing(directory, seen_intents, facet_ids, problems)
    refusals = _load_refusals(directory, phrases, problems)
    if problems.items:
        raise KnowledgeError(problems.items)
    return KnowledgeBase(
        status_groups=status_groups,
        organisations=organisations,
        themes=themes,
        rules=tuple(rules),
        phrases=phrases,
        fingerprint=_fingerprint(directory),
        helpdesk=helpdesk,
        translated_phrases=translated_phrases,
        overlaps=routing.overlaps,
        cues=routing.cues,
        cues_hypothetical=routing.cues_hypothetical,
        general_questions=routing.general_questions,
        refusals=refusals,
    )


_shared: Dict[Tuple[str, str], KnowledgeBase] = {}


def load_shared(directory: Optional[Path] = None) -> KnowledgeBase:
    """The knowledge base loaded once per process and directory (and per day, for the date checks):
    for the NLU components, which each need it when the Rasa server loads the model."""
    key = (str(_directory(directory)), dt.date.today().isoformat())
    if key not in _shared:
        _shared[key] = load(directory)
    return _shared[key]
