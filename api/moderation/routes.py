"""Moderation: flags from users, the moderators' queue, decisions, the log, appeals, blocks."""
from __future__ import annotations

from flask import current_app
from api.parsing import Blueprint
from sqlalchemy import select

from api import presenters
from api.extensions import db
from api.pagination import SortKey, decode_cursor, encode_cursor, keyset_page
from api.responses import created, json_response
from api.security import login_required, require_user
from api.transactions import writes
from models import moderation as domain
from models.moderation import ModerationDecision, QueueEntry

from .schemas import (
    AppealCreateSchema,
    AppealSchema,
    BlockSchema,
    DecisionCreateSchema,
    DecisionSchema,
    FlagCreateSchema,
    FlagSchema,
    LogArgs,
    LogPageSchema,
    QueueArgs,
    QueuePageSchema,
)

blp = Blueprint("moderation", __name__, description="Flags, moderation queue, decisions and appeals")


def present_decision(decision: ModerationDecision, with_snapshot: bool = False) -> dict:
    data = {
        "id": decision.id,
        "target_type": decision.target_type,
        "target_id": decision.target_id,
        "action": decision.action,
        "reason_code": decision.reason_code,
        "note": decision.note,
        "moderator": presenters.user_ref(decision.moderator) if decision.moderator_id is not None else None,
        "created_at": presenters.iso(decision.created_at),
    }
    if with_snapshot:
        data["snapshot"] = decision.snapshot
    return data


@blp.route("/flags", methods=["POST"])
@login_required(contributes=True, confirmed_email=True)
@writes(idempotent=True)
@blp.arguments(FlagCreateSchema())
@blp.response(201, FlagSchema)
@blp.alt_response(404, description="The target does not exist or is not visible to the caller")
@blp.alt_response(409, description="The caller flagged it already")
def create_flag(payload):
    """Flag an idea or comment as problematic; enough distinct flaggers hide it pending review."""
    flag = domain.flag(
        db.session,
        require_user(),
        payload["target_type"],
        payload["target_id"],
        payload["reason"],
        payload["comment"],
        threshold=current_app.config["FLAG_HIDE_THRESHOLD"],
    )
    return created({"id": flag.id}, f"/api/v1/flags/{flag.id}")


@blp.route("/moderation/queue")
@login_required(role="moderator")
@blp.arguments(QueueArgs(), location="query")
@blp.response(200, QueuePageSchema)
def queue(args):
    """Content waiting for a moderator, oldest first: pending, flagged (or hidden automatically), appeals."""
    after = decode_cursor("queue", args["cursor"], [QueueEntry.__table__.c.id])[0] if args["cursor"] else None
    entries = domain.queue_page(db.session, args.get("type"), args.get("state"), args["limit"], after, district=args.get("district"))
    next_cursor = None
    if len(entries) > args["limit"]:
        entries = entries[: args["limit"]]
        next_cursor = encode_cursor("queue", [entries[-1]["entry_id"]])
    items = [
        {
            "target_type": e["target_type"],
            "target_id": e["target_id"],
            "state": e["state"],
            "excerpt": e["excerpt"],
            "flags": e["flags"],
            "reasons": e["reasons"],
            "author": presenters.user_ref_from(*e["author"]),
            "waiting_since": presenters.iso(e["waiting_since"]),
            "appeal": (
                {"id": e["appeal"][0], "text": e["appeal"][1], "created_at": presenters.iso(e["appeal"][2])}
                if e["appeal"] is not None
                else None
            ),
        }
        for e in entries
    ]
    return json_response({"items": items, "next_cursor": next_cursor})


@blp.route("/moderation/decisions", methods=["POST"])
@login_required(role="moderator")
@writes(idempotent=True)
@blp.arguments(DecisionCreateSchema())
@blp.response(201, DecisionSchema)
@blp.alt_response(404, description="The target does not exist")
@blp.alt_response(409, description="The action does not fit the target's state")
def create_decision(payload):
    """Approve, reject, hide or restore content; logged with a snapshot, the author is told."""
    decision = domain.decide(db.session, require_user(), **payload)
    return created(present_decision(decision), f"/api/v1/moderation/log?target_type={decision.target_type}&target_id={decision.target_id}")


@blp.route("/moderation/log")
@login_required(role="moderator")
@blp.arguments(LogArgs(), location="query")
@blp.response(200, LogPageSchema)
def moderation_log(args):
    """Every decision and automatic hide, newest first, with the content as it was."""
    stmt = select(ModerationDecision)
    if "target_type" in args:
        stmt = stmt.where(ModerationDecision.target_type == args["target_type"])
    if "target_id" in args:
        stmt = stmt.where(ModerationDecision.target_id == args["target_id"])
    rows, next_cursor = keyset_page(db.session, stmt, [SortKey(ModerationDecision.id)], "moderation-log", args["limit"], args["cursor"])
    return json_response({"items": [present_decision(d, with_snapshot=True) for d in rows], "next_cursor": next_cursor})


@blp.route("/moderation/appeals", methods=["POST"])
@login_required(contributes=True)
@writes(idempotent=True)
@blp.arguments(AppealCreateSchema())
@blp.response(201, AppealSchema)
@blp.alt_response(404, description="The target does not exist or is not visible to the caller")
@blp.alt_response(409, description="No decision to appeal, or it was appealed already")
def create_appeal(payload):
    """The author appeals the latest decision on their content (once); it joins the queue."""
    appeal = domain.appeal(db.session, require_user(), payload["target_type"], payload["target_id"], payload["text"])
    return created(
        {
            "id": appeal.id,
            "decision_id": appeal.decision_id,
            "target_type": appeal.target_type,
            "target_id": appeal.target_id,
            "text": appeal.text,
            "created_at": presenters.iso(appeal.created_at),
        },
        f"/api/v1/moderation/appeals/{appeal.id}",
    )


@blp.route("/moderation/users/<id:user_id>/block", methods=["PUT"])
@login_required(role="moderator")
@writes
@blp.arguments(BlockSchema())
@blp.response(204)
def block(payload, user_id):
    """Block a user (until a time, or until lifted): they can read but not contribute."""
    domain.block_user(db.session, require_user(), user_id, payload["until"], payload["reason"])


@blp.route("/moderation/users/<id:user_id>/block", methods=["DELETE"])
@login_required(role="moderator")
@writes
@blp.response(204)
def unblock(user_id):
    """Lift a block."""
    domain.unblock_user(db.session, require_user(), user_id)
