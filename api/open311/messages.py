"""Messages of the Open311 interface (models.open311, api.open311)."""
from __future__ import annotations

from api.i18n import register_messages

register_messages(
    {
        "unknown_service": {"de": "Diesen Dienst (service_code) gibt es nicht.", "en": "There is no such service (service_code)."},
        "unknown_attribute": {
            "de": "Dieses Attribut gehört nicht zur Dienstdefinition.",
            "en": "This attribute is not part of the service definition.",
        },
        "unknown_attribute_value": {
            "de": "Dieser Wert steht nicht in der Liste des Attributs.",
            "en": "This value is not one of the attribute's values.",
        },
        "one_value_only": {"de": "Nur ein Wert erlaubt.", "en": "Only one value is allowed."},
        "not_a_number": {"de": "Keine Zahl.", "en": "Not a number."},
        "attribute_required": {"de": "Pflichtangabe.", "en": "Required."},
        "attribute_too_long": {"de": "Höchstens {max} Zeichen.", "en": "At most {max} characters."},
        "coordinate_missing": {
            "de": "lat und long werden zusammen angegeben.",
            "en": "lat and long go together.",
        },
        "location_required": {
            "de": "Ort fehlt: lat und long oder address_string angeben.",
            "en": "Location missing: give lat and long or address_string.",
        },
        "address_not_placed": {
            "de": "Diese Adresse lässt sich nicht in Dortmund verorten; bitte lat und long angeben.",
            "en": "This address cannot be placed in Dortmund; please give lat and long.",
        },
        "invalid_key_name": {
            "de": "Schlüsselnamen: 2–80 Zeichen, Kleinbuchstaben, Ziffern, Punkt, Binde- und Unterstrich.",
            "en": "Key names: 2–80 characters, lower-case letters, digits, dot, hyphen and underscore.",
        },
        "key_name_taken": {"de": "Einen Schlüssel mit diesem Namen gibt es schon.", "en": "A key of this name exists already."},
        "open311_invalid_key": {"de": "Ungültiger oder widerrufener api_key.", "en": "Invalid or revoked api_key."},
        "open311_request_not_found": {"de": "Diese Meldung gibt es nicht.", "en": "There is no such service request."},
        "open311_jurisdiction_not_found": {
            "de": "Diese jurisdiction_id wird hier nicht bedient.",
            "en": "This jurisdiction_id is not served here.",
        },
        "open311_invalid_time": {
            "de": "Zeitpunkt im W3C-Format mit Zeitzone angeben, z. B. 2026-03-01T00:00:00+01:00.",
            "en": "Give a W3C time with an offset, for example 2026-03-01T00:00:00+01:00.",
        },
        "open311_window_too_long": {
            "de": "Der Zeitraum darf höchstens {days} Tage umfassen.",
            "en": "The time range may span at most {days} days.",
        },
        "open311_window_reversed": {"de": "start_date liegt nach end_date.", "en": "start_date is after end_date."},
        "open311_invalid_ids": {
            "de": "service_request_id: durch Kommas getrennte Nummern, höchstens {max}.",
            "en": "service_request_id: numbers separated by commas, at most {max}.",
        },
        "open311_invalid_status": {"de": "status: open oder closed.", "en": "status: open or closed."},
        "open311_invalid_url": {
            "de": "media_url: eine http- oder https-Adresse.",
            "en": "media_url: an http or https address.",
        },
        "open311_form_only": {
            "de": "Service-Requests werden als Formular gesendet (application/x-www-form-urlencoded oder multipart/form-data).",
            "en": "Service requests are sent as a form (application/x-www-form-urlencoded or multipart/form-data).",
        },
    }
)
