"""The console's words, German first (English switchable with ?lang=en, kept in the session)."""
from __future__ import annotations

from flask import request, session

from api.i18n import translate

TEXTS: dict[str, tuple[str, str]] = {
    "app_name": ("Dortmund Beteiligung – Verwaltung", "Dortmund participation – staff console"),
    "skip_to_content": ("Zum Inhalt springen", "Skip to content"),
    "nav": ("Hauptnavigation", "Main navigation"),
    "nav_moderation": ("Moderation", "Moderation"),
    "nav_log": ("Protokoll", "Log"),
    "nav_reports": ("Meldungen", "Reports"),
    "nav_ideas": ("Ideen", "Ideas"),
    "nav_news": ("Neuigkeiten", "News"),
    "nav_budgets": ("Bürgerbudgets", "Budget rounds"),
    "nav_security": ("Zwei-Faktor", "Two-factor"),
    "logout": ("Abmelden", "Log out"),
    "language": ("Sprache", "Language"),
    "login_title": ("Anmelden", "Log in"),
    "email": ("E-Mail-Adresse", "E-mail address"),
    "password": ("Passwort", "Password"),
    "login_button": ("Anmelden", "Log in"),
    "login_failed": ("E-Mail-Adresse oder Passwort ist falsch.", "Wrong e-mail address or password."),
    "login_throttled": ("Zu viele Fehlversuche. Bitte in {minutes} Minuten erneut versuchen.",
                        "Too many failed attempts. Please try again in {minutes} minutes."),
    "not_for_residents": ("Die Verwaltung ist nur für Moderation und Mitarbeitende der Stadt. Bitte die App verwenden.",
                          "The console is for moderators and city staff only. Please use the app."),
    "session_ended": ("Die Sitzung ist beendet. Bitte erneut anmelden.", "Your session has ended. Please log in again."),
    "two_factor_title": ("Bestätigungscode", "Verification code"),
    "two_factor_code": ("Code aus der Authenticator-App oder ein Wiederherstellungscode",
                        "Code from the authenticator app or a recovery code"),
    "two_factor_wrong": ("Der Code stimmt nicht.", "The code is not right."),
    "confirm": ("Bestätigen", "Confirm"),
    "enrol_title": ("Zwei-Faktor-Anmeldung einrichten", "Set up two-factor login"),
    "enrol_required": ("Für dieses Konto ist die Zwei-Faktor-Anmeldung vorgeschrieben.",
                       "Two-factor login is required for this account."),
    "enrol_scan": ("Den QR-Code mit einer Authenticator-App scannen oder den Schlüssel eingeben, dann den angezeigten Code bestätigen.",
                   "Scan the QR code with an authenticator app or type in the key, then confirm the code it shows."),
    "enrol_key": ("Schlüssel", "Key"),
    "enrol_qr_alt": ("QR-Code für die Authenticator-App", "QR code for the authenticator app"),
    "recovery_title": ("Wiederherstellungscodes", "Recovery codes"),
    "recovery_note": ("Diese Codes jetzt sicher aufbewahren: Jeder ersetzt einmal den Code der App. Sie werden nicht wieder angezeigt.",
                      "Keep these codes safe now: each replaces the app's code once. They will not be shown again."),
    "continue": ("Weiter", "Continue"),
    "two_factor_active": ("Die Zwei-Faktor-Anmeldung ist eingerichtet.", "Two-factor login is set up."),
    "csrf_failed": ("Das Formular war abgelaufen oder nicht von dieser Seite. Es wurde nichts geändert; bitte erneut versuchen.",
                    "The form had expired or did not come from this page. Nothing was changed; please try again."),
    "error_title": ("Fehler", "Error"),
    "back": ("Zurück", "Back"),
    "queue_title": ("Moderation: Warteschlange", "Moderation queue"),
    "filter": ("Filtern", "Filter"),
    "all": ("Alle", "All"),
    "type": ("Art", "Type"),
    "state": ("Zustand", "State"),
    "district": ("Stadtbezirk", "District"),
    "waiting": ("Wartet seit", "Waiting since"),
    "when": ("Zeitpunkt", "When"),
    "snapshot": ("Inhalt damals", "Content then"),
    "snapshot_show": ("Anzeigen", "Show"),
    "flags": ("Beanstandungen", "Flags"),
    "reasons": ("Gründe", "Reasons"),
    "author": ("Verfasst von", "Author"),
    "excerpt": ("Auszug", "Excerpt"),
    "appeal": ("Einspruch", "Appeal"),
    "decision": ("Entscheidung", "Decision"),
    "reason_code": ("Begründung", "Reason"),
    "note": ("Notiz", "Note"),
    "action_approve": ("Freigeben", "Approve"),
    "action_reject": ("Ablehnen", "Reject"),
    "action_hide": ("Verbergen", "Hide"),
    "action_restore": ("Wiederherstellen", "Restore"),
    "queue_empty": ("Nichts wartet. Gut gemacht!", "Nothing is waiting. Well done!"),
    "decided": ("Entscheidung gespeichert.", "Decision saved."),
    "more": ("Weitere", "More"),
    "target_idea": ("Idee", "Idea"),
    "target_comment": ("Kommentar", "Comment"),
    "target_report": ("Meldung", "Report"),
    "state_pending": ("Vorabprüfung", "Pre-moderation"),
    "state_flagged": ("Gemeldet", "Flagged"),
    "state_appeal": ("Einspruch", "Appeal"),
    "reports_title": ("Meldungen: offene Fälle", "Reports: open cases"),
    "reports_caption": ("Offene Meldungen, am längsten wartende zuerst", "Open reports, longest waiting first"),
    "reports_empty": ("Keine offenen Meldungen.", "No open reports."),
    "department": ("Zuständige Stelle", "Department"),
    "category": ("Kategorie", "Category"),
    "status": ("Status", "Status"),
    "confirmations": ("Bestätigungen", "Confirmations"),
    "duplicate_of": ("Doppelt zu Meldung", "Duplicate of report"),
    "duplicate_hint": ("Nur beim Status „Doppelt“: Meldungen derselben Kategorie in der Nähe.",
                       "Only with the status 'duplicate': reports of the same category close by."),
    "photo": ("Foto", "Photo"),
    "place": ("Ort", "Place"),
    "map_caption": ("Stadtbezirk {district}; Punkt {lat}, {lon}", "District {district}; point {lat}, {lon}"),
    "timeline": ("Verlauf", "Timeline"),
    "timeline_empty": ("Noch keine Aktualisierung.", "No update yet."),
    "post_update": ("Aktualisierung veröffentlichen", "Post update"),
    "status_pending": ("Wartet auf Prüfung", "Pending"),
    "status_open": ("Offen", "Open"),
    "status_acknowledged": ("Angenommen", "Acknowledged"),
    "status_in_progress": ("In Bearbeitung", "In progress"),
    "status_resolved": ("Erledigt", "Resolved"),
    "status_duplicate": ("Doppelt", "Duplicate"),
    "status_rejected": ("Abgelehnt", "Rejected"),
    "shortcuts": ("Tastatur: a = freigeben, r = ablehnen, h = verbergen (im gewählten Eintrag)",
                  "Keys: a = approve, r = reject, h = hide (in the focused item)"),
}



