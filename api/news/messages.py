"""Messages of the district news rules (models.news)."""
from __future__ import annotations

from api.i18n import register_messages

register_messages(
    {
        "news_starts_at_required": {
            "de": "Veranstaltungen und Sprechstunden brauchen einen Beginn (starts_at).",
            "en": "Events and office hours need a start (starts_at).",
        },
        "news_ends_before_start": {
            "de": "Das Ende muss nach dem Beginn liegen.",
            "en": "The end must come after the start.",
        },
        "news_ends_without_start": {
            "de": "Ein Ende (ends_at) braucht einen Beginn (starts_at).",
            "en": "An end (ends_at) needs a start (starts_at).",
        },
    }
)
