"""The schema of the knowledge base's YAML files as pydantic (1.10) models.

A model checks the shape of one item: which fields it has (an unknown field, such as the typo
`anwser`, is an error), which are required, and the type and form of each value (a non-empty text,
a list of texts, an https URL, a date, a snake_case id). What needs two fields of one item (an
English text for every Dutch one, `from` before `until`, the word limits of shared plus status
answer) is a `checks()` method of the model; what needs other files (a known theme or
organisation, a date not in the future) stays in the loader (regelhulp/knowledge.py).

`validate(model, raw)` returns the validated fields, also when some other fields are wrong (so the
loader can still check what is valid), and every fault as (field, message), the field written as
in the YAML: ``sources[1].url``, ``en.answers.ukrainian``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, Iterator, List, Mapping, Optional, Tuple, Type, TypeVar

from pydantic import BaseModel, Extra, Field, ValidationError, validator
from pydantic.fields import SHAPE_SINGLETON, ModelField

STATUS_GROUP_IDS = ("asylum_seeker", "status_holder", "ukrainian", "other")
RULE_STATES = ("in_force", "pending_change", "unclear")
MAX_ANSWER_WORDS = 120
MAX_COMBINED_WORDS = 170  # shared answer + one status-specific answer
MAX_FACET_WORDS = 50  # the direct answer to one concrete question
MAX_LABEL_WORDS = 6  # a facet's button title
MIN_PHRASINGS = 4  # example phrasings of a facet, per language
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
DATE_PATTERN = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
PHONE_PATTERN = re.compile(r"^\+?\d[\d -]{3,}\d$")
HTTPS_PATTERN = re.compile(r"^https://[^\s/]+\.[^\s]+$")
DEFAULT_LANGUAGE = "nl"  # the language of the plain fields (title, answer, label, ...) and of phrases.yml
TRANSLATIONS = {"en": "English"}  # the other languages: an `en:` block per item and phrases_en.yml
LANGUAGES = (DEFAULT_LANGUAGE,) + tuple(TRANSLATIONS)

Problem = Tuple[str, str]  # (field, message)


def word_count(text: str) -> int:
    return len(re.findall(r"\S+", text))


# ---------------------------------------------------------------- value types


def _value_type(name: str, check: Callable[[Any], Any]) -> type:
    """A pydantic field type whose validator is CHECK (which raises ValueError with the message)."""

    def validators(cls: type) -> Iterator[Callable[[Any], Any]]:
        yield check

    return type(name, (), {"__get_validators__": classmethod(validators)})


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty text")
    return " ".join(value.split())


def _texts(value: Any) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of texts")
    return tuple(v.strip() for v in value)


def _https(value: Any) -> str:
    if not isinstance(value, str) or not HTTPS_PATTERN.match(value):
        raise ValueError("must be an https URL")
    return value


def _date(value: Any, month_ok: bool = False) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    match = DATE_PATTERN.match(str(value))
    if match and (match.group(3) or month_ok):
        try:
            day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3) or 1))
        except ValueError:
            pass
        else:
            return day if match.group(3) else MonthDate(day.year, day.month, 1)
    raise ValueError("must be a date like 2026-11-22%s" % (" or a month like 2026-02" if month_ok else ""))


class MonthDate(dt.date):
    """A date written as a month only (2026-02): its first day."""


if TYPE_CHECKING:  # what the value types are to a type checker
    Text = str
    Texts = Tuple[str, ...]
    HttpsUrl = str
    Day = dt.date
    DayOrMonth = dt.date
else:
    Text = _value_type("Text", _text)  # a non-empty text, its white space collapsed
    Texts = _value_type("Texts", _texts)  # a list of non-empty texts
    HttpsUrl = _value_type("HttpsUrl", _https)
    Day = _value_type("Day", lambda v: _date(v))  # 2026-11-22
    DayOrMonth = _value_type("DayOrMonth", lambda v: _date(v, month_ok=True))  # also 2026-02 (a MonthDate)


# ---------------------------------------------------------------- models


class Schema(BaseModel):
    """An item of a knowledge file: unknown fields are errors."""

    UNKNOWN: ClassVar[str] = "is not a known field ({allowed})"  # the message for a field the model lacks
    SHAPE: ClassVar[str] = "must be a mapping of field: text"  # the message when the item is no mapping

    class Config:
        extra = Extra.forbid
        allow_population_by_field_name = True

    @classmethod
    def validate(cls: Type["M"], value: Any) -> "M":  # a nested item that is not a mapping
        if not isinstance(value, dict):
            raise ValueError(cls.SHAPE)
        return super().validate(value)

    @classmethod
    def field_names(cls) -> Tuple[str, ...]:
        return tuple(f.alias for f in cls.__fields__.values())

    def checks(self) -> List[Problem]:
        """The rules that need more than one field; only called with the fields that are valid."""
        return []

    def value(self, name: str) -> Any:
        """A field's value, None when it is missing or was not valid (see `validate`)."""
        return self.__dict__.get(name)


