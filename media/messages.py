"""Resident-facing texts for the photo refusals (German first); the API registers them."""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "photo_unsupported_type": {
        "de": "Bitte ein Foto im Format JPEG, PNG, WebP oder HEIC senden.",
        "en": "Please send a photo in JPEG, PNG, WebP or HEIC format.",
    },
    "photo_too_large": {
        "de": "Das Foto ist zu groß (höchstens {max_mb} MB).",
        "en": "The photo is too large (at most {max_mb} MB).",
    },
    "photo_too_many_pixels": {
        "de": "Das Foto hat zu viele Bildpunkte (höchstens {max_megapixels} Megapixel).",
        "en": "The photo has too many pixels (at most {max_megapixels} megapixels).",
    },
    "photo_unreadable": {
        "de": "Das Foto ist beschädigt oder unvollständig. Bitte noch einmal aufnehmen oder auswählen.",
        "en": "The photo is damaged or incomplete. Please take or choose it again.",
    },
    "photo_storage_unavailable": {
        "de": "Das Foto kann gerade nicht gespeichert werden. Bitte gleich noch einmal versuchen.",
        "en": "The photo cannot be saved right now. Please try again in a moment.",
    },
}
