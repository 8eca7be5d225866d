"""Moderation: the queue, flags, decisions (the append-only log), appeals and blocks.

Targets (ideas, comments, reports) share a small protocol: `target_type`, `author_id`,
`status`, `visibility`, `is_public`, `can_view(user)`, `snapshot()`, `excerpt()`, `approve()`,
`set_visibility(v)`, `record_moderation(reason_code, note, when)` (what the author is shown
of the latest decision), `public_changed(session, was_public)` (counts that follow public
content), `push_title()` and `push_route()` (what the author's notification carries).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import audit
from .base import Base, utcnow
from .errors import Conflict, Forbidden, Invalid, NotFound
from . import outbox
from .prepared import PreparedSelect
from .prescreen import screen
from .users import User, find_by_email

TARGET_TYPES = ("idea", "comment", "report")
FLAG_REASONS = ("spam", "offensive", "personal_data", "off_topic", "other")
ACTIONS = ("approve", "reject", "hide", "restore")
REASON_CODES = ("ok", "spam", "offensive", "personal_data", "off_topic", "duplicate", "illegal", "other")
QUEUE_STATES = ("pending", "flagged", "appeal")
# Blocks without an end date last until lifted.
INDEFINITE_BLOCK = datetime(9999, 12, 31, tzinfo=timezone.utc)


class QueueEntry(Base):
    """An item waiting for a moderator; removed when a decision settles it."""

    __tablename__ = "moderation_queue"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id"),
        Index("ix_moderation_queue_state", "state", "id"),
        Index("ix_moderation_queue_type_state", "target_type", "state", "id"),
        Index("ix_moderation_queue_district", "district", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    flag_count: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("moderation_appeals.id", ondelete="SET NULL"))
    # The target's Stadtbezirk (a comment's is its idea's; None for city-wide ideas), so that
    # moderators can take the queue district by district.
    district: Mapped[str | None] = mapped_column(String(40))
    waiting_since: Mapped[datetime] = mapped_column(default=utcnow)
    # The target's excerpt, kept current by every change of a queued text (`_upsert_entry`,
    # `refresh_excerpt`), so that the queue page reads one table.
    excerpt: Mapped[str] = mapped_column(Text, default="")

    author: Mapped[User | None] = relationship(lazy="joined")
    appeal: Mapped[Appeal | None] = relationship(lazy="joined")


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("target_type", "target_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModerationDecision(Base):
    """The audit log of moderation: every decision and every automatic hide, never changed."""

    __tablename__ = "moderation_decisions"
    __table_args__ = (Index("ix_moderation_decisions_target", "target_type", "target_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    moderator: Mapped[User | None] = relationship(lazy="joined", foreign_keys=[moderator_id])


class Appeal(Base):
    __tablename__ = "moderation_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("moderation_decisions.id", ondelete="CASCADE"), unique=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]


# ---------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------


def _target_models():
    from .ideas import Comment, Idea
    from .reports import Report

    return {"idea": Idea, "comment": Comment, "report": Report}


def load_target(session: Session, target_type: str, target_id: int):
    models = _target_models()
    if target_type not in models:
        raise Invalid("target_type", "unknown_target_type")
    target = session.get(models[target_type], target_id)
    if target is None:
        raise NotFound()
    return target


def load_targets(session: Session, keys: list[tuple[str, int]]) -> dict[tuple[str, int], object]:
    """Targets of a queue or log page, one query per target type."""
    found: dict[tuple[str, int], object] = {}
    models = _target_models()
    by_type: dict[str, list[int]] = {}
    for target_type, target_id in keys:
        by_type.setdefault(target_type, []).append(target_id)
    for target_type, ids in by_type.items():
        model = models.get(target_type)
        if model is None:
            continue
        for target in session.scalars(select(model).where(model.id.in_(ids))):
            found[(target_type, target.id)] = target
    return found


# ---------------------------------------------------------------------------------------
# Automatic moderation
# ---------------------------------------------------------------------------------------


def prescreen_reasons(*texts: str) -> list[str]:
    return screen(*texts)


def _upsert_entry(session: Session, target, state: str, reasons: list[str] = (), flag_delta: int = 0) -> QueueEntry:
    entry = session.scalars(
        select(QueueEntry).where(QueueEntry.target_type == target.target_type, QueueEntry.target_id == target.id)
    ).first()
    if entry is None:
        entry = QueueEntry(
            target_type=target.target_type,
            target_id=target.id,
            state=state,
            reasons=list(dict.fromkeys(reasons)),
            flag_count=flag_delta,
            author_id=target.author_id,
            excerpt=target.excerpt(),
            district=target.district,
        )
        session.add(entry)
    else:
        entry.excerpt = target.excerpt()
        # An appeal stays an appeal; otherwise "flagged" outranks plain "pending".
        if entry.state != "appeal" and state in ("flagged", "appeal"):
            entry.state = state
        entry.reasons = list(dict.fromkeys([*entry.reasons, *reasons]))
        entry.flag_count += flag_delta
    session.flush()
    return entry


def refresh_excerpt(session: Session, target) -> None:
    """A queued text changed: the moderators' queue shows the new beginning."""
    session.execute(
        update(QueueEntry)
        .where(QueueEntry.target_type == target.target_type, QueueEntry.target_id == target.id)
        .values(excerpt=target.excerpt())
    )


