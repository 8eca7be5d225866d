"""What a notification says, in German or English: the same words on the phone and in the inbox.

Only fixed texts and the object's title: push payloads pass through Firebase (a processor
outside the EU), so no names and no user-written text beyond the title go there.
"""
from __future__ import annotations

from models.outbox import category_of

TEXTS: dict[str, dict[str, str]] = {
    "idea_status_changed": {
        "de": "Der Status einer Idee, der du folgst, hat sich geändert.",
        "en": "The status of an idea you follow has changed.",
    },
    "idea_response": {
        "de": "Die Stadt hat auf eine Idee geantwortet, der du folgst.",
        "en": "The city has answered an idea you follow.",
    },
    "idea_comment": {
        "de": "Neuer Kommentar zu einer Idee, der du folgst.",
        "en": "New comment on an idea you follow.",
    },
    "report_status_changed": {
        "de": "Es gibt Neues zu einer Meldung, der du folgst.",
        "en": "There is news about a report you follow.",
    },
    "report_update": {
        "de": "Die Stadt hat eine Meldung, der du folgst, kommentiert.",
        "en": "The city has added a note to a report you follow.",
    },
    "report_reopened": {
        "de": "Eine Meldung, der du folgst, wurde wieder geöffnet.",
        "en": "A report you follow has been reopened.",
    },
    "report_feedback_request": {
        "de": "Deine Meldung wurde erledigt. Hat es geholfen?",
        "en": "Your report has been dealt with. Did it help?",
    },
    "moderation_decision:approve": {"de": "Dein Beitrag wurde freigeschaltet.", "en": "Your contribution has been published."},
    "moderation_decision:reject": {
        "de": "Dein Beitrag wurde von der Moderation abgelehnt.",
        "en": "Your contribution was rejected by moderation.",
    },
    "moderation_decision:hide": {"de": "Dein Beitrag wurde vorläufig ausgeblendet.", "en": "Your contribution has been hidden for now."},
    "moderation_decision:restore": {"de": "Dein Beitrag ist wieder sichtbar.", "en": "Your contribution is visible again."},
    "budget_voting_opened": {
        "de": "Die Abstimmung hat begonnen: Deine Stimme zählt.",
        "en": "Voting has started: your vote counts.",
    },
    "budget_voting_closes_soon": {
        "de": "Die Abstimmung endet bald. Hast du schon abgestimmt?",
        "en": "Voting closes soon. Have you voted yet?",
    },
    "budget_results_published": {"de": "Das Ergebnis der Abstimmung ist da.", "en": "The result of the vote is out."},
    "district_news": {"de": "Neues aus deinem Stadtbezirk.", "en": "News from your district."},
}
FALLBACK = {"de": "Es gibt Neuigkeiten.", "en": "There is news."}


def _key(event_type: str, data: dict) -> str:
    if event_type == "moderation_decision" and data.get("action"):
        return f"{event_type}:{data['action']}"
    return event_type


def body(event_type: str, data: dict, locale: str) -> str:
    texts = TEXTS.get(_key(event_type, data)) or FALLBACK
    return texts.get(locale) or texts["de"]


def collapse_key(object_type: str, object_id: int, data: dict | None = None) -> str:
    """One per object: ten updates of one idea (its answers, comments) show as one on the phone."""
    if data and data.get("idea_id"):
        return f"idea-{data['idea_id']}"
    if data and data.get("report_id"):
        return f"report-{data['report_id']}"
    return f"{object_type}-{object_id}"


def channel(event_type: str, object_type: str | None = None) -> str:
    """The Android notification channel: one per preference category."""
    return category_of(event_type, object_type)


def payload(event_type: str, object_type: str, object_id: int, data: dict, notification_id: int | None = None) -> dict[str, str]:
    """The `data` the app routes with: every value a string, as FCM requires."""
    routed = {"type": event_type, "object_type": object_type, "object_id": str(object_id)}
    routed.update({str(k): str(v) for k, v in data.items()})
    if notification_id is not None:
        routed["notification_id"] = str(notification_id)
    return routed
