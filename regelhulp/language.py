"""Which language a message is in: Dutch (`nl`) or English (`en`).

Pure functions, no Rasa: `detect_language` is used by the NLU component (components/language.py)
and by the channels (for their own texts, before Rasa sees the message); `foreign_language`,
`asks_something` and `opens_follow_up` by the actions. It counts the words that belong to one language
only: spaCy's stop-word lists for Dutch and English (words in both, such as "is", "in", "we",
are ignored) plus the everyday and domain words below. A message with no such word, or with
about as many of each ("ok", "TWV?", "hi"), has no language: the conversation keeps the one it
has. Only two languages are told apart, on whole words, so this needs no statistical model.

`LanguageDetector` (components/language.py, after the intent classifiers) adds the entity `language` with value `nl` or
`en`, which fills the slot `language` (domain.yml). A request to switch ("can you answer in
Dutch?", intent `switch_language`) names the language it wants, whatever language it is written in.
"""

from __future__ import annotations

import re
from typing import Dict, Optional

from spacy.lang.en.stop_words import STOP_WORDS as ENGLISH_STOP_WORDS
from spacy.lang.nl.stop_words import STOP_WORDS as DUTCH_STOP_WORDS

LANGUAGES = ("nl", "en")
ENTITY = "language"
SWITCH_INTENT = "switch_language"

# Words people use in this domain that are not stop words, by language. A word in both languages'
# lists (a stop word of one that Dutch also uses, such as "per", "top", "status") is ignored.
_DUTCH_CUES = """
    hoi hallo doei dag bedankt dank dankjewel dankuwel graag alsjeblieft alstublieft goedemorgen
    goedemiddag goedenavond nee klopt oke prima werken werk werkt werkgever werknemer baan
    mogen mag moet kun kunnen wil willen zoek zoeken vraag vragen weet hoeveel welk hoelang
    asielzoeker asielzoekers asielzoekster vluchteling vluchtelingen statushouder statushouders
    verblijfsvergunning vergunning werkvergunning tewerkstellingsvergunning oekraïner oekraïners
    oekraïense oekrainer studeren studie opleiding stage vrijwilligerswerk vrijwilliger inburgering
    inburgeren taal lessen uitkering bijstand gemeente kosten betalen krijgen aanvragen regelen
    iemand medewerker mens praten spreken engels nederlands bedrijf aannemen ons onze jullie
    per top status
"""
_ENGLISH_CUES = """
    hello thanks thank bye goodbye please yes yeah nope okay sure work works working job
    jobs employer employee employ hire hiring allowed permit permits asylum seeker seekers
    refugee refugees status holder holders residence ukrainian ukrainians study studying
    university course internship volunteer volunteering integration language lessons benefits
    allowance municipality pay paid get apply need know want find human person speak talk
    english dutch company our us there help can't don't doesn't isn't i'm what's
    later cya cu r thx real benefit benefits keeping keep trial placement wage wages salary
    contract fine fines rules rule allowed hi hey anybody home
"""

_ALL = {
    "nl": set(DUTCH_STOP_WORDS) | set(_DUTCH_CUES.split()),
    "en": set(ENGLISH_STOP_WORDS) | set(_ENGLISH_CUES.split()),
}
WORDS = {language: words - _ALL["en" if language == "nl" else "nl"] for language, words in _ALL.items()}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_REQUEST = {
    "en": re.compile(r"\b(english|engels|engelse)\b", re.IGNORECASE),
    "nl": re.compile(r"\b(dutch|nederlands|nederlandse|hollands)\b", re.IGNORECASE),
}


# Another language (neither Dutch nor English): mostly non-Latin letters, or Latin-script words that
# belong to other languages' stop-word lists (spaCy's German, French, Spanish, Turkish, Polish,
# Italian, Portuguese) or to the everyday words below (Somali, Kurmanji), with few Dutch/English ones.
_OTHER_CUES = """
    waxaan ahay karaa iyo waa aan sidee maxaan shaqeyn shaqo
    ez li dikarim bikim çawa heye dixwazim kar bikim penaber
"""
_FOREIGN_WORDS: set = set(_OTHER_CUES.split())
for _module in ("de", "fr", "es", "tr", "pl", "it", "pt"):
    _FOREIGN_WORDS |= set(__import__("spacy.lang.%s.stop_words" % _module, fromlist=["STOP_WORDS"]).STOP_WORDS)
_SHARED_WORDS = _FOREIGN_WORDS & (_ALL["nl"] | _ALL["en"])  # "de", "en", "un", ...: no evidence either way
_FOREIGN_WORDS -= _SHARED_WORDS
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_UKRAINIAN_LETTERS = re.compile("[ієїґІЄЇҐ]")
_TURKISH_LETTERS = re.compile("[ğışİŞĞ]")