def enqueue_new_content(session: Session, target, author_id: int, pending: bool, reasons: list[str]) -> None:
    if reasons:
        _upsert_entry(session, target, "flagged", [f"prescreen:{r}" for r in reasons])
    elif pending:
        _upsert_entry(session, target, "pending")


def hide_automatically(session: Session, target, author_id: int | None, reasons: list[str], note: str | None = None) -> None:
    """Hide content pending review and log it with no moderator (an automatic decision).

    New content that the pre-screen stops is created hidden, so its snapshot shows that
    nobody else ever saw it (see `was_ever_public`).
    """
    snapshot = target.snapshot()
    was_public = target.is_public
    target.set_visibility("hidden")
    reason_code = reasons[0] if reasons and reasons[0] in REASON_CODES else "other"
    note = note or "automatic: " + ", ".join(reasons)
    session.add(
        ModerationDecision(
            target_type=target.target_type,
            target_id=target.id,
            action="hide",
            reason_code=reason_code,
            note=note,
            moderator_id=None,
            author_id=target.author_id,
            snapshot=snapshot,
        )
    )
    # The author reads why it is hidden now, not the reason of an earlier approval.
    target.record_moderation(reason_code, note, utcnow())
    target.public_changed(session, was_public)


def was_ever_public(session: Session, target) -> bool:
    """Public now, or public when some decision (a moderator's or automatic) took it away.

    Every way out of public view is logged with a snapshot of the state it left, so the
    log tells whether anybody but the author and moderators could ever have read it.
    """
    if target.is_public:
        return True
    snapshots = session.scalars(
        select(ModerationDecision.snapshot).where(
            ModerationDecision.target_type == target.target_type, ModerationDecision.target_id == target.id
        )
    )
    for snapshot in snapshots:
        if isinstance(snapshot, str):
            snapshot = json.loads(snapshot)
        if snapshot.get("visibility") == "visible" and snapshot.get("status") not in (None, "pending", "deleted"):
            return True
    return False


def forget_target(session: Session, target) -> None:
    """Content its author deleted leaves the queue; the log keeps what was decided."""
    session.execute(
        delete(QueueEntry).where(QueueEntry.target_type == target.target_type, QueueEntry.target_id == target.id)
    )
    session.execute(delete(Flag).where(Flag.target_type == target.target_type, Flag.target_id == target.id))


# ---------------------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------------------


