"""The knowledge base: schema, loader and validation.

One loader serves the action server (answers), the spaCy pipeline builder (entity-ruler
patterns) and `make validate`. Loading either returns a complete, valid `KnowledgeBase` or
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
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

import yaml

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "knowledge"
STATUS_GROUP_IDS = ("asylum_seeker", "status_holder", "ukrainian", "other")
RULE_STATES = ("in_force", "pending_change", "unclear")
MAX_ANSWER_WORDS = 120
MAX_COMBINED_WORDS = 170  # shared answer + one status-specific answer
MAX_CHECKED_AGE_DAYS = 180  # an entry checked longer ago than this should be checked again
MAX_FACET_WORDS = 50  # the direct answer to one concrete question
MAX_LABEL_WORDS = 6  # a facet's button title
MIN_PHRASINGS = 4  # example phrasings of a facet, per language
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_LANGUAGE = "nl"  # the language of the plain fields (title, answer, label, ...) and of phrases.yml
TRANSLATIONS = {"en": "English"}  # the other languages: an `en:` block per item and phrases_en.yml
LANGUAGES = (DEFAULT_LANGUAGE,) + tuple(TRANSLATIONS)
RULE_TEXT_FIELDS = ("title", "answer", "answers", "pending")  # what an entry's `en:` block may hold
RULE_FIELDS = ("id", "intent", "theme", "title", "state", "answer", "answers", "pending", "pending_for",
               "pending_from", "from", "until", "organisations", "sources", "checked") + tuple(TRANSLATIONS)
SOURCE_FIELDS = ("url", "organisation", "as_of")
FACET_FIELDS = ("id", "entry", "question", "label", "answer", "answers", "statuses", "sources", "phrasings") + tuple(TRANSLATIONS)
FACET_TEXT_FIELDS = ("question", "label", "answer", "answers", "phrasings")


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
        raise LookupError("%s '%s' has no %s text for '%s'" % (type(item).__name__, getattr(item, "id", "?"), language, name)) from None


class KnowledgeError(Exception):
    """The knowledge base is broken; `problems` names file, entry and field of each fault."""

    def __init__(self, problems: List[str]):
        self.problems = problems
        super().__init__(
            "The knowledge base has %d problem(s):\n- %s" % (len(problems), "\n- ".join(problems))
        )


@dataclass(frozen=True)
class StatusGroup:
    id: str
    label: str
    button: str
    synonyms: Tuple[str, ...]
    translations: Dict[str, Dict[str, str]] = field(default_factory=dict, hash=False)  # {"en": {"label": ..., "button": ...}}

    def label_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return _translated(self, language, "label")

    def button_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return _translated(self, language, "button")


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    abbreviation: str
    description: str
    website: str
    synonyms: Tuple[str, ...]
    translations: Dict[str, Dict[str, str]] = field(default_factory=dict, hash=False)  # {"en": {"description": ...}}

    def description_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return _translated(self, language, "description")


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    translations: Dict[str, Dict[str, str]] = field(default_factory=dict, hash=False)  # {"en": {"label": ...}}

    def label_in(self, language: str = DEFAULT_LANGUAGE) -> str:
        return _translated(self, language, "label")


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
        text = self.text_in(language)
        parts = [text.answers.get(status or "other") or text.answers["other"]] if self.depends_on_status else []
        if text.answer:
            parts.append(text.answer)
        return "\n\n".join(parts)


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
    refusals: Tuple[Refusal, ...] = ()  # refusals.yml, in order

    def overlap(self, first: Optional[str], second: Optional[str]) -> bool:
        """Whether two intents answer neighbouring questions (routing.yml)."""
        return any(first in group and second in group for group in self.overlaps)

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
        mentions: List[Tuple[int, int, str]] = []
        for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
            if all(span[1] <= m[0] or span[0] >= m[1] for m in mentions):
                mentions.append(span)
        return sorted(mentions)

    def statuses_side_by_side(self, text: str) -> List[str]:
        """Two or more status groups named as alternatives ("een asielzoeker of een statushouder",
        "asylum seekers and status holders"), else []. A status named in passing elsewhere in the
        message ("in het azc, maar met een verblijfsvergunning") is not an alternative."""
        folded = fold(text)
        mentions = self.status_mentions(text)
        groups: List[str] = []
        for (_, end, first), (start, _, second) in zip(mentions, mentions[1:]):
            between = folded[end:start]
            if first != second and len(between.split()) <= 4 and re.search(r"\b(of|en|or|and|en/of|and/or)\b|/|,", between):
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
    return a[i + (len(a) == len(b)):] == b[i + 1:]


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
    name = path.name if path.parent.name != "rules" else "rules/" + path.name
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        problems.add(name, None, None, "file is missing")
        return []
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = " at line %d" % (mark.line + 1) if mark else ""
        problems.add(name, None, None, "is not valid YAML%s: %s" % (line, getattr(error, "problem", error)))
        return []
    if not isinstance(data, dict) or not isinstance(data.get(root_key), (list, dict)):
        problems.add(name, None, root_key, "the file must have a top-level '%s:'" % root_key)
        return []
    return data[root_key]


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


def _https(url: object) -> bool:
    return isinstance(url, str) and re.match(r"^https://[^\s/]+\.[^\s]+$", url) is not None


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


def _load_status_groups(directory: Path, problems: _Problems) -> Tuple[StatusGroup, ...]:
    file = "status_groups.yml"
    groups = []
    for gid, raw in _entries(_read_yaml(directory / file, "status_groups", problems), file, problems):
        groups.append(
            StatusGroup(
                id=gid,
                label=_text(raw, "label", file, gid, problems) or gid,
                button=_text(raw, "button", file, gid, problems) or gid,
                synonyms=_string_list(raw, "synonyms", file, gid, problems),
                translations=_translations(raw, ("label", "button"), file, gid, problems),
            )
        )
    found = tuple(g.id for g in groups)
    if groups and sorted(found) != sorted(STATUS_GROUP_IDS):
        problems.add(file, None, None, "must define exactly the groups %s" % ", ".join(STATUS_GROUP_IDS))
    return tuple(groups)


def _load_organisations(directory: Path, problems: _Problems) -> Dict[str, Organisation]:
    file = "organisations.yml"
    organisations = {}
    for oid, raw in _entries(_read_yaml(directory / file, "organisations", problems), file, problems):
        website = raw.get("website")
        if not _https(website):
            problems.add(file, oid, "website", "must be an https URL")
        organisations[oid] = Organisation(
            id=oid,
            name=_text(raw, "name", file, oid, problems) or oid,
            abbreviation=_text(raw, "abbreviation", file, oid, problems, required=False)
            or str(raw.get("name") or oid),
            description=_text(raw, "description", file, oid, problems) or "",
            website=str(website),
            synonyms=_string_list(raw, "synonyms", file, oid, problems),
            translations=_translations(raw, ("description",), file, oid, problems),
        )
    return organisations


def _load_themes(directory: Path, problems: _Problems) -> Tuple[Theme, ...]:
    file = "themes.yml"
    return tuple(
        Theme(
            id=tid,
            label=_text(raw, "label", file, tid, problems) or tid,
            translations=_translations(raw, ("label",), file, tid, problems),
        )
        for tid, raw in _entries(_read_yaml(directory / file, "themes", problems), file, problems)
    )


def _load_overlaps(directory: Path, intents: Iterable[str], problems: _Problems) -> Tuple[FrozenSet[str], ...]:
    """routing.yml: groups of rule intents with neighbouring answers."""
    file = "routing.yml"
    known = set(intents)
    groups = []
    for index, raw in enumerate(_read_yaml(directory / file, "overlaps", problems)):
        where = "overlaps[%d]" % index
        if not isinstance(raw, list) or len(raw) < 2:
            problems.add(file, None, where, "must be a list of at least two intents")
            continue
        for intent in raw:
            if intent not in known:
                problems.add(file, None, where, "unknown intent %r: use the intent of a rule entry" % (intent,))
        groups.append(frozenset(str(i) for i in raw))
    return tuple(groups)


def _load_refusals(directory: Path, phrases: Dict[str, object], problems: _Problems) -> Tuple[Refusal, ...]:
    """refusals.yml: what is out of scope, how it is recognised and which phrase answers it."""
    file = "refusals.yml"
    refusals = []
    for rid, raw in _entries(_read_yaml(directory / file, "refusals", problems), file, problems):
        _reject_unknown(raw, ("id", "reply", "patterns", "screen", "decides"), file, rid, problems)
        reply = _text(raw, "reply", file, rid, problems) or ""
        if reply and phrases and reply not in phrases:
            problems.add(file, rid, "reply", "unknown phrase %r: add it to phrases.yml and phrases_en.yml" % reply)
        patterns = []
        for pattern in _string_list(raw, "patterns", file, rid, problems):
            try:
                patterns.append(re.compile(pattern, re.IGNORECASE))
            except re.error as error:
                problems.add(file, rid, "patterns", "%r is not a valid regular expression: %s" % (pattern, error))
        if not patterns:
            problems.add(file, rid, "patterns", "needs at least one pattern")
        refusals.append(Refusal(id=rid, reply=reply, patterns=tuple(patterns), screen=bool(raw.get("screen", False)),
                                decides=bool(raw.get("decides", False))))
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
            if not isinstance(value, list) or len(value) != len(original) or not all(isinstance(v, str) and v.strip() for v in value):
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


def _translation_block(raw: dict, language: str, file: str, entry: str, problems: _Problems) -> Optional[dict]:
    block = raw.get(language)
    if block is None:
        problems.add(file, entry, language, "is missing: every entry needs its %s texts" % TRANSLATIONS[language])
        return None
    if not isinstance(block, dict):
        problems.add(file, entry, language, "must be a mapping of field: text")
        return None
    return block


def _translations(raw: dict, fields: Tuple[str, ...], file: str, entry: str, problems: _Problems) -> Dict[str, Dict[str, str]]:
    """The `en:` block of a status group, theme or organisation: exactly `fields`, all texts."""
    result: Dict[str, Dict[str, str]] = {}
    for language in TRANSLATIONS:
        block = _translation_block(raw, language, file, entry, problems)
        if block is None:
            continue
        texts = {}
        for name in fields:
            text = _text(block, name, file, entry, problems, label="%s.%s" % (language, name))
            if text is not None:
                texts[name] = text
        for extra in sorted(set(map(str, block)) - set(fields)):
            problems.add(file, entry, "%s.%s" % (language, extra), "is not translated here (expected: %s)" % ", ".join(fields))
        result[language] = texts
    return result


PHONE_PATTERN = re.compile(r"^\+?\d[\d -]{3,}\d$")


def _load_helpdesk(directory: Path, problems: _Problems) -> Tuple[HelpdeskContact, ...]:
    file = "helpdesk.yml"
    before = len(problems.items)
    items = _read_yaml(directory / file, "helpdesk", problems)
    if not items and len(problems.items) == before:
        problems.add(file, None, "helpdesk", "must list at least one contact")
    contacts = []
    for cid, raw in _entries(items, file, problems):
        if not _https(raw.get("url")):
            problems.add(file, cid, "url", "must be an https URL")
        phone = _text(raw, "phone", file, cid, problems, required=False)
        if phone and not PHONE_PATTERN.match(phone):
            problems.add(file, cid, "phone", "must be a phone number of digits, spaces and dashes")
        hours = _text(raw, "hours", file, cid, problems, required=False)
        contacts.append(
            HelpdeskContact(
                id=cid,
                name=_text(raw, "name", file, cid, problems) or cid,
                purpose=_text(raw, "for", file, cid, problems) or "",
                url=str(raw.get("url")),
                phone=phone,
                hours=hours,
                translations=_translations(raw, ("for", "hours") if hours else ("for",), file, cid, problems),
            )
        )
    return tuple(contacts)


def _word_count(text: str) -> int:
    return len(re.findall(r"\S+", text))


def _reject_unknown(raw: dict, allowed: Tuple[str, ...], file: str, entry: str, problems: _Problems, prefix: str = "") -> None:
    """A field the schema does not know is an error: a typo such as `anwser` must not pass silently."""
    for extra in sorted(set(map(str, raw)) - set(allowed)):
        problems.add(file, entry, prefix + extra, "is not a known field (%s)" % ", ".join(allowed))


DATE_PATTERN = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def _date(raw: dict, key: str, file: str, entry: str, problems: _Problems, required: bool = False,
          month_ok: bool = False, label: Optional[str] = None) -> Optional[dt.date]:
    """A date field (2026-11-22); with `month_ok` also a month (2026-02, read as its first day)."""
    value = raw.get(key)
    if value is None:
        if required:
            problems.add(file, entry, label or key, "is missing")
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    match = DATE_PATTERN.match(str(value))
    if match and (match.group(3) or month_ok):
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
        except ValueError:
            pass
    problems.add(file, entry, label or key, "must be a date like 2026-11-22%s" % (" or a month like 2026-02" if month_ok else ""))
    return None


def _load_sources(raw_sources: object, file: str, entry: str, ctx: dict, problems: _Problems,
                  required: bool, prefix: str = "") -> Tuple[Source, ...]:
    """`sources:` of an entry or a facet: https URL, publishing organisation, `as_of` (the version read)."""
    if raw_sources is None and not required:
        return ()
    if not isinstance(raw_sources, list) or not raw_sources:
        problems.add(file, entry, prefix + "sources", "must list at least one source")
        return ()
    sources = []
    for number, src in enumerate(raw_sources, start=1):
        fld = "%ssources[%d]" % (prefix, number)
        if not isinstance(src, dict):
            problems.add(file, entry, fld, "must have 'url', 'organisation' and 'as_of'")
            continue
        if not _https(src.get("url")):
            problems.add(file, entry, fld + ".url", "must be an https URL")
        if src.get("organisation") not in ctx["organisations"]:
            problems.add(file, entry, fld + ".organisation", "unknown organisation '%s'" % src.get("organisation"))
        as_of = _date(src, "as_of", file, entry, problems, required=True, month_ok=True, label=fld + ".as_of")
        if as_of is not None and as_of > ctx["today"]:
            problems.add(file, entry, fld + ".as_of", "lies in the future (%s)" % as_of)
        _reject_unknown(src, SOURCE_FIELDS, file, entry, problems, fld + ".")
        written = DATE_PATTERN.match(str(src.get("as_of")))
        sources.append(Source(url=str(src.get("url")), organisation=str(src.get("organisation")), as_of=as_of,
                              as_of_day=bool(written and written.group(3))))
    return tuple(sources)


def _load_rule(raw: dict, rid: str, file: str, ctx: dict, problems: _Problems) -> Optional[RuleEntry]:
    before = len(problems.items)
    intent = _text(raw, "intent", file, rid, problems)
    if intent and not ID_PATTERN.match(intent):
        problems.add(file, rid, "intent", "must be a snake_case intent name")
    theme = _text(raw, "theme", file, rid, problems)
    if theme and theme not in ctx["themes"]:
        problems.add(file, rid, "theme", "unknown theme '%s' (see themes.yml)" % theme)
    title = _text(raw, "title", file, rid, problems)
    state = raw.get("state")
    if state not in RULE_STATES:
        problems.add(file, rid, "state", "must be one of %s" % ", ".join(RULE_STATES))

    answers: Dict[str, str] = {}
    answer = _text(raw, "answer", file, rid, problems, required="answers" not in raw)
    if "answers" in raw:
        if not isinstance(raw["answers"], dict):
            problems.add(file, rid, "answers", "must map status groups to texts")
        else:
            for group in STATUS_GROUP_IDS:
                text = _text(raw["answers"], group, file, rid, problems, label="answers." + group)
                if text is not None:
                    answers[group] = text
            for extra in set(raw["answers"]) - set(STATUS_GROUP_IDS):
                problems.add(file, rid, "answers.%s" % extra, "is not a status group")
    _check_lengths(answer, answers, "", file, rid, problems)
    pending = _text(raw, "pending", file, rid, problems, required=False)
    pending_for = _string_list(raw, "pending_for", file, rid, problems)
    for group in pending_for:
        if group not in STATUS_GROUP_IDS:
            problems.add(file, rid, "pending_for", "'%s' is not a status group" % group)
    if state == "pending_change" and not pending:
        problems.add(file, rid, "pending", "an entry with state pending_change must describe the change")

    organisations = _string_list(raw, "organisations", file, rid, problems)
    if not organisations:
        problems.add(file, rid, "organisations", "must name at least one organisation")
    for oid in organisations:
        if oid not in ctx["organisations"]:
            problems.add(file, rid, "organisations", "unknown organisation '%s'" % oid)

    sources = _load_sources(raw.get("sources"), file, rid, ctx, problems, required=True)
    checked = _date(raw, "checked", file, rid, problems, required=True)
    if checked is not None and checked > ctx["today"]:
        problems.add(file, rid, "checked", "lies in the future (%s)" % checked)
    newest = max((s.as_of for s in sources if s.as_of), default=None)
    if checked is not None and newest is not None and checked < newest:
        problems.add(file, rid, "checked", "%s lies before the newest as_of of its sources (%s): check the entry against them" % (checked, newest))
    valid_from = _date(raw, "from", file, rid, problems)
    valid_until = _date(raw, "until", file, rid, problems)
    if valid_from and valid_until and valid_from >= valid_until:
        problems.add(file, rid, "until", "must lie after 'from'")
    pending_from = _date(raw, "pending_from", file, rid, problems)
    if pending_from and not pending:
        problems.add(file, rid, "pending_from", "is the date of a planned change, but the entry has no 'pending'")
    _reject_unknown(raw, RULE_FIELDS, file, rid, problems)

    translations = {}
    for language in TRANSLATIONS:
        text = _load_rule_text(raw, language, file, rid, problems)
        if text is not None:
            translations[language] = text

    if len(problems.items) > before:
        return None
    return RuleEntry(
        id=rid,
        intent=intent or "",
        theme=theme or "",
        title=title or "",
        state=state,
        organisations=organisations,
        sources=tuple(sources),
        checked=checked,
        file=file,
        answers=answers,
        answer=answer,
        pending=pending,
        pending_for=pending_for,
        pending_from=pending_from,
        valid_from=valid_from,
        valid_until=valid_until,
        translations=translations,
    )


def _check_lengths(answer: Optional[str], answers: Dict[str, str], prefix: str, file: str, rid: str, problems: _Problems) -> None:
    """The word limits, the same in every language; `prefix` is '' for Dutch, 'en.' for English."""
    for key, text in list(answers.items()) + [("answer", answer)]:
        if text and _word_count(text) > MAX_ANSWER_WORDS:
            where = prefix + ("answers.%s" % key if key != "answer" else "answer")
            problems.add(file, rid, where, "has %d words; the limit is %d" % (_word_count(text), MAX_ANSWER_WORDS))
    if answer and answers:
        longest = max(_word_count(t) for t in answers.values()) + _word_count(answer)
        if longest > MAX_COMBINED_WORDS:
            problems.add(file, rid, prefix + "answers", "'%sanswer' plus the longest status answer has %d words; the limit is %d" % (prefix, longest, MAX_COMBINED_WORDS))


def _load_rule_text(raw: dict, language: str, file: str, rid: str, problems: _Problems) -> Optional[RuleText]:
    """The entry's `en:` block: a text for every Dutch text field (title, answer, each key of
    answers, pending) and nothing else, within the same word limits."""
    block = _translation_block(raw, language, file, rid, problems)
    if block is None:
        return None
    before = len(problems.items)
    where = lambda name: "%s.%s" % (language, name)  # noqa: E731
    title = _text(block, "title", file, rid, problems, label=where("title"))

    def mirrored(name: str) -> Optional[str]:
        has_dutch = raw.get(name) is not None
        if not has_dutch and name in block:
            problems.add(file, rid, where(name), "the Dutch entry has no '%s'; remove it here or add the Dutch text" % name)
            return None
        return _text(block, name, file, rid, problems, required=has_dutch, label=where(name))

    answer = mirrored("answer")
    pending = mirrored("pending")

    answers: Dict[str, str] = {}
    dutch_answers = raw.get("answers")
    if dutch_answers is None:
        if "answers" in block:
            problems.add(file, rid, where("answers"), "the Dutch entry has no 'answers'; remove it here or add the Dutch texts")
    elif block.get("answers") is None:
        problems.add(file, rid, where("answers"), "is missing (the Dutch entry has 'answers')")
    elif not isinstance(block["answers"], dict):
        problems.add(file, rid, where("answers"), "must map the same status groups as 'answers' to texts")
    elif isinstance(dutch_answers, dict):
        keys = [g for g in STATUS_GROUP_IDS if g in dutch_answers] + sorted(set(map(str, dutch_answers)) - set(STATUS_GROUP_IDS))
        for key in keys:
            text = _text(block["answers"], key, file, rid, problems, label=where("answers." + key))
            if text is not None:
                answers[key] = text
        for extra in sorted(set(map(str, block["answers"])) - set(keys)):
            problems.add(file, rid, where("answers." + extra), "has no Dutch text in 'answers' (the keys must be the same)")

    for extra in sorted(set(map(str, block)) - set(RULE_TEXT_FIELDS)):
        problems.add(file, rid, where(extra), "is not a text field of an entry (%s)" % ", ".join(RULE_TEXT_FIELDS))
    _check_lengths(answer, answers, language + ".", file, rid, problems)
    if len(problems.items) > before:
        return None
    return RuleText(title=title or "", answer=answer, answers=answers, pending=pending)


# ---------------------------------------------------------------- facets


def _load_facet_text(raw: dict, language: str, file: str, where: str, problems: _Problems,
                     dutch: Optional[FacetText] = None) -> Optional[FacetText]:
    """The texts of a facet in one language: the Dutch fields, or the `en:` block (`dutch` given),
    which must have the same answer keys."""
    before = len(problems.items)
    prefix = "" if dutch is None else language + "."
    question = _text(raw, "question", file, where, problems, label=prefix + "question")
    label = _text(raw, "label", file, where, problems, label=prefix + "label")
    if label and _word_count(label) > MAX_LABEL_WORDS:
        problems.add(file, where, prefix + "label", "has %d words; a button title has at most %d" % (_word_count(label), MAX_LABEL_WORDS))
    answer_required = (dutch.answer is not None) if dutch is not None else "answers" not in raw
    answer = _text(raw, "answer", file, where, problems, required=answer_required, label=prefix + "answer")
    if dutch is not None and dutch.answer is None and "answer" in raw:
        problems.add(file, where, prefix + "answer", "the Dutch facet has no 'answer'; remove it here or add the Dutch text")
    answers: Dict[str, str] = {}
    raw_answers = raw.get("answers")
    wanted = tuple(dutch.answers) if dutch is not None else None
    if raw_answers is None:
        if wanted:
            problems.add(file, where, prefix + "answers", "is missing (the Dutch facet has 'answers')")
    elif not isinstance(raw_answers, dict) or not raw_answers:
        problems.add(file, where, prefix + "answers", "must map status groups to texts")
    else:
        for group in map(str, raw_answers):
            if group not in STATUS_GROUP_IDS:
                problems.add(file, where, prefix + "answers." + group, "is not a status group")
            elif wanted is not None and group not in wanted:
                problems.add(file, where, prefix + "answers." + group, "has no Dutch text in 'answers' (the keys must be the same)")
            else:
                text = _text(raw_answers, group, file, where, problems, label=prefix + "answers." + group)
                if text is not None:
                    answers[group] = text
        for group in wanted or ():
            if group not in raw_answers:
                problems.add(file, where, prefix + "answers." + group, "is missing (the Dutch facet has it)")
        if answer is None and dutch is None and set(answers) != set(STATUS_GROUP_IDS):
            problems.add(file, where, prefix + "answers", "without 'answer', every status group needs its answer (%s)" % ", ".join(STATUS_GROUP_IDS))
    for key, text in [("answer", answer)] + [("answers." + g, t) for g, t in answers.items()]:
        if text and _word_count(text) > MAX_FACET_WORDS:
            problems.add(file, where, prefix + key, "has %d words; a facet answer has at most %d" % (_word_count(text), MAX_FACET_WORDS))
    phrasings = _string_list(raw, "phrasings", file, where, problems) if "phrasings" in raw else ()
    if len(set(p.lower() for p in phrasings)) < MIN_PHRASINGS:
        problems.add(file, where, prefix + "phrasings", "needs at least %d different example phrasings" % MIN_PHRASINGS)
    allowed = FACET_TEXT_FIELDS if dutch is not None else FACET_FIELDS
    _reject_unknown(raw, allowed, file, where, problems, prefix)
    if len(problems.items) > before:
        return None
    return FacetText(question=question or "", label=label or "", answer=answer, answers=answers, phrasings=phrasings)


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
                problems.add(file, where, "entry", "belongs to theme '%s'; put it in facets/%s.yml" % (entry.theme, entry.theme))
            if any(f.key == key for f in attached[entry.id]):
                problems.add(file, where, "id", "is used twice in entry '%s'" % entry.id)
                continue
            dutch = _load_facet_text(raw, DEFAULT_LANGUAGE, file, where, problems)
            texts = {DEFAULT_LANGUAGE: dutch}
            for language in TRANSLATIONS:
                block = _translation_block(raw, language, file, where, problems)
                if block is not None and dutch is not None:
                    texts[language] = _load_facet_text(block, language, file, where, problems, dutch=dutch)
            sources = _load_sources(raw.get("sources"), file, where, ctx, problems, required=False)
            statuses = _string_list(raw, "statuses", file, where, problems) if "statuses" in raw else ()
            for group in statuses:
                if group not in STATUS_GROUP_IDS:
                    problems.add(file, where, "statuses", "'%s' is not a status group (%s)" % (group, ", ".join(STATUS_GROUP_IDS)))
            if any(t is None for t in texts.values()) or len(texts) != len(LANGUAGES):
                continue
            for language, text in texts.items():
                for phrasing in text.phrasings:
                    folded = fold(" ".join(phrasing.split()))
                    if folded in seen_phrasings and seen_phrasings[folded] != where:
                        problems.add(file, where, "phrasings", "'%s' is also a phrasing of %s" % (phrasing, seen_phrasings[folded]))
                    seen_phrasings[folded] = where
            attached[entry.id].append(Facet(id=where, key=key, entry=entry.id, file=file, texts=texts, sources=sources,
                                             statuses=tuple(statuses)))
    result = []
    for rule in rules:
        updated = dataclasses.replace(rule, facets=tuple(attached[rule.id]))
        newest = updated.newest_source_date
        if newest and rule.checked and rule.checked < newest:
            problems.add(rule.file, rule.id, "checked", "%s lies before the newest as_of of its facets' sources (%s)" % (rule.checked, newest))
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
                problems.add(file, rid, "intent", "'%s' is also answered by entry '%s'" % (entry.intent, seen_intents[entry.intent]))
                continue
            seen_intents[entry.intent] = rid
            rules.append(entry)

    if not problems.items:
        rules = _load_facets(directory, rules, ctx, problems)
    overlaps = _load_overlaps(directory, seen_intents, problems)
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
        overlaps=overlaps,
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
