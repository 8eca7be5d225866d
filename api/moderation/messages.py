"""Messages of the moderation rules on blocks and on answers to ideas out of public view."""
from __future__ import annotations

from api.i18n import register_messages

register_messages(
    {
        "block_self": {
            "de": "Die eigene Sperre kann niemand setzen, ändern oder aufheben.",
            "en": "Nobody can set, change or lift their own block.",
        },
        "block_needs_admin": {
            "de": "Konten von Mitarbeiter*innen der Stadt und von Admins sperrt oder entsperrt nur ein Admin.",
            "en": "Only an admin can block or unblock accounts of city staff and admins.",
        },
        "idea_not_public": {
            "de": "Die Stadt antwortet nur auf öffentliche Ideen; diese wartet auf die Moderation oder ist ausgeblendet.",
            "en": "The city answers public ideas only; this one awaits moderation or is hidden.",
        },
    }
)
