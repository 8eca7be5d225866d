"""Automatic pre-screen of user text: obvious spam, insults, personal data.

A hit never rejects anything by itself; it sends the content to the moderation queue with
the reasons, so a person decides.
"""
from __future__ import annotations

import re

from .text import fold, words

# A maintained list: German and English insults and slurs that have no place in a civic
# forum. Folded spelling (ae/oe/ue/ss), matched as whole words or word stems.
INSULT_STEMS = {
    # German
    "arschloch", "arschgeige", "wichser", "hurensohn", "fotze", "missgeburt", "spast",
    "spasti", "vollidiot", "idiot", "depp", "trottel", "penner", "schlampe", "hure",
    "schwuchtel", "kanake", "neger", "drecksau", "dreckssau", "bastard", "mistkerl",
    "scheisskerl", "verpiss", "fick", "ficken", "wixer", "schwachkopf", "hirntot",
    "behindert", "volltrottel", "dummkopf", "pisser", "kackbratze", "lutscher",
    # English
    "asshole", "arsehole", "fuck", "fucking", "motherfucker", "bitch", "cunt", "dickhead",
    "retard", "retarded", "moron", "imbecile", "slut", "whore", "faggot",
    "nigger", "wanker", "twat", "prick", "shithead", "dumbass", "jackass", "bitches",
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]{2,}")
# Phone numbers: German landline/mobile and international forms, at least 7 digits.
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\d[\d /().-]{6,}\d(?![\w])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_REPEATED_CHAR = re.compile(r"(.)\1{7,}")
SPAM_PHRASES = ("casino", "viagra", "crypto", "bitcoin", "forex", "gewinnspiel", "kredit ohne schufa", "click here", "jetzt kaufen", "buy now", "free money")


def _iban_is_valid(candidate: str) -> bool:
    iban = re.sub(r"\s", "", candidate).upper()
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return int(digits) % 97 == 1


def _looks_like_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    # Years, postcodes and amounts are short; dates have dots in fixed places.
    return 7 <= len(digits) <= 15 and not re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{2,4}", candidate.strip())


def screen(*texts: str) -> list[str]:
    """Reasons found in the texts: any of `spam`, `offensive`, `personal_data`."""
    text = "\n".join(t for t in texts if t)
    reasons: list[str] = []
    folded = fold(text)
    tokens = words(text)

    urls = _URL.findall(text)
    spam = (
        len(urls) >= 3
        or bool(_REPEATED_CHAR.search(text))
        or any(phrase in folded for phrase in SPAM_PHRASES)
        or _shouting(text)
        or _repetitive(tokens)
    )
    if spam:
        reasons.append("spam")
    if any(token in INSULT_STEMS or any(token.startswith(stem) and len(stem) >= 5 for stem in INSULT_STEMS) for token in tokens):
        reasons.append("offensive")
    if (
        _EMAIL.search(text)
        or any(_looks_like_phone(m.group(0)) for m in _PHONE.finditer(text))
        or any(_iban_is_valid(m.group(0)) for m in _IBAN.finditer(text))
    ):
        reasons.append("personal_data")
    return reasons


# Names that would pass a resident off as the city, its offices, its councils or this
# platform's staff (folded spelling, matched as whole words or word sequences).
OFFICIAL_NAMES = (
    "stadt dortmund", "city of dortmund", "stadtverwaltung", "verwaltung", "rathaus", "stadtrat",
    "oberbuergermeister", "oberbuergermeisterin", "buergermeister", "buergermeisterin",
    "bezirksbuergermeister", "bezirksbuergermeisterin", "bezirksvertretung", "buergerdienste",
    "ordnungsamt", "buergeramt", "jugendamt", "sozialamt", "umweltamt", "tiefbauamt", "gruenflaechenamt", "stadtplanungsamt", "stadtplanungs und bauordnungsamt", "bauordnungsamt",
    "ordnungsdienst", "polizei", "feuerwehr", "edg", "entsorgung dortmund", "dortmund app",
    "jugendparlament", "seniorenbeirat", "moderation", "moderator", "moderatorin", "admin",
    "administrator", "administratorin", "support", "offiziell", "official", "team kuemmerteuch",
    "kuemmerteuch", "dreckpetze",
)
_OFFICIAL = re.compile(r"\b(?:" + "|".join(re.escape(n).replace(r"\ ", r"\W*") for n in OFFICIAL_NAMES) + r")\b")


def screen_display_name(name: str) -> list[str]:
    """Reasons a display name may not be chosen: the content pre-screen, plus impersonation.

    Names appear on every idea and comment: no personal data (phone numbers, e-mail
    addresses), no insults, and nothing that reads as an office of the city.
    """
    reasons = screen(name)
    if _OFFICIAL.search(fold(name)):
        reasons.append("impersonation")
    # A name is short: six digits in it are already a phone number or an address.
    if "personal_data" not in reasons and len(re.sub(r"\D", "", name)) >= 6:
        reasons.append("personal_data")
    return reasons


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 30 and sum(c.isupper() for c in letters) / len(letters) > 0.8


def _repetitive(tokens: list[str]) -> bool:
    if len(tokens) < 12:
        return False
    return len(set(tokens)) / len(tokens) < 0.25