def flag(session: Session, user: User, target_type: str, target_id: int, reason: str, comment: str | None, threshold: int) -> Flag:
    user.ensure_may_contribute()
    target = load_target(session, target_type, target_id)
    if not target.can_view(user) or getattr(target, "status", None) == "deleted":
        raise NotFound()
    # The author's own flag is kept (it may ask for a review) but never counts: not for the
    # threshold, not in the queue's count.
    counts = target.author_id != user.id
    try:
        with session.begin_nested():
            result = session.execute(
                insert(Flag).values(
                    target_type=target_type,
                    target_id=target.id,
                    user_id=user.id,
                    reason=reason,
                    comment=comment,
                    counts=counts,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        raise Conflict("already_flagged") from None
    flag_row = session.get(Flag, result.inserted_primary_key[0])
    _upsert_entry(session, target, "flagged", [reason], flag_delta=1 if counts else 0)
    if counts and target.visibility == "visible":
        flaggers = session.scalar(
            select(func.count(func.distinct(Flag.user_id))).where(
                Flag.target_type == target_type, Flag.target_id == target.id, Flag.counts.is_(True)
            )
        )
        if flaggers >= threshold:
            reasons = list(
                session.scalars(
                    select(Flag.reason)
                    .where(Flag.target_type == target_type, Flag.target_id == target.id, Flag.counts.is_(True))
                    .group_by(Flag.reason)
                    .order_by(func.count().desc(), Flag.reason)
                )
            )
            hide_automatically(session, target, target.author_id, reasons, note=f"automatic: {flaggers} flags")
            _notify_author(session, target, "hide")
    session.flush()
    return flag_row


# ---------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------


def _open_appeal(session: Session, target) -> Appeal | None:
    return session.scalars(
        select(Appeal).where(
            Appeal.target_type == target.target_type, Appeal.target_id == target.id, Appeal.settled_at.is_(None)
        )
    ).first()


def decide(session: Session, moderator: User, target_type: str, target_id: int, action: str, reason_code: str, note: str | None) -> ModerationDecision:
    if not moderator.is_moderator:
        raise Forbidden("forbidden")
    # A blocked moderator changes nothing either, decisions included.
    moderator.ensure_may_contribute()
    if action in ("approve", "restore") and reason_code != "ok":
        raise Invalid("reason_code", "reason_must_be_ok")
    if action in ("reject", "hide") and reason_code == "ok":
        raise Invalid("reason_code", "reason_needed")
    target = load_target(session, target_type, target_id)
    if getattr(target, "status", None) == "deleted":
        raise Conflict("illegal_moderation", action=action)
    appeal = _open_appeal(session, target)
    snapshot = target.snapshot()
    was_public = target.is_public

    if action == "approve":
        if target.status != "pending":
            raise Conflict("illegal_moderation", action=action)
        target.approve()
    elif action == "reject":
        if target.visibility == "removed":
            raise Conflict("illegal_moderation", action=action)
        target.set_visibility("removed")
    elif action == "hide":
        if target.visibility != "visible":
            raise Conflict("illegal_moderation", action=action)
        target.set_visibility("hidden")
    elif action == "restore":
        # An upheld appeal may also bring back what was rejected.
        if not (target.visibility == "hidden" or (target.visibility == "removed" and appeal is not None)):
            raise Conflict("illegal_moderation", action=action)
        target.set_visibility("visible")

    decision = ModerationDecision(
        target_type=target_type,
        target_id=target.id,
        action=action,
        reason_code=reason_code,
        note=note,
        moderator_id=moderator.id,
        author_id=target.author_id,
        snapshot=snapshot,
    )
    session.add(decision)
    now = utcnow()
    target.record_moderation(reason_code, note, now)
    if appeal is not None:
        appeal.settled_at = now
    session.execute(delete(QueueEntry).where(QueueEntry.target_type == target_type, QueueEntry.target_id == target.id))
    target.public_changed(session, was_public)
    session.flush()
    _notify_author(session, target, action)
    return decision


def _notify_author(session: Session, target, action: str) -> None:
    """One event for the author; what it says is the worker's (notifications.render)."""
    outbox.record(
        session,
        "moderation_decision",
        target.target_type,
        target.id,
        # Push payloads carry no user-written text beyond the object's title.
        target.push_title(),
        outbox.users([target.author_id]),
        data={"target_type": target.target_type, "target_id": target.id, **target.push_route(), "action": action},
    )


# ---------------------------------------------------------------------------------------
# Appeals and blocks
# ---------------------------------------------------------------------------------------


def appeal(session: Session, author: User, target_type: str, target_id: int, text: str) -> Appeal:
    author.ensure_may_contribute()
    target = load_target(session, target_type, target_id)
    if target.author_id != author.id or not target.can_view(author):
        # Only the author may appeal; others should not learn about hidden content. A comment
        # under an idea its author cannot see is out of their reach like the idea.
        raise NotFound()
    decision = session.scalars(
        select(ModerationDecision)
        .where(ModerationDecision.target_type == target_type, ModerationDecision.target_id == target.id)
        .order_by(ModerationDecision.id.desc())
    ).first()
    if decision is None or decision.action in ("approve", "restore"):
        raise Conflict("nothing_to_appeal")
    try:
        with session.begin_nested():
            result = session.execute(
                insert(Appeal).values(
                    decision_id=decision.id,
                    target_type=target_type,
                    target_id=target.id,
                    author_id=author.id,
                    text=text,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        raise Conflict("already_appealed") from None
    appeal_row = session.get(Appeal, result.inserted_primary_key[0])
    entry = _upsert_entry(session, target, "appeal")
    entry.appeal_id = appeal_row.id
    entry.appeal = appeal_row
    session.flush()
    return appeal_row


def _blockable(session: Session, actor, user_id: int) -> User:
    """The account a moderator may block or unblock; the rules hold without HTTP as well."""
    if not actor.is_moderator:
        raise Forbidden("forbidden")
    # A block stops every change, blocks included: a blocked moderator cannot lift it either.
    actor.ensure_may_contribute()
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound()
    if user.id == actor.id:
        raise Forbidden("block_self")
    # Moderators block residents and moderators; the city's staff and admins only an admin.
    if user.has_role("staff") and not actor.has_role("admin"):
        raise Forbidden("block_needs_admin")
    return user


def block_user(session: Session, moderator, user_id: int, until: datetime | None, reason: str) -> None:
    user = _blockable(session, moderator, user_id)
    if until is not None and until <= utcnow():
        raise Invalid("until", "block_end_in_past")
    user.blocked_until = until or INDEFINITE_BLOCK
    user.block_reason = reason
    audit.record(session, moderator.id, "user_blocked", "user", user.id, until=until.isoformat() if until else None, reason=reason)


def unblock_user(session: Session, moderator, user_id: int) -> None:
    _lift_block(session, _blockable(session, moderator, user_id), moderator.id)


def unblock_by_operator(session: Session, email: str) -> tuple[User, bool] | None:
    """Recovery from the command line (`users unblock`): whoever runs it holds the server,
    so no role or block rule applies; the audit log names no actor. None for an unknown
    address; otherwise the account and whether a block was lifted."""
    user = find_by_email(session, email)
    if user is None or user.deleted_at is not None:
        return None
    return user, _lift_block(session, user, None, via="cli")


def _lift_block(session: Session, user: User, actor_id: int | None, **details) -> bool:
    lifted = user.is_blocked()
    if user.blocked_until is not None:
        audit.record(session, actor_id, "user_unblocked", "user", user.id, **details)
    user.blocked_until = None
    user.block_reason = None
    session.flush()
    return lifted


# ---------------------------------------------------------------------------------------
# The queue as moderators read it (a hot path: prepared statements, see models.prepared)
# ---------------------------------------------------------------------------------------


def _queue_statement(by_type: bool, by_state: bool, after: bool, by_district: bool = False):
    queue, users, appeals = QueueEntry.__table__, User.__table__, Appeal.__table__
    stmt = (
        select(
            queue.c.id,
            queue.c.target_type,
            queue.c.target_id,
            queue.c.state,
            queue.c.reasons,
            queue.c.flag_count,
            queue.c.author_id,
            users.c.display_name,
            users.c.deleted_at,
            queue.c.waiting_since,
            appeals.c.id,
            appeals.c.text,
            appeals.c.created_at,
            queue.c.excerpt,
        )
        .join_from(queue, users, queue.c.author_id == users.c.id, isouter=True)
        .join_from(queue, appeals, queue.c.appeal_id == appeals.c.id, isouter=True)
    )
    if by_type:
        stmt = stmt.where(queue.c.target_type == bindparam("target_type"))
    if by_state:
        stmt = stmt.where(queue.c.state == bindparam("state"))
    if by_district:
        stmt = stmt.where(queue.c.district == bindparam("district"))
    if after:
        stmt = stmt.where(queue.c.id > bindparam("after"))
    return stmt.order_by(queue.c.id).limit(bindparam("limit"))


QUEUE_PAGE = PreparedSelect(_queue_statement)


def queue_page(session: Session, target_type: str | None, state: str | None, limit: int, after: int | None,
               district: str | None = None) -> list[dict]:
    """Up to limit + 1 waiting items, oldest first, with their excerpts."""
    params = {"target_type": target_type, "state": state, "after": after, "limit": limit + 1, "district": district}
    rows = QUEUE_PAGE.rows(session, (target_type is not None, state is not None, after is not None, district is not None), params)
    items = []
    for (entry_id, kind, target_id, entry_state, reasons, flags, author_id, author_name, author_deleted_at,
         waiting_since, appeal_id, appeal_text, appeal_at, text) in rows:
        items.append(
            {
                "entry_id": entry_id,
                "target_type": kind,
                "target_id": target_id,
                "state": entry_state,
                "excerpt": text,
                "flags": flags,
                # JSON columns come back as text from the driver on SQLite; most lists are empty.
                "reasons": ([] if reasons == "[]" else json.loads(reasons)) if isinstance(reasons, str) else (reasons or []),
                "author": (author_id, author_name, author_deleted_at),
                # Driver values (text on SQLite): the presenter formats them as they are.
                "waiting_since": waiting_since,
                "appeal": (appeal_id, appeal_text, appeal_at) if appeal_id is not None else None,
            }
        )
    return items