def register_texts(texts: dict[str, tuple[str, str]]) -> None:
    """Each page module brings its own words ({key: (German, English)})."""
    for key, pair in texts.items():
        if key in TEXTS and TEXTS[key] != pair:
            raise ValueError(f"console text {key!r} defined twice with different words")
        TEXTS[key] = pair


REASON_CODES = {
    "ok": ("In Ordnung", "OK"),
    "spam": ("Spam", "Spam"),
    "offensive": ("Beleidigend", "Offensive"),
    "personal_data": ("Persönliche Daten", "Personal data"),
    "off_topic": ("Themenfremd", "Off topic"),
    "duplicate": ("Doppelt", "Duplicate"),
    "illegal": ("Rechtswidrig", "Illegal"),
    "other": ("Anderes", "Other"),
}


def lang() -> str:
    chosen = session.get("lang")
    if chosen in ("de", "en"):
        return chosen
    return request.accept_languages.best_match(["de", "en"], default="de")


def t(key: str, **params) -> str:
    pair = TEXTS.get(key)
    if pair is None:
        # Messages of the domain (409s, 422s): the same words the API answers with.
        return translate(key, lang(), **params)
    text = pair[1] if lang() == "en" else pair[0]
    return text.format(**params) if params else text


def reason_name(code: str) -> str:
    pair = REASON_CODES.get(code, (code, code))
    return pair[1] if lang() == "en" else pair[0]
