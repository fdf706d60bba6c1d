"""The knowledge base: schema, loader and validation.

One loader serves the action server (answers), the spaCy pipeline builder (entity-ruler
patterns) and `make validate`. Loading either returns a complete, valid `KnowledgeBase` or
raises `KnowledgeError` listing every problem as ``file: entry 'id': field 'name': message``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "knowledge"
STATUS_GROUP_IDS = ("asylum_seeker", "status_holder", "ukrainian", "other")
RULE_STATES = ("in_force", "pending_change", "unclear")
MAX_ANSWER_WORDS = 120
MAX_COMBINED_WORDS = 170  # shared answer + one status-specific answer
MAX_CHECKED_AGE_DAYS = 180  # an entry checked longer ago than this should be checked again
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


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


@dataclass(frozen=True)
class Organisation:
    id: str
    name: str
    abbreviation: str
    description: str
    website: str
    synonyms: Tuple[str, ...]


@dataclass(frozen=True)
class Theme:
    id: str
    label: str


@dataclass(frozen=True)
class Source:
    url: str
    organisation: str


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

    def pending_applies(self, status: Optional[str]) -> bool:
        return bool(self.pending) and (not self.pending_for or status is None or status in self.pending_for)

    @property
    def depends_on_status(self) -> bool:
        return bool(self.answers)

    def answer_for(self, status: Optional[str]) -> str:
        """The shared answer (if any) followed by the part for the status group."""
        parts = [self.answer] if self.answer else []
        if self.depends_on_status:
            parts.append(self.answers.get(status or "other") or self.answers["other"])
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


@dataclass(frozen=True)
class KnowledgeBase:
    status_groups: Tuple[StatusGroup, ...]
    organisations: Dict[str, Organisation]
    themes: Tuple[Theme, ...]
    rules: Tuple[RuleEntry, ...]
    phrases: Dict[str, object]
    fingerprint: str
    helpdesk: Tuple[HelpdeskContact, ...] = ()

    def rule_for_intent(self, intent: Optional[str]) -> Optional[RuleEntry]:
        return next((r for r in self.rules if r.intent == intent), None)

    def rule(self, rule_id: Optional[str]) -> Optional[RuleEntry]:
        return next((r for r in self.rules if r.id == rule_id), None)

    def status_group(self, status_id: Optional[str]) -> Optional[StatusGroup]:
        return next((s for s in self.status_groups if s.id == status_id), None)

    def status_in_text(self, text: str) -> Optional[str]:
        """The status group a text mentions (longest synonym wins), or None."""
        return _longest_mention(text, ((s.id, s.synonyms) for s in self.status_groups))

    def organisation_in_text(self, text: str) -> Optional[str]:
        """The organisation a text mentions (longest synonym wins), or None."""
        return _longest_mention(
            text, ((o.id, o.synonyms + (o.abbreviation, o.name)) for o in self.organisations.values())
        )

    def phrase(self, key: str) -> str:
        return str(self.phrases[key])


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
        )
    return organisations


def _load_themes(directory: Path, problems: _Problems) -> Tuple[Theme, ...]:
    file = "themes.yml"
    return tuple(
        Theme(id=tid, label=_text(raw, "label", file, tid, problems) or tid)
        for tid, raw in _entries(_read_yaml(directory / file, "themes", problems), file, problems)
    )


def _load_phrases(directory: Path, problems: _Problems) -> Dict[str, object]:
    phrases = _read_yaml(directory / "phrases.yml", "phrases", problems)
    if phrases and not isinstance(phrases, dict):
        problems.add("phrases.yml", None, "phrases", "must be a mapping of key: text")
        return {}
    return dict(phrases or {})


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
        contacts.append(
            HelpdeskContact(
                id=cid,
                name=_text(raw, "name", file, cid, problems) or cid,
                purpose=_text(raw, "for", file, cid, problems) or "",
                url=str(raw.get("url")),
                phone=phone,
                hours=_text(raw, "hours", file, cid, problems, required=False),
            )
        )
    return tuple(contacts)


def _word_count(text: str) -> int:
    return len(re.findall(r"\S+", text))


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
    for key, text in list(answers.items()) + [("answer", answer)]:
        if text and _word_count(text) > MAX_ANSWER_WORDS:
            where = "answers.%s" % key if key != "answer" else "answer"
            problems.add(file, rid, where, "has %d words; the limit is %d" % (_word_count(text), MAX_ANSWER_WORDS))
    if answer and answers:
        longest = max(_word_count(t) for t in answers.values()) + _word_count(answer)
        if longest > MAX_COMBINED_WORDS:
            problems.add(file, rid, "answers", "'answer' plus the longest status answer has %d words; the limit is %d" % (longest, MAX_COMBINED_WORDS))
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

    sources = []
    raw_sources = raw.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        problems.add(file, rid, "sources", "must list at least one source")
        raw_sources = []
    for number, src in enumerate(raw_sources, start=1):
        fld = "sources[%d]" % number
        if not isinstance(src, dict):
            problems.add(file, rid, fld, "must have 'url' and 'organisation'")
            continue
        if not _https(src.get("url")):
            problems.add(file, rid, fld + ".url", "must be an https URL")
        if src.get("organisation") not in ctx["organisations"]:
            problems.add(file, rid, fld + ".organisation", "unknown organisation '%s'" % src.get("organisation"))
        sources.append(Source(url=str(src.get("url")), organisation=str(src.get("organisation"))))

    checked = raw.get("checked")
    if isinstance(checked, str):
        try:
            checked = dt.date.fromisoformat(checked)
        except ValueError:
            checked = None
    if not isinstance(checked, dt.date) or isinstance(checked, dt.datetime):
        problems.add(file, rid, "checked", "must be a date like 2026-11-22")
        checked = None
    elif checked > ctx["today"]:
        problems.add(file, rid, "checked", "lies in the future (%s)" % checked)

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
    )


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*.yml")):
        digest.update(str(path.relative_to(directory)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _directory(directory: Optional[Path]) -> Path:
    return Path(directory or os.environ.get("REGELHULP_KNOWLEDGE") or DEFAULT_DIR)


def load_phrases(directory: Optional[Path] = None) -> Dict[str, object]:
    """Only phrases.yml, for processes that need the fixed texts but not the rules (the channels)."""
    problems = _Problems()
    phrases = _load_phrases(_directory(directory), problems)
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
    phrases = _load_phrases(directory, problems)
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
    )
