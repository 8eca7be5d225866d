"""Messages of the report rules (models.reports) and of the photo pipeline (media/)."""
from __future__ import annotations

from api.i18n import register_messages

register_messages(
    {
        "report_outside_city": {
            "de": "Dieser Ort liegt nicht in Dortmund. Bitte die Stelle auf der Karte innerhalb der Stadtgrenze setzen.",
            "en": "This place is not in Dortmund. Please put the pin inside the city boundary.",
        },
        "report_default_pin": {
            "de": "Bitte die Stelle auf der Karte genau setzen: Die Markierung steht noch am Ausgangspunkt.",
            "en": "Please place the pin where the problem is: it is still at the map's starting point.",
        },
        "category_wrong_kind": {
            "de": "Diese Kategorie passt nicht zur Art der Meldung ({kind}).",
            "en": "This category does not belong to this kind of report ({kind}).",
        },
        "too_many_photos": {"de": "Höchstens {max} Fotos pro Meldung.", "en": "At most {max} photos per report."},
        "photo_ids_repeated": {"de": "Ein Foto ist mehrfach angegeben.", "en": "A photo is listed more than once."},
        "unknown_photo": {
            "de": "Foto {id} gibt es nicht, es gehört jemand anderem oder wurde schon verwendet.",
            "en": "Photo {id} does not exist, belongs to someone else or has been used already.",
        },
        "photo_ids_with_files": {
            "de": "Entweder Fotos mitsenden oder photo_ids angeben, nicht beides.",
            "en": "Either send photos or give photo_ids, not both.",
        },
        "photo_required": {"de": "Bitte ein Foto im Feld „photo“ senden.", "en": "Please send a photo in the field 'photo'."},
        "report_closed": {
            "de": "Diese Meldung ist schon abgeschlossen ({status}).",
            "en": "This report is closed already ({status}).",
        },
        "report_not_public": {
            "de": "Diese Meldung ist nicht öffentlich (Status {status}, {visibility}).",
            "en": "This report is not public (status {status}, {visibility}).",
        },
        "duplicate_of_required": {
            "de": "Bitte angeben, welche Meldung das Original ist (duplicate_of).",
            "en": "Please name the original report (duplicate_of).",
        },
        "duplicate_of_not_public": {
            "de": "Das Original muss eine andere öffentliche Meldung sein.",
            "en": "The original must be another public report.",
        },
        "duplicate_of_circular": {
            "de": "Diese Meldung ist selbst das Original der angegebenen.",
            "en": "This report is itself the original of the one named.",
        },
        "duplicate_of_only_for_duplicate": {
            "de": "duplicate_of gehört nur zum Status „duplicate“.",
            "en": "duplicate_of belongs to the status 'duplicate' only.",
        },
        "report_reporter_only": {
            "de": "Das kann nur, wer die Meldung erstellt hat.",
            "en": "Only the person who filed the report can do this.",
        },
        "report_not_resolved": {
            "de": "Die Meldung ist nicht als erledigt markiert ({status}).",
            "en": "The report is not marked as resolved ({status}).",
        },
        "report_reopen_window_over": {
            "de": "Eine erledigte Meldung kann nur innerhalb von {days} Tagen wieder geöffnet werden. Bitte eine neue Meldung erstellen.",
            "en": "A resolved report can be reopened within {days} days only. Please file a new report.",
        },
        "report_feedback_given": {
            "de": "Du hast zu dieser Meldung schon geantwortet.",
            "en": "You have already answered for this report.",
        },
        "unknown_department": {"de": "Unbekannte Dienststelle: {department}.", "en": "Unknown department: {department}."},
    }
)


def _register_media_messages() -> None:
    from media.messages import MESSAGES

    register_messages(MESSAGES)


_register_media_messages()
