"""Objects as the API shows them, for a given viewer. One presenter per resource."""
from __future__ import annotations

from datetime import timezone

from models.users import User

DELETED_ACCOUNT = "Gelöschtes Konto"


def iso(value) -> str | None:
    """UTC time as the API writes it. Takes datetimes (stored as UTC, models.base.UTCDateTime)
    and, from prepared queries on SQLite, the driver's text `YYYY-MM-DD HH:MM:SS[.ffffff]`."""
    if value is None:
        return None
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:19]}+00:00"
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def user_ref(user: User | None) -> dict:
    if user is None:
        return {"id": None, "display_name": DELETED_ACCOUNT}
    return user_ref_from(user.id, user.display_name, user.deleted_at)


def user_ref_from(user_id: int | None, display_name: str | None, deleted_at) -> dict:
    """`{id, display_name}` of an author; erased accounts show as "Gelöschtes Konto"."""
    if user_id is None or deleted_at is not None:
        return {"id": None, "display_name": DELETED_ACCOUNT}
    return {"id": user_id, "display_name": display_name}


def idea(idea, viewer: User | None, supported: bool = False, following: bool = False) -> dict:
    """An Idea object as its viewer sees it."""
    return idea_fields(idea, user_ref(idea.author), idea.can_see_moderation(viewer), supported, following)


def may_see_moderation(viewer: User | None, author_id: int | None) -> bool:
    return viewer is not None and (viewer.id == author_id or viewer.is_moderator or viewer.is_staff)


def moderation_info(content, show: bool) -> dict | None:
    """The latest moderation decision as its author sees it (models.base.ShowsModeration)."""
    if not show or content.moderation_decided_at is None:
        return None
    return {"reason_code": content.moderation_reason_code, "note": content.moderation_note, "decided_at": iso(content.moderation_decided_at)}


def idea_fields(idea, author: dict, show_moderation: bool, supported: bool, following: bool) -> dict:
    """The Idea shape from anything with the idea's column attributes (an Idea or a list row)."""
    return {
        "id": idea.id,
        "title": idea.title,
        "body": idea.body,
        "category": idea.category,
        "district": idea.district,
        "location": {"lat": idea.lat, "lon": idea.lon} if idea.lat is not None else None,
        "status": idea.status,
        "visibility": idea.visibility,
        "author": author,
        "support_count": idea.support_count,
        "comment_count": idea.comment_count,
        "supported_by_me": supported,
        "following": following,
        "official_response": (
            {"status": idea.response_status, "body": idea.response_body, "responded_at": iso(idea.responded_at)}
            if idea.responded_at is not None
            else None
        ),
        "moderation": moderation_info(idea, show_moderation),
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


def photo_url(key: str) -> str:
    return f"/api/v1/photos/{key}"


def report_fields(report, show_moderation: bool) -> dict:
    """The Report shape without the viewer's own fields (`following`, `confirmed_by_me`, `reported_by_me`)."""
    return {
        "id": report.id,
        "kind": report.kind,
        "category": report.category,
        "description": report.description,
        "lat": report.lat,
        "lon": report.lon,
        "district": report.district,
        "department": report.department,
        "status": report.status,
        "visibility": report.visibility,
        "duplicate_of": report.duplicate_of,
        "photos": [
            {"url": photo_url(p.image_key), "thumbnail_url": photo_url(p.thumbnail_key), "width": p.width, "height": p.height}
            for p in report.photos
        ],
        "confirmations": report.confirmation_count,
        "feedback": {"helped": report.helped_count, "not_helped": report.not_helped_count},
        "moderation": moderation_info(report, show_moderation),
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "resolved_at": iso(report.resolved_at),
        "updates": [
            {"status": u.status, "note": u.note, "by": u.by, "duplicate_of": u.duplicate_of, "created_at": iso(u.created_at)}
            for u in report.updates
        ],
    }


def report(report, viewer, following: bool = False, confirmed: bool = False) -> dict:
    """A Report object as its viewer sees it."""
    fields = report_fields(report, report.can_see_moderation(viewer))
    fields["following"] = following
    fields["confirmed_by_me"] = confirmed
    fields["reported_by_me"] = viewer is not None and viewer.id == report.reporter_id
    return fields
