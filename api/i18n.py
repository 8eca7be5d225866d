"""Messages in German (default) and English, chosen by `Accept-Language`."""
from __future__ import annotations

import re

from .extensions import current_lang

MESSAGES: dict[str, dict[str, str]] = {
    "not_found": {"de": "Nicht gefunden.", "en": "Not found."},
    "invalid_input": {"de": "Die Eingabe ist ungültig.", "en": "The input is invalid."},
    "invalid_json": {"de": "Der Inhalt ist kein gültiges JSON.", "en": "The body is not valid JSON."},
    "unsupported_media_type": {
        "de": "Bitte als application/json senden.",
        "en": "Please send application/json.",
    },
    "unsupported_media_type_one_of": {
        "de": "Bitte als eines davon senden: {types}.",
        "en": "Please send one of: {types}.",
    },
    "too_large": {"de": "Die Anfrage ist zu groß.", "en": "The request is too large."},
    "method_not_allowed": {
        "de": "Diese Methode ist hier nicht erlaubt.",
        "en": "This method is not allowed here.",
    },
    "rate_limited": {
        "de": "Zu viele Anfragen. Bitte später erneut versuchen.",
        "en": "Too many requests. Please try again later.",
    },
    "internal_error": {
        "de": "Ein interner Fehler ist aufgetreten.",
        "en": "An internal error occurred.",
    },
    "database_unavailable": {
        "de": "Die Datenbank ist gerade nicht erreichbar. Bitte gleich noch einmal versuchen.",
        "en": "The database is unavailable right now. Please try again in a moment.",
    },
    "token_missing": {"de": "Anmeldung erforderlich.", "en": "Authentication required."},
    "token_invalid": {"de": "Das Token ist ungültig.", "en": "The token is invalid."},
    "token_expired": {"de": "Das Token ist abgelaufen.", "en": "The token has expired."},
    "token_revoked": {"de": "Das Token wurde widerrufen.", "en": "The token has been revoked."},
    "token_wrong_type": {
        "de": "Für diese Anfrage wird ein anderes Token benötigt.",
        "en": "This request needs a different kind of token.",
    },
    "forbidden": {"de": "Dafür fehlt die Berechtigung.", "en": "You are not allowed to do this."},
    "user_blocked": {
        "de": "Dein Konto ist gesperrt: Du kannst lesen, aber nichts erstellen oder ändern.",
        "en": "Your account is blocked: you can read, but not create or change anything.",
    },
    "email_taken": {
        "de": "Diese E-Mail-Adresse ist bereits registriert.",
        "en": "This e-mail address is already registered.",
    },
    "invalid_credentials": {
        "de": "E-Mail-Adresse oder Passwort ist falsch.",
        "en": "Wrong e-mail address or password.",
    },
    "invalid_email": {"de": "Keine gültige E-Mail-Adresse.", "en": "Not a valid e-mail address."},
    "password_length": {
        "de": "Das Passwort muss {min} bis {max} Zeichen lang sein.",
        "en": "The password must be {min} to {max} characters long.",
    },
    "unknown_role": {"de": "Unbekannte Rolle: {role}.", "en": "Unknown role: {role}."},
    "idempotency_key_reused": {
        "de": "Dieser Idempotency-Key wurde schon für eine andere Anfrage verwendet.",
        "en": "This Idempotency-Key was already used for a different request.",
    },
    "idempotency_in_flight": {
        "de": "Eine Anfrage mit diesem Idempotency-Key wird noch bearbeitet.",
        "en": "A request with this Idempotency-Key is still being processed.",
    },
    "idempotency_key_invalid": {
        "de": "Der Idempotency-Key muss 1 bis 255 sichtbare Zeichen haben.",
        "en": "The Idempotency-Key must have 1 to 255 visible characters.",
    },
    "bad_cursor": {"de": "Ungültiger Cursor.", "en": "Invalid cursor."},
    "conflict_duplicate": {
        "de": "Das gibt es schon, oder es wurde gerade von anderer Seite geändert.",
        "en": "This exists already, or was just changed by someone else.",
    },
    "unknown_district": {"de": "Unbekannter Stadtbezirk.", "en": "Unknown district."},
    "unknown_category": {"de": "Unbekannte Kategorie.", "en": "Unknown category."},
    # Ideas
    "idea_removed": {"de": "Diese Idee wurde von der Moderation entfernt.", "en": "This idea was removed by moderation."},
    "idea_has_supporters": {
        "de": "Die Idee hat schon Unterstützer*innen und kann nicht mehr geändert oder gelöscht werden.",
        "en": "The idea already has supporters and can no longer be changed or deleted.",
    },
    "illegal_transition": {
        "de": "Vom Status „{current}“ geht es nicht zu „{target}“.",
        "en": "Status '{current}' cannot change to '{target}'.",
    },
    "unknown_parent_comment": {"de": "Diesen Kommentar gibt es hier nicht.", "en": "There is no such comment here."},
    "reply_to_reply": {
        "de": "Auf Antworten kann nicht geantwortet werden (nur eine Ebene).",
        "en": "Replies cannot be replied to (one level only).",
    },
    # Moderation
    "unknown_target_type": {"de": "Diese Art von Inhalt gibt es noch nicht.", "en": "This kind of content does not exist yet."},
    "already_flagged": {"de": "Du hast diesen Inhalt bereits gemeldet.", "en": "You have already flagged this content."},
    "reason_must_be_ok": {
        "de": "Freigeben und Wiederherstellen brauchen den Grund „ok“.",
        "en": "Approve and restore take the reason code 'ok'.",
    },
    "reason_needed": {
        "de": "Ablehnen und Ausblenden brauchen einen Grund außer „ok“.",
        "en": "Reject and hide need a reason code other than 'ok'.",
    },
    "illegal_moderation": {
        "de": "„{action}“ passt nicht zum jetzigen Zustand des Inhalts.",
        "en": "'{action}' does not fit the content's current state.",
    },
    "nothing_to_appeal": {
        "de": "Es gibt keine Entscheidung, gegen die du Einspruch erheben kannst.",
        "en": "There is no decision to appeal.",
    },
    "already_appealed": {
        "de": "Gegen diese Entscheidung hast du bereits Einspruch erhoben.",
        "en": "You have already appealed this decision.",
    },
    "block_end_in_past": {"de": "Das Ende der Sperre muss in der Zukunft liegen.", "en": "The block must end in the future."},
    # Display names (models.users.check_display_name)
    "display_name_impersonation": {
        "de": "Dieser Name klingt nach einer Stelle der Stadt oder des Teams. Bitte wähle einen anderen.",
        "en": "This name sounds like an office of the city or the team. Please choose another one.",
    },
    "display_name_personal_data": {
        "de": "Der Name darf keine Telefonnummer, E-Mail-Adresse oder Kontonummer enthalten.",
        "en": "The name must not contain a phone number, e-mail address or account number.",
    },
    "display_name_offensive": {
        "de": "Dieser Name ist beleidigend. Bitte wähle einen anderen.",
        "en": "This name is offensive. Please choose another one.",
    },
    "display_name_spam": {
        "de": "Dieser Name sieht nach Werbung aus. Bitte wähle einen anderen.",
        "en": "This name looks like advertising. Please choose another one.",
    },
}

