"""Moderation: the queue (pending, flagged, appeals; oldest first) with one-click decisions, the log, blocks."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import g, redirect, render_template, request, url_for
from sqlalchemy import select

from api.extensions import db
from api.pagination import SortKey, decode_cursor, encode_cursor, keyset_page
from api.presenters import photo_url
from api.transactions import writes
from models import moderation as domain
from models.errors import DomainError
from models.moderation import REASON_CODES, ModerationDecision, QueueEntry
from models.reference import DISTRICTS

from ..texts import t
from . import blp, page

PAGE_SIZE = 25
TARGET_TYPES = ("idea", "comment", "report")
STATES = ("pending", "flagged", "appeal")
ACTIONS = ("approve", "reject", "hide", "restore")


def _as_time(value) -> datetime | None:
    # The queue's driver values: datetimes, or text on SQLite.
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)[:19]).replace(tzinfo=timezone.utc)


def _waited(since: datetime | None) -> str:
    if since is None:
        return ""
    minutes = int((datetime.now(timezone.utc) - since).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _queue_items(target_type, state, district, after):
    entries = domain.queue_page(db.session, target_type, state, PAGE_SIZE, after, district=district)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    targets = domain.load_targets(db.session, [(e["target_type"], e["target_id"]) for e in entries])
    items = []
    for e in entries:
        target = targets.get((e["target_type"], e["target_id"]))
        since = _as_time(e["waiting_since"])
        photos = [photo_url(p.thumbnail_key) for p in getattr(target, "photos", None) or []]
        items.append(dict(e, since=since, waited=_waited(since), photos=photos,
                          district=getattr(target, "district", None), author_name=e["author"][1]))
    next_cursor = encode_cursor("console-queue", [entries[-1]["entry_id"]]) if more and entries else None
    return items, next_cursor


@blp.get("/moderation")
@page("moderator")
def queue():
    target_type = request.args.get("type") if request.args.get("type") in TARGET_TYPES else None
    state = request.args.get("state") if request.args.get("state") in STATES else None
    districts = [slug for slug, _ in DISTRICTS]
    district = request.args.get("district") if request.args.get("district") in districts else None
    cursor = request.args.get("cursor")
    after = decode_cursor("console-queue", cursor, [QueueEntry.__table__.c.id])[0] if cursor else None
    items, next_cursor = _queue_items(target_type, state, district, after)
    return render_template("console/queue.html", items=items, next_cursor=next_cursor, target_type=target_type,
                           state=state, district=district, districts=DISTRICTS, target_types=TARGET_TYPES, states=STATES,
                           reason_codes=REASON_CODES)


@blp.post("/moderation/decisions")
@page("moderator")
@writes
def decide():
    form = request.form
    action = form.get("action")
    back = url_for("console.queue", **{k: v for k, v in request.args.items() if k in ("type", "state", "district")})
    try:
        target_id = int(form.get("target_id", ""))
        if action not in ACTIONS or form.get("target_type") not in TARGET_TYPES:
            raise ValueError
    except ValueError:
        return render_template("console/error.html", message=t("invalid_input"), back=back), 422
    try:
        domain.decide(db.session, g.console_user, form["target_type"], target_id, action, form.get("reason_code") or "",
                      (form.get("note") or "").strip() or None)
    except DomainError as error:
        # The API's words and status for the same refusal (409 for a state that does not fit).
        status = getattr(error, "http_status", 409)
        message = t(error.message_key, **error.params)
        if request.headers.get("HX-Request"):
            return render_template("console/_decision_result.html", message=message, failed=True), status
        return render_template("console/error.html", message=message, back=back), status
    if request.headers.get("HX-Request"):
        return render_template("console/_decision_result.html", message=t("decided"))
    return redirect(back)


@blp.get("/moderation/log")
@page("moderator")
def log():
    stmt = select(ModerationDecision)
    if request.args.get("target_type") in TARGET_TYPES:
        stmt = stmt.where(ModerationDecision.target_type == request.args["target_type"])
    if (request.args.get("target_id") or "").isdigit():
        stmt = stmt.where(ModerationDecision.target_id == int(request.args["target_id"]))
    rows, next_cursor = keyset_page(db.session, stmt, [SortKey(ModerationDecision.id)], "console-log", 50, request.args.get("cursor"))
    return render_template("console/log.html", decisions=rows, next_cursor=next_cursor)