M = TypeVar("M", bound=Schema)


class _EnglishLabel(Schema):
    UNKNOWN = "is not translated here (expected: {allowed})"
    label: Text


class _EnglishLabelButton(_EnglishLabel):
    button: Text


class StatusGroupSchema(Schema):
    id: str
    label: Text
    button: Text
    synonyms: Texts = ()
    en: _EnglishLabelButton


class _EnglishDescription(Schema):
    UNKNOWN = "is not translated here (expected: {allowed})"
    description: Text


class OrganisationSchema(Schema):
    id: str
    name: Text
    abbreviation: Optional[Text] = None
    description: Text
    website: Optional[HttpsUrl] = None
    synonyms: Texts = ()
    en: _EnglishDescription

    _website = validator("website", pre=True, always=True, allow_reuse=True)(_https)


class ThemeSchema(Schema):
    id: str
    label: Text
    en: _EnglishLabel


class _EnglishHelpdesk(Schema):
    UNKNOWN = "is not translated here (expected: {allowed})"
    purpose: Text = Field(alias="for")
    hours: Optional[Text] = None


class HelpdeskSchema(Schema):
    id: str
    name: Text
    purpose: Text = Field(alias="for")
    url: Optional[HttpsUrl] = None
    phone: Optional[Text] = None
    hours: Optional[Text] = None
    en: _EnglishHelpdesk

    _url = validator("url", pre=True, always=True, allow_reuse=True)(_https)

    @validator("phone")
    def _phone(cls, phone: Optional[str]) -> Optional[str]:
        if phone and not PHONE_PATTERN.match(phone):
            raise ValueError("must be a phone number of digits, spaces and dashes")
        return phone

    def checks(self) -> List[Problem]:
        english = self.value("en")
        if english is None:
            return []
        if self.value("hours") and not english.value("hours"):
            return [("en.hours", "is missing")]
        if not self.value("hours") and english.value("hours"):
            return [("en.hours", "is not translated here (expected: for)")]
        return []


class SourceSchema(Schema):
    """One source of an entry or a facet: the page, its publisher and the version that was read."""

    SHAPE = "must have 'url', 'organisation' and 'as_of'"
    url: Optional[HttpsUrl] = None
    organisation: Optional[str] = None  # checked against organisations.yml by the loader
    as_of: DayOrMonth

    _url = validator("url", pre=True, always=True, allow_reuse=True)(_https)