# marshmallow's own validation messages, so that German clients get German field errors.
FIELD_MESSAGES_DE: dict[str, str] = {
    "Missing data for required field.": "Pflichtfeld fehlt.",
    "Field may not be null.": "Darf nicht leer (null) sein.",
    "Not a valid string.": "Keine gültige Zeichenkette.",
    "Not a valid integer.": "Keine gültige ganze Zahl.",
    "Not a valid number.": "Keine gültige Zahl.",
    "Not a valid boolean.": "Kein gültiger Wahrheitswert.",
    "Not a valid email address.": "Keine gültige E-Mail-Adresse.",
    "Not a valid list.": "Keine gültige Liste.",
    "Not a valid mapping type.": "Kein gültiges Objekt.",
    "Not a valid date.": "Kein gültiges Datum.",
    "Not a valid month (YYYY-MM).": "Kein gültiger Monat (JJJJ-MM).",
    "Not a valid datetime.": "Kein gültiger Zeitpunkt.",
    "Unknown field.": "Unbekanntes Feld.",
    "Invalid input type.": "Ungültiger Eingabetyp.",
    "Invalid value.": "Ungültiger Wert.",
    "Invalid input.": "Ungültige Eingabe.",
    "Contains characters that are not allowed.": "Enthält Zeichen, die nicht erlaubt sind.",
    "A time zone offset is required (for example +01:00).": "Eine Zeitzone ist nötig (zum Beispiel +01:00).",
    "The location is outside Dortmund.": "Der Ort liegt außerhalb Dortmunds.",
    "Invalid cursor.": "Ungültiger Cursor.",
    "Invalid JSON body.": "Der Inhalt ist kein gültiges JSON.",
    "Not a valid URL.": "Keine gültige URL.",
    "Not a valid time.": "Keine gültige Uhrzeit.",
    "String does not match expected pattern.": "Entspricht nicht dem erwarteten Muster.",
    "Special numeric values (nan or infinity) are not permitted.": "Keine gültige Zahl (NaN und Unendlich sind nicht erlaubt).",
    "Must lie between the years 2000 and 2999.": "Muss zwischen den Jahren 2000 und 2999 liegen.",
    "Give four numbers: minLon,minLat,maxLon,maxLat.": "Bitte vier Zahlen angeben: minLon,minLat,maxLon,maxLat.",
    "Longitudes lie within -180..180 and latitudes within -90..90, minimum before maximum.":
        "Längengrade liegen zwischen -180 und 180, Breitengrade zwischen -90 und 90, das Minimum zuerst.",
}

