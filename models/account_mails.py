"""Texts of the mails about an account, in German (default) and English.

Rendered when the mail is queued (models.mail); links carry their token as `token=<value>`.
"""
from __future__ import annotations

APP_NAME = {"de": "Dortmund Beteiligung", "en": "Dortmund Participation"}

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "email_confirmation": {
        "de": (
            "Bitte bestätige deine E-Mail-Adresse – {app}",
            "Hallo {name},\n\n"
            "willkommen bei {app}! Bitte bestätige deine E-Mail-Adresse über diesen Link "
            "(er gilt sieben Tage und funktioniert nur einmal):\n\n"
            "{link}\n\n"
            "Wenn du dich nicht angemeldet hast, kannst du diese E-Mail einfach ignorieren.\n",
        ),
        "en": (
            "Please confirm your e-mail address – {app}",
            "Hello {name},\n\n"
            "welcome to {app}! Please confirm your e-mail address with this link "
            "(valid for seven days, usable once):\n\n"
            "{link}\n\n"
            "If you did not sign up, you can simply ignore this e-mail.\n",
        ),
    },
    "password_reset": {
        "de": (
            "Passwort zurücksetzen – {app}",
            "Hallo {name},\n\n"
            "jemand (hoffentlich du) möchte das Passwort deines Kontos bei {app} zurücksetzen. "
            "Über diesen Link kannst du eine Stunde lang ein neues Passwort wählen; er funktioniert nur einmal:\n\n"
            "{link}\n\n"
            "Warst du das nicht? Dann ignoriere diese E-Mail: Dein Passwort bleibt, wie es ist.\n",
        ),
        "en": (
            "Reset your password – {app}",
            "Hello {name},\n\n"
            "someone (hopefully you) asked to reset the password of your {app} account. "
            "This link lets you choose a new password for one hour; it works only once:\n\n"
            "{link}\n\n"
            "Not you? Then ignore this e-mail: your password stays as it is.\n",
        ),
    },
    "password_changed": {
        "de": (
            "Dein Passwort wurde geändert – {app}",
            "Hallo {name},\n\n"
            "das Passwort deines Kontos bei {app} wurde gerade geändert. "
            "Andere Anmeldungen wurden dabei abgemeldet.\n\n"
            "Warst du das nicht? Dann setze dein Passwort sofort zurück:\n\n"
            "{link}\n",
        ),
        "en": (
            "Your password was changed – {app}",
            "Hello {name},\n\n"
            "the password of your {app} account was just changed. "
            "Other logins were signed out.\n\n"
            "Not you? Then reset your password right away:\n\n"
            "{link}\n",
        ),
    },
}


def render(kind: str, lang: str, **values) -> tuple[str, str]:
    """(subject, text) of one mail in the language (German unless English is asked for)."""
    lang = lang if lang in ("de", "en") else "de"
    subject, text = TEXTS[kind][lang]
    values.setdefault("app", APP_NAME[lang])
    return subject.format(**values), text.format(**values)