def foreign_language(text: str) -> Optional[str]:
    """ "uk" (Ukrainian), "ru" (Russian) or "other" when a message is written in a language other
    than Dutch or English; None when it is Dutch, English, mixed or too short to tell."""
    letters = [c for c in text or "" if c.isalpha()]
    if len(letters) < 4:
        return None
    latin = sum(1 for c in letters if c < "\u0250")
    if latin < len(letters) / 2:
        if _CYRILLIC.search(text):
            return "uk" if _UKRAINIAN_LETTERS.search(text) else "ru"
        return "other"
    words = [w.lower() for w in _WORD.findall(text)]
    ours = sum(w not in _SHARED_WORDS and (w in WORDS["nl"] or w in WORDS["en"]) for w in words)
    foreign = sum(len(w) > 1 and w in _FOREIGN_WORDS for w in words)
    if len(words) < 3:
        return None
    if _TURKISH_LETTERS.search(text):
        foreign += 2
    if foreign >= 2 and foreign > ours:
        return "other"
    return None


# A message asks something when it has a question mark, a question word, or starts with a verb
# (Dutch and English word order for yes/no questions). "Ze heeft een verblijfsvergunning" and "he has
# the sticker in his passport" ask nothing; "ik kom uit Oekraïne, mag ik werken" does.
_QUESTION = re.compile(
    r"\?|\b(hoeveel|hoelang|hoe|wanneer|waar|waarom|welke?|wie|wat|how|what|when|where|which|who|why|whether|of ik)\b"
    r"|(^|[,;:.!]\s*|\b(en|maar|and|but|so)\s+)(mag|mogen|kan|kun|kunnen|moet|moeten|heb|heeft|hebben|is|zijn|krijg|krijgt|geldt)"
    r"\s+(ik|je|jij|u|hij|zij|ze|we|wij|jullie|een|die|dat|er)\b"
    r"|(^|[,;:.!]\s*|\b(and|but|so)\s+)(can|may|must|should|do|does|did|is|are|will|would|could)"
    r"\s+(i|you|he|she|they|we|it|there|an?|the|my|our|his|her)\b",
    re.IGNORECASE,
)
# How a short follow-up that changes the person starts ("en voor een statushouder?", "what about
# people from Ukraine?", "and if she has a permit?").
_FOLLOW_UP_OPENER = re.compile(
    r"^\s*(en|and|maar|but|ook|also|same|hetzelfde|what about|how about|hoe zit het|wat als|what if|geldt (dat|dit) ook|does (that|this) (also )?apply)\b",
    re.IGNORECASE,
)


# Words that point back to what was said before ("hoe lang heeft hij daarvoor?", "how much does it cost?").
_REFERS_BACK = re.compile(
    r"\b(dat|dit|die|deze|daar\w*|hier\w*|ervoor|erna|ermee|het|hij|zij|ze|hem|haar|that|this|these|those|it|there|"
    r"then|he|she|they|him|her|them)\b",
    re.IGNORECASE,
)


def refers_back(text: str) -> bool:
    """Whether a message points back to what was said before, or starts like a follow-up."""
    return bool(_REFERS_BACK.search(text)) or opens_follow_up(text)


def asks_something(text: str) -> bool:
    """Whether a message asks a question (rather than only telling something)."""
    return bool(_QUESTION.search(text))


def opens_follow_up(text: str) -> bool:
    """Whether a message starts the way a follow-up about someone else does ("en voor ...", "what about ...")."""
    return bool(_FOLLOW_UP_OPENER.search(text))


def language_scores(text: str) -> Dict[str, int]:
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text or "")]
    return {language: sum(word in WORDS[language] for word in words) for language in LANGUAGES}


def detect_language(text: str) -> Optional[str]:
    """`nl` or `en` when the words say so clearly (at least twice as many of one), else None."""
    scores = language_scores(text)
    best, other = sorted(LANGUAGES, key=lambda language: scores[language], reverse=True)
    if scores[best] >= 1 and scores[best] >= 2 * scores[other]:
        return best
    return None


_IN_LANGUAGE = re.compile(r"\bin (het )?$", re.IGNORECASE)  # "in het Engels", "in English": the language asked for


def requested_language(text: str) -> Optional[str]:
    """The language a switch request names ("in English please", "graag in het Nederlands"); when
    it names both, the one after "in (het)" ("kun je in het Engels antwoorden? mijn Nederlands is
    slecht"), else the last one ("my Dutch is not good, English please")."""
    mentions = [
        (match.start(), language) for language in LANGUAGES for match in _REQUEST[language].finditer(text or "")
    ]
    asked = [
        (start, language)
        for start, language in mentions
        if _IN_LANGUAGE.search((text or "")[max(0, start - 8) : start])
    ]
    return max(asked or mentions)[1] if mentions else None


def message_language(text: str, intent: Optional[str] = None) -> Optional[str]:
    """The language to answer in, as far as this one message tells."""
    if intent == SWITCH_INTENT:
        return requested_language(text) or detect_language(text)
    return detect_language(text)