def _sources(required: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and not required:
            return []
        if not isinstance(value, list) or not value:
            raise ValueError("must list at least one source")
        return value

    return check


class _StatusAnswers(Schema):
    """`answers` of a rule entry: a text for every status group."""

    UNKNOWN = "is not a status group"
    SHAPE = "must map status groups to texts"
    asylum_seeker: Text
    status_holder: Text
    ukrainian: Text
    other: Text


def _answer_lengths(answer: Optional[str], answers: Dict[str, str], prefix: str) -> List[Problem]:
    """The word limits of an entry, the same in every language; PREFIX is '' for Dutch, 'en.' for English."""
    problems = []
    for key, text in list(answers.items()) + [("answer", answer)]:
        if text and word_count(text) > MAX_ANSWER_WORDS:
            where = prefix + ("answers.%s" % key if key != "answer" else "answer")
            problems.append((where, "has %d words; the limit is %d" % (word_count(text), MAX_ANSWER_WORDS)))
    if answer and answers:
        longest = max(word_count(t) for t in answers.values()) + word_count(answer)
        if longest > MAX_COMBINED_WORDS:
            problems.append(
                (
                    prefix + "answers",
                    "'%sanswer' plus the longest status answer has %d words; the limit is %d"
                    % (prefix, longest, MAX_COMBINED_WORDS),
                )
            )
    return problems


def _status_groups(cls: Any, groups: Tuple[str, ...]) -> Tuple[str, ...]:
    """A validator: every name in GROUPS is a status group."""
    for group in groups:
        if group not in STATUS_GROUP_IDS:
            raise ValueError("'%s' is not a status group (%s)" % (group, ", ".join(STATUS_GROUP_IDS)))
    return groups


class RuleTextSchema(Schema):
    """An entry's `en:` block: the same text fields as the Dutch entry."""

    UNKNOWN = "is not a text field of an entry ({allowed})"
    title: Text
    answer: Optional[Text] = None
    answers: Optional[Dict[str, Text]] = None
    pending: Optional[Text] = None

    @validator("answers", pre=True)
    def _answers_shape(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise ValueError("must map the same status groups as 'answers' to texts")
        return value


class RuleSchema(Schema):
    """A rule entry of rules/<theme>.yml."""

    id: str
    intent: Text
    theme: Text
    title: Text
    state: Optional[str] = None
    answer: Optional[Text] = None
    answers: Optional[_StatusAnswers] = None
    pending: Optional[Text] = None
    pending_for: Texts = ()
    statuses: Texts = ()  # the status groups the entry concerns; empty: everybody
    pending_from: Optional[Day] = None
    valid_from: Optional[Day] = Field(None, alias="from")
    valid_until: Optional[Day] = Field(None, alias="until")
    organisations: Texts = ()
    sources: Optional[List[SourceSchema]] = None
    checked: Day
    en: RuleTextSchema

    _sources = validator("sources", pre=True, always=True, allow_reuse=True)(_sources(required=True))

    @validator("intent")
    def _intent(cls, intent: str) -> str:
        if not ID_PATTERN.match(intent):
            raise ValueError("must be a snake_case intent name")
        return intent

    @validator("state", pre=True, always=True)
    def _state(cls, state: Any) -> str:
        if state not in RULE_STATES:
            raise ValueError("must be one of %s" % ", ".join(RULE_STATES))
        return str(state)

    _groups = validator("pending_for", "statuses", allow_reuse=True)(_status_groups)

    @validator("organisations", always=True)
    def _organisations(cls, organisations: Tuple[str, ...]) -> Tuple[str, ...]:
        if not organisations:
            raise ValueError("must name at least one organisation")
        return organisations

    def status_answers(self) -> Dict[str, str]:
        """`answers` as {status group: text}, in the order of STATUS_GROUP_IDS ({} without answers)."""
        answers = self.value("answers")
        if answers is None:
            return {}
        return {g: answers.value(g) for g in STATUS_GROUP_IDS if answers.value(g) is not None}

    def status_keys(self) -> List[str]:
        """The status groups `answers` names in the file (also the ones whose text is not valid)."""
        answers = self.value("answers")
        return [g for g in STATUS_GROUP_IDS if answers is not None and g in answers.__fields_set__]

    def checks(self) -> List[Problem]:
        get = self.value
        problems: List[Problem] = []
        if get("answer") is None and get("answers") is None and "answers" not in self.__fields_set__:
            problems.append(("answer", "is missing"))
        problems += _answer_lengths(get("answer"), self.status_answers(), "")
        if get("state") == "pending_change" and not get("pending"):
            problems.append(("pending", "an entry with state pending_change must describe the change"))
        if get("valid_from") and get("valid_until") and get("valid_from") >= get("valid_until"):
            problems.append(("until", "must lie after 'from'"))
        if get("pending_from") and not get("pending"):
            problems.append(("pending_from", "is the date of a planned change, but the entry has no 'pending'"))
        english = get("en")
        if english is not None:
            problems += self._english_checks(english)
        return problems

    def _english_checks(self, english: RuleTextSchema) -> List[Problem]:
        """Every Dutch text has its English one, and no English text is without a Dutch one."""
        problems: List[Problem] = []
        for name in ("answer", "pending"):
            has_dutch = self.value(name) is not None
            if has_dutch and english.value(name) is None and name not in english.__fields_set__:
                problems.append(("en." + name, "is missing"))
            elif not has_dutch and name in english.__fields_set__:
                problems.append(
                    ("en." + name, "the Dutch entry has no '%s'; remove it here or add the Dutch text" % name)
                )
        english_answers = english.value("answers")
        if "answers" not in self.__fields_set__:
            if "answers" in english.__fields_set__:
                problems.append(
                    ("en.answers", "the Dutch entry has no 'answers'; remove it here or add the Dutch texts")
                )
        elif english_answers is None:
            if "answers" not in english.__fields_set__:
                problems.append(("en.answers", "is missing (the Dutch entry has 'answers')"))
        else:
            for key in self.status_keys():
                if key not in english_answers:
                    problems.append(("en.answers." + key, "is missing"))
            for extra in sorted(set(english_answers) - set(self.status_keys())):
                problems.append(("en.answers." + extra, "has no Dutch text in 'answers' (the keys must be the same)"))
            problems += _answer_lengths(english.value("answer"), english_answers, "en.")
        return problems


class FacetTextSchema(Schema):
    """The texts of a facet in one language (the Dutch fields, or its `en:` block)."""

    question: Text
    label: Text
    answer: Optional[Text] = None
    answers: Optional[Dict[str, Text]] = None
    phrasings: Texts = ()

    @validator("label")
    def _label(cls, label: str) -> str:
        if word_count(label) > MAX_LABEL_WORDS:
            raise ValueError("has %d words; a button title has at most %d" % (word_count(label), MAX_LABEL_WORDS))
        return label

    @validator("answers", pre=True)
    def _answers_shape(cls, value: Any) -> Any:
        if value is not None and (not isinstance(value, dict) or not value):
            raise ValueError("must map status groups to texts")
        return value

    @validator("answers")
    def _groups(cls, answers: Optional[Dict[str, str]]) -> Optional[Dict[str, str]]:
        for group in answers or {}:
            if group not in STATUS_GROUP_IDS:
                raise ValueError("'%s' is not a status group" % group)
        return answers

    @validator("phrasings", always=True)
    def _enough(cls, phrasings: Tuple[str, ...]) -> Tuple[str, ...]:
        if len(set(p.lower() for p in phrasings)) < MIN_PHRASINGS:
            raise ValueError("needs at least %d different example phrasings" % MIN_PHRASINGS)
        return phrasings

    def text_checks(self, prefix: str, dutch: Optional["FacetTextSchema"] = None) -> List[Problem]:
        """The answers: Dutch needs `answer` or an answer for every status group; English has the
        answers the Dutch facet has, no more; every answer within the facet word limit."""
        get = self.value
        problems: List[Problem] = []
        answers: Dict[str, str] = get("answers") or {}
        if dutch is None:
            if get("answer") is None and "answers" not in self.__fields_set__ and "answer" not in self.__fields_set__:
                problems.append(("answer", "is missing"))
            if get("answer") is None and answers and set(answers) != set(STATUS_GROUP_IDS):
                problems.append(
                    (
                        "answers",
                        "without 'answer', every status group needs its answer (%s)" % ", ".join(STATUS_GROUP_IDS),
                    )
                )
        else:
            if dutch.value("answer") is not None and "answer" not in self.__fields_set__:
                problems.append((prefix + "answer", "is missing"))
            if dutch.value("answer") is None and "answer" in self.__fields_set__:
                problems.append(
                    (prefix + "answer", "the Dutch facet has no 'answer'; remove it here or add the Dutch text")
                )
            wanted = dutch.value("answers") or {}
            if wanted and "answers" not in self.__fields_set__:
                problems.append((prefix + "answers", "is missing (the Dutch facet has 'answers')"))
            elif get("answers") is not None:
                for group in answers:
                    if group not in wanted:
                        problems.append(
                            (prefix + "answers." + group, "has no Dutch text in 'answers' (the keys must be the same)")
                        )
                for group in wanted:
                    if group not in answers:
                        problems.append((prefix + "answers." + group, "is missing (the Dutch facet has it)"))
        for key, text in [("answer", get("answer"))] + [("answers." + g, t) for g, t in answers.items()]:
            if text and word_count(text) > MAX_FACET_WORDS:
                problems.append(
                    (prefix + key, "has %d words; a facet answer has at most %d" % (word_count(text), MAX_FACET_WORDS))
                )
        return problems


class FacetSchema(FacetTextSchema):
    """A facet of facets/<theme>.yml: one concrete question inside a rule entry."""

    id: str
    entry: Optional[str] = None
    statuses: Texts = ()  # the status groups the question concerns; empty: everybody
    sources: Optional[List[SourceSchema]] = None
    en: FacetTextSchema

    _sources = validator("sources", pre=True, always=True, allow_reuse=True)(_sources(required=False))

    _statuses = validator("statuses", allow_reuse=True)(_status_groups)

    def checks(self) -> List[Problem]:
        problems = self.text_checks("")
        english = self.value("en")
        if english is not None:
            problems += english.text_checks("en.", dutch=self)
        return problems


# ---------------------------------------------------------------- validation


def _field(model: Type[Schema], name: str) -> Optional[ModelField]:
    return next((f for f in model.__fields__.values() if f.alias == name), None)


def _model_at(model: Type[Schema], loc: Tuple[Any, ...]) -> Optional[Type[Schema]]:
    """The model that holds the last element of LOC (a path of field aliases and list positions)."""
    current: Optional[Type[Schema]] = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = _field(current, str(part))
        inner = field.type_ if field is not None else None
        current = inner if isinstance(inner, type) and issubclass(inner, Schema) else None
    return current


def _where(loc: Tuple[Any, ...]) -> str:
    """('sources', 0, 'url') -> 'sources[1].url'; ('en', 'answers', 'ukrainian') -> 'en.answers.ukrainian'."""
    parts: List[str] = []
    for part in loc:
        if part == "__root__":
            continue
        if isinstance(part, int) and parts:
            parts[-1] += "[%d]" % (part + 1)
        else:
            parts.append(str(part))
    return ".".join(parts)


def _message(model: Type[Schema], error: Mapping[str, Any]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind in ("value_error.missing", "type_error.none.not_allowed"):
        if loc and loc[-1] in TRANSLATIONS and len(loc) == 1:
            return "is missing: every entry needs its %s texts" % TRANSLATIONS[str(loc[-1])]
        return "is missing"
    if kind == "value_error.extra":
        holder = _model_at(model, loc) or Schema
        return holder.UNKNOWN.format(allowed=", ".join(holder.field_names()))
    if kind == "value_error" or kind.startswith("value_error."):
        return str(error["msg"])
    return "must be a %s" % {"type_error.str": "text", "type_error.list": "list", "type_error.dict": "mapping"}.get(
        kind, "valid value (%s)" % error["msg"]
    )


def validate(model: Type[M], raw: Dict[str, Any]) -> Tuple[M, List[Problem]]:
    """RAW checked against MODEL: an instance with the fields that are valid (`value(name)` is None
    for the others), and every problem as (field, message), the model's `checks()` included."""
    values: Dict[str, Any] = {}
    problems: List[Problem] = []
    try:
        instance = model.parse_obj(raw)
    except ValidationError as error:
        for item in error.errors():
            problems.append((_where(item["loc"]), _message(model, item)))
        instance = _partial(model, raw, values)
    problems += instance.checks()
    return instance, problems


def _partial(model: Type[M], raw: Dict[str, Any], values: Dict[str, Any]) -> M:
    """An instance with only the fields of RAW that validate on their own (the others None)."""
    for field in model.__fields__.values():
        if field.alias not in raw and not field.required:
            values[field.name] = field.get_default()
            continue
        given = raw.get(field.alias)
        nested = field.type_
        if (
            isinstance(given, dict)
            and isinstance(nested, type)
            and issubclass(nested, Schema)
            and field.shape == SHAPE_SINGLETON
        ):
            values[field.name] = _partial(nested, given, {})  # the valid part of a nested item
            continue
        value, errors = field.validate(given, values, loc=field.alias, cls=model)
        if not errors:
            values[field.name] = value
    fields_set = {f.name for f in model.__fields__.values() if f.alias in raw}
    return model.construct(_fields_set=fields_set, **values)
