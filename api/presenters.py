"""Objects as the API shows them, for a given viewer. One presenter per resource."""
from __future__ import annotations

from api.fields import UTCDateTime
from models.users import User

_time = UTCDateTime()
DELETED_ACCOUNT = "Gelöschtes Konto"


def iso(value) -> str | None:
    return _time._serialize(value, None, None)


def user_ref(user: User | None) -> dict:
    if user is None or user.deleted_at is not None:
        return {"id": None, "display_name": DELETED_ACCOUNT}
    return {"id": user.id, "display_name": user.display_name}


def idea(idea, viewer: User | None, supported: bool = False, following: bool = False) -> dict:
    return {
        "id": idea.id,
        "title": idea.title,
        "body": idea.body,
        "category": idea.category,
        "district": idea.district,
        "location": {"lat": idea.lat, "lon": idea.lon} if idea.lat is not None else None,
        "status": idea.status,
        "visibility": idea.visibility,
        "author": user_ref(idea.author),
        "support_count": idea.support_count,
        "comment_count": idea.comment_count,
        "supported_by_me": supported,
        "following": following,
        "official_response": (
            {"status": idea.response_status, "body": idea.response_body, "responded_at": iso(idea.responded_at)}
            if idea.responded_at is not None
            else None
        ),
        "moderation": (
            {"reason_code": idea.moderation_reason_code, "note": idea.moderation_note, "decided_at": iso(idea.moderation_decided_at)}
            if idea.moderation_decided_at is not None and idea.can_see_moderation(viewer)
            else None
        ),
        "created_at": iso(idea.created_at),
        "updated_at": iso(idea.updated_at),
    }


def comment(comment) -> dict:
    return {
        "id": comment.id,
        "idea_id": comment.idea_id,
        "parent_id": comment.parent_id,
        "body": comment.body if comment.status != "deleted" else "",
        "author": user_ref(comment.author) if comment.status != "deleted" else {"id": None, "display_name": ""},
        "status": comment.status,
        "visibility": comment.visibility,
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
    }