# marshmallow's messages that carry values (lengths, ranges, choices): pattern -> German.
_FIELD_PATTERNS_DE: list[tuple[re.Pattern, str]] = [
    (re.compile(rf"^{pattern}$"), german)
    for pattern, german in (
        (r"Must be greater than or equal to (?P<min>.+) and less than or equal to (?P<max>.+)\.",
         "Muss zwischen {min} und {max} liegen."),
        (r"Must be greater than (?P<min>.+) and less than (?P<max>.+)\.", "Muss größer als {min} und kleiner als {max} sein."),
        (r"Must be greater than or equal to (?P<min>.+)\.", "Muss mindestens {min} sein."),
        (r"Must be greater than (?P<min>.+)\.", "Muss größer als {min} sein."),
        (r"Must be less than or equal to (?P<max>.+)\.", "Darf höchstens {max} sein."),
        (r"Must be less than (?P<max>.+)\.", "Muss kleiner als {max} sein."),
        # Text (api.fields.Chars) counts characters; marshmallow's own Length is left to lists.
        (r"Must be between (?P<min>\d+) and (?P<max>\d+) characters long\.", "Muss zwischen {min} und {max} Zeichen lang sein."),
        (r"Must be exactly (?P<equal>\d+) characters long\.", "Muss genau {equal} Zeichen lang sein."),
        (r"Must be at least (?P<min>\d+) characters long\.", "Muss mindestens {min} Zeichen lang sein."),
        (r"Must be at most (?P<max>\d+) characters long\.", "Darf höchstens {max} Zeichen lang sein."),
        (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.", "Muss zwischen {min} und {max} Einträge haben."),
        (r"Length must be (?P<equal>\d+)\.", "Muss genau {equal} Einträge haben."),
        (r"Shorter than minimum length (?P<min>\d+)\.", "Muss mindestens {min} Einträge haben."),
        (r"Longer than maximum length (?P<max>\d+)\.", "Darf höchstens {max} Einträge haben."),
        (r"Must be one of: (?P<choices>.+)\.", "Erlaubt sind: {choices}."),
        (r"Must be equal to (?P<other>.+)\.", "Muss {other} sein."),
    )
]


def _field_message_de(text: str) -> str:
    fixed = FIELD_MESSAGES_DE.get(text)
    if fixed is not None:
        return fixed
    if text.startswith(("Must", "Length", "Shorter", "Longer")):
        for pattern, german in _FIELD_PATTERNS_DE:
            found = pattern.match(text)
            if found:
                return german.format(**found.groupdict())
    return text


def translate(key: str, lang: str | None = None, **params) -> str:
    lang = lang or current_lang()
    entry = MESSAGES.get(key)
    if entry is None:
        text = _field_message_de(key) if lang == "de" else key
    else:
        text = entry.get(lang) or entry["de"]
    if params:
        try:
            text = text.format(**params)
        except (KeyError, IndexError, ValueError):
            pass
    return text


def register_messages(catalogue: dict[str, dict[str, str]]) -> None:
    """Feature packages bring their own messages (`{key: {"de": ..., "en": ...}}`)."""
    for key, texts in catalogue.items():
        if key in MESSAGES and MESSAGES[key] != texts:
            raise ValueError(f"message key {key!r} defined twice with different texts")
        MESSAGES[key] = texts
