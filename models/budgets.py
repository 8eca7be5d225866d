"""Budget rounds of bodies (Jugendparlament, Seniorenbeirat ...): items, ballots, results.

Every operation takes the session and the acting user (None for the scheduler) and only
flushes; the caller commits. Who may do what and which phase allows it live here, the
counting itself in the `voting` package.

Phases: draft -> proposals | voting; proposals -> voting; voting -> closed; closed -> published.
Ballots are secret: only the voter reads their own ballot; results show counts, and after
publication the list of receipts (hashes) so that every voter can check theirs was counted.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import audit, outbox
from .base import Base, UTCDateTime, utcnow
from .errors import Conflict, Forbidden, Invalid, NotFound
from .prepared import PreparedSelect, PreparedWrite
from .reference import Body
from .users import BodyMembership, User

BERLIN = ZoneInfo("Europe/Berlin")

STATUSES = ("draft", "proposals", "voting", "closed", "published")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("proposals", "voting"),
    "proposals": ("voting",),
    "voting": ("closed",),
    "closed": ("published",),
    "published": (),
}
BALLOT_TYPES = ("approval", "cumulative")
RULES = ("greedy", "greedy_no_skip", "mes")
BEFORE_VOTING = ("draft", "proposals")
REMIND_BEFORE = timedelta(days=1)


def berlin_today(now: datetime | None = None) -> date:
    """The calendar day in Dortmund: membership terms are reckoned in Europe/Berlin."""
    return (now or utcnow()).astimezone(BERLIN).date()


class BudgetRound(Base):
    __tablename__ = "budget_rounds"
    # Ids are never reused, also on SQLite: workers remember rounds by id (`known_voting_form`).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    budget: Mapped[int] = mapped_column(Integer)
    ballot_type: Mapped[str] = mapped_column(String(20))
    min_items: Mapped[int] = mapped_column(Integer, default=1)
    max_items: Mapped[int | None] = mapped_column(Integer)
    max_cost: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(20))
    proposals_end_at: Mapped[datetime | None]
    voting_end_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    body: Mapped[Body] = relationship(lazy="joined")
    items: Mapped[list[BudgetItem]] = relationship(
        back_populates="round", order_by="BudgetItem.id", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def ballot(self) -> dict:
        return {
            "type": self.ballot_type,
            "min_items": self.min_items,
            "max_items": self.max_items,
            "max_cost": self.max_cost,
            "points": self.points,
        }


class BudgetItem(Base):
    __tablename__ = "budget_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[int] = mapped_column(Integer)
    # None: proposed by a member and not yet reviewed by staff.
    feasible: Mapped[bool | None] = mapped_column(Boolean)
    feasibility_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    round: Mapped[BudgetRound] = relationship(back_populates="items")


class Ballot(Base):
    """One ballot per member and round (the unique constraint stops double votes)."""

    __tablename__ = "budget_ballots"
    __table_args__ = (UniqueConstraint("round_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # {"item_ids": [..]} or {"points": {"<item_id>": n}}
    content: Mapped[dict] = mapped_column(JSON)
    salt: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[str] = mapped_column(String(64))
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)

    def as_dict(self) -> dict:
        return owner_view(self.round_id, self.content, self.receipt, self.cast_at)


def owner_view(round_id: int, content: dict, receipt: str, cast_at: datetime) -> dict:
    """A ballot as its voter (and nobody else) reads it."""
    return {"round_id": round_id, **content, "receipt": receipt, "cast_at": cast_at}


class BudgetResult(Base):
    """The outcome, computed once when the round closes."""

    __tablename__ = "budget_results"

    round_id: Mapped[int] = mapped_column(ForeignKey("budget_rounds.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # {rule, budget, total_cost, ballots, eligible_voters, selected, items: [...], receipts}
    outcome: Mapped[dict] = mapped_column(JSON)
    pabulib: Mapped[str] = mapped_column(Text)


# ---------------------------------------------------------------------------------------------
# Bodies and members


def get_body(session: Session, slug: str) -> Body:
    body = session.scalar(select(Body).where(Body.slug == slug))
    if body is None:
        raise NotFound()
    return body


def list_members(session: Session, body: Body) -> list[BodyMembership]:
    return list(
        session.scalars(
            select(BodyMembership).where(BodyMembership.body_id == body.id).order_by(BodyMembership.user_id)
        )
    )


def set_membership(
    session: Session, actor: User, body: Body, user_id: int, term_start: date, term_end: date
) -> BodyMembership:
    if term_end < term_start:
        raise Invalid("term_end", "budget_term_end_before_start")
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound()
    membership = session.scalar(
        select(BodyMembership).where(BodyMembership.body_id == body.id, BodyMembership.user_id == user_id)
    )
    if membership is None:
        membership = BodyMembership(body_id=body.id, user_id=user_id, term_start=term_start, term_end=term_end)
        session.add(membership)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            # Set at the same moment by another request: change that one instead.
            membership = session.scalar(
                select(BodyMembership).where(BodyMembership.body_id == body.id, BodyMembership.user_id == user_id)
            )
    membership.term_start, membership.term_end = term_start, term_end
    audit.record(
        session,
        actor.id if actor else None,
        "body_membership.set",
        "body",
        body.id,
        user_id=user_id,
        term_start=term_start.isoformat(),
        term_end=term_end.isoformat(),
    )
    session.flush()
    return membership


def remove_membership(session: Session, actor: User, body: Body, user_id: int) -> None:
    """Idempotent: removing a membership that does not exist changes nothing."""
    membership = session.scalar(
        select(BodyMembership).where(BodyMembership.body_id == body.id, BodyMembership.user_id == user_id)
    )
    if membership is None:
        return
    session.delete(membership)
    audit.record(session, actor.id if actor else None, "body_membership.removed", "body", body.id, user_id=user_id)
    session.flush()


def current_member_ids(session: Session, body_id: int, today: date) -> list[int]:
    return list(
        session.scalars(
            select(BodyMembership.user_id)
            .join(User, User.id == BodyMembership.user_id)
            .where(
                BodyMembership.body_id == body_id,
                BodyMembership.term_start <= today,
                BodyMembership.term_end >= today,
                User.deleted_at.is_(None),
            )
            .order_by(BodyMembership.user_id)
        )
    )


def _current_membership(voter_id, body_id):
    """The voter's membership of the body if its term includes `today` (a bind parameter)."""
    today = bindparam("today", type_=Date)
    return select(BodyMembership.id).where(
        BodyMembership.body_id == body_id,
        BodyMembership.user_id == voter_id,
        BodyMembership.term_start <= today,
        BodyMembership.term_end >= today,
    )


def is_current_member(session: Session, user: User | None, body_id: int, today: date | None = None) -> bool:
    if user is None:
        return False
    return bool(session.scalar(select(_current_membership(user.id, body_id).exists()), {"today": today or berlin_today()}))


# ---------------------------------------------------------------------------------------------
# Rounds


def _is_staff(user: User | None) -> bool:
    return user is not None and user.has_role("staff")


def rounds_query(body: Body, viewer: User | None):
    stmt = select(BudgetRound).where(BudgetRound.body_id == body.id)
    if not _is_staff(viewer):
        stmt = stmt.where(BudgetRound.status != "draft")
    return stmt


def get_round(session: Session, viewer: User | None, round_id: int, lock: str | None = None) -> BudgetRound:
    """The round if the viewer may see it (a draft is staff-only), else 404.

    `lock`: "update" or "share" takes a row lock on PostgreSQL (SQLite's changing requests
    already run in BEGIN IMMEDIATE).
    """
    stmt = select(BudgetRound).where(BudgetRound.id == round_id)
    if lock is not None:
        stmt = stmt.with_for_update(read=(lock == "share"), of=BudgetRound).execution_options(populate_existing=True)
    rnd = session.scalar(stmt)
    if rnd is None or (rnd.status == "draft" and not _is_staff(viewer)):
        raise NotFound()
    return rnd


def create_round(session: Session, actor: User, body: Body, data: dict) -> BudgetRound:
    ballot = data["ballot"]
    ballot_type = ballot["type"]
    min_items = ballot.get("min_items")
    min_items = 1 if min_items is None else min_items
    max_items = ballot.get("max_items")
    points = ballot.get("points")
    if max_items is not None and max_items < min_items:
        raise Invalid("ballot.max_items", "budget_max_items_below_min")
    if ballot_type == "cumulative" and points is None:
        raise Invalid("ballot.points", "budget_points_required")
    if ballot_type == "approval" and points is not None:
        raise Invalid("ballot.points", "budget_points_only_cumulative")
    proposals_end_at, voting_end_at = data.get("proposals_end_at"), data.get("voting_end_at")
    # A phase that ends in the past would be moved on by the next `budgets advance` at once.
    now = utcnow()
    for name, moment in (("proposals_end_at", proposals_end_at), ("voting_end_at", voting_end_at)):
        if moment is not None and moment <= now:
            raise Invalid(name, "budget_end_in_past")
    if proposals_end_at and voting_end_at and voting_end_at <= proposals_end_at:
        raise Invalid("voting_end_at", "budget_voting_end_before_proposals_end")
    rnd = BudgetRound(
        body_id=body.id,
        body=body,
        title=data["title"],
        status="draft",
        budget=data["budget"],
        ballot_type=ballot_type,
        min_items=min_items,
        max_items=max_items,
        max_cost=ballot.get("max_cost"),
        points=points,
        rule=data["rule"],
        proposals_end_at=proposals_end_at,
        voting_end_at=voting_end_at,
        created_by_id=actor.id,
    )
    session.add(rnd)
    session.flush()
    audit.record(session, actor.id, "budget_round.created", "budget_round", rnd.id, body=body.slug)
    return rnd


def transition(
    session: Session, actor: User | None, round_id: int, to: str, now: datetime | None = None
) -> BudgetRound:
    """Move a round to its next phase; `actor` is None for the scheduler."""
    rnd = get_round(session, actor, round_id, lock="update") if actor else _locked_round(session, round_id)
    now = now or utcnow()
    frm = rnd.status
    if to not in TRANSITIONS.get(frm, ()):
        raise Conflict("budget_illegal_transition", frm=frm, to=to)
    if to == "voting":
        if any(item.feasible is None for item in rnd.items):
            raise Conflict("budget_items_unreviewed")
        feasible = sum(1 for item in rnd.items if item.feasible)
        if not feasible:
            raise Conflict("budget_no_feasible_items")
        if feasible < rnd.min_items:
            raise Conflict("budget_too_few_feasible_items", min=rnd.min_items, feasible=feasible)
    rnd.status = to
    session.flush()
    if to == "voting":
        _notify_members(session, rnd, "budget_voting_opened", now)
    elif to == "closed":
        _compute_results(session, rnd, now)
    elif to == "published":
        _notify_members(session, rnd, "budget_results_published", now)
    audit.record(
        session, actor.id if actor else None, "budget_round.transition", "budget_round", rnd.id, **{"from": frm, "to": to}
    )
    session.flush()
    return rnd


def _locked_round(session: Session, round_id: int) -> BudgetRound:
    rnd = session.scalar(
        select(BudgetRound)
        .where(BudgetRound.id == round_id)
        .with_for_update(of=BudgetRound)
        .execution_options(populate_existing=True)
    )
    if rnd is None:
        raise NotFound()
    return rnd


def _notify_members(session: Session, rnd: BudgetRound, type_: str, now: datetime) -> None:
    """One event for the body's current members (as of today in Berlin), found by the worker."""
    outbox.record(
        session,
        type_,
        "round",
        rnd.id,
        rnd.title,
        outbox.body_members(rnd.body_id, berlin_today(now)),
        data={"round_id": rnd.id, "body": rnd.body.slug},
    )


# ---------------------------------------------------------------------------------------------
# Items


def check_may_propose(session: Session, user: User, rnd: BudgetRound) -> None:
    """Staff add items before voting; current members propose during `proposals`."""
    if _is_staff(user):
        if rnd.status not in BEFORE_VOTING:
            raise Conflict("budget_wrong_phase", status=rnd.status)
        return
    if not is_current_member(session, user, rnd.body_id):
        raise Forbidden("budget_not_a_member")
    if rnd.status != "proposals":
        raise Conflict("budget_wrong_phase", status=rnd.status)


def add_item(session: Session, actor: User, round_id: int, data: dict) -> BudgetItem:
    rnd = get_round(session, actor, round_id, lock="share")
    check_may_propose(session, actor, rnd)
    if data["cost"] > rnd.budget:
        raise Invalid("cost", "budget_cost_over_budget", budget=rnd.budget)
    staff = _is_staff(actor)
    item = BudgetItem(
        round_id=rnd.id,
        title=data["title"],
        description=data.get("description") or "",
        cost=data["cost"],
        feasible=True if staff else None,
        proposed_by_id=actor.id,
    )
    session.add(item)
    session.flush()
    return item


def check_may_review(rnd: BudgetRound) -> None:
    if rnd.status not in BEFORE_VOTING:
        raise Conflict("budget_wrong_phase", status=rnd.status)


def review_item(session: Session, actor: User, round_id: int, item_id: int, feasible: bool, reason: str | None) -> BudgetItem:
    rnd = get_round(session, actor, round_id, lock="update")
    item = session.get(BudgetItem, item_id)
    if item is None or item.round_id != rnd.id:
        raise NotFound()
    check_may_review(rnd)
    reason = (reason or "").strip() or None
    if not feasible and reason is None:
        raise Invalid("reason", "budget_reason_required")
    item.feasible = feasible
    item.feasibility_reason = reason
    audit.record(
        session, actor.id, "budget_item.feasibility", "budget_item", item.id, round_id=rnd.id, feasible=feasible, reason=reason
    )
    session.flush()
    return item


# ---------------------------------------------------------------------------------------------
# Ballots


@dataclass(frozen=True)
class BallotItem:
    cost: int
    feasible: bool | None


@dataclass(frozen=True)
class BallotForm:
    """What a ballot of a round may contain: its rules and items."""

    round_id: int
    ballot_type: str
    min_items: int
    max_items: int | None
    max_cost: int | None
    points: int | None
    items: dict[int, BallotItem]


@dataclass(frozen=True)
class BallotBox:
    """A round as a voter finds it, read in one query: its phase, its ballot form, and
    whether the voter is a current member of the round's body."""

    form: BallotForm
    status: str
    voter_is_member: bool

    def check_may_vote(self) -> None:
        """Not a current member: 403 whatever the phase; then the phase (409)."""
        if not self.voter_is_member:
            raise Forbidden("budget_not_a_member")
        if self.status != "voting":
            raise Conflict("budget_wrong_phase", status=self.status)


_BALLOT_BOX = PreparedSelect(
    lambda: select(
        BudgetRound.status,
        BudgetRound.ballot_type,
        BudgetRound.min_items,
        BudgetRound.max_items,
        BudgetRound.max_cost,
        BudgetRound.points,
        _current_membership(bindparam("voter_id", type_=Integer), BudgetRound.body_id).exists(),
        BudgetItem.id,
        BudgetItem.cost,
        BudgetItem.feasible,
    )
    .outerjoin(BudgetItem, BudgetItem.round_id == BudgetRound.id)
    .where(BudgetRound.id == bindparam("round_id", type_=Integer))
    .order_by(BudgetItem.id)
)


def ballot_box(session: Session, voter, round_id: int, today: date | None = None) -> BallotBox:
    """The round as a ballot sees it, if the voter may see the round (a draft is staff-only: 404)."""
    rows = _BALLOT_BOX.rows(session, (), {"round_id": round_id, "voter_id": voter.id, "today": today or berlin_today()})
    if not rows or (rows[0][0] == "draft" and not _is_staff(voter)):
        raise NotFound()
    status, ballot_type, min_items, max_items, max_cost, points, is_member = rows[0][:7]
    form = BallotForm(
        round_id=round_id,
        ballot_type=ballot_type,
        min_items=min_items,
        max_items=max_items,
        max_cost=max_cost,
        points=points,
        items={item_id: BallotItem(cost, None if feasible is None else bool(feasible)) for *_, item_id, cost, feasible in rows if item_id is not None},
    )
    box = BallotBox(form=form, status=status, voter_is_member=bool(is_member))
    if status == "voting":
        _remember_form(session, form)
    return box


# Forms of rounds seen in `voting`, per worker. Phases only move forward and items and rules
# are fixed before voting opens, so such a form never changes again; whether the round is
# still in voting, and the voter still a member, the ballot statement checks itself. Round
# ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL); a database
# restored under running workers needs the workers restarted, as for any cache.
_voting_forms: dict[tuple[int, int], BallotForm] = {}
MAX_VOTING_FORMS = 1_000


def _form_key(session: Session, round_id: int) -> tuple[int, int]:
    # Per database: an app's engines share one pool.
    return id(session.connection().engine.pool), round_id


def _remember_form(session: Session, form: BallotForm) -> None:
    if len(_voting_forms) >= MAX_VOTING_FORMS:
        _voting_forms.clear()
    _voting_forms[_form_key(session, form.round_id)] = form


def known_voting_form(session: Session, round_id: int) -> BallotForm | None:
    """The round's ballot form if this worker saw it in voting; None means: read the box."""
    return _voting_forms.get(_form_key(session, round_id))


def _ballot_item(form: BallotForm, raw, field: str) -> int:
    try:
        item_id = int(raw)
    except (TypeError, ValueError):
        raise Invalid(field, "budget_unknown_item", item=raw) from None
    item = form.items.get(item_id)
    if item is None or str(raw) != str(item_id):
        raise Invalid(field, "budget_unknown_item", item=raw)
    if not item.feasible:
        raise Invalid(field, "budget_item_not_feasible", item=item_id)
    return item_id


def validate_ballot(form: BallotForm, data: dict) -> dict:
    """The ballot's content in a canonical form, or Invalid naming the problem.

    Cumulative ballots must give out exactly `points` points (items with 0 are dropped).
    """
    if form.ballot_type == "approval":
        if data.get("item_ids") is None or data.get("points") is not None:
            raise Invalid("item_ids", "budget_approval_needs_item_ids")
        field = "item_ids"
        chosen = [_ballot_item(form, r, field) for r in data["item_ids"]]
        if len(set(chosen)) != len(chosen):
            raise Invalid(field, "budget_duplicate_items")
        chosen.sort()
        content = {"item_ids": chosen}
    else:
        if data.get("points") is None or data.get("item_ids") is not None:
            raise Invalid("points", "budget_cumulative_needs_points")
        field = "points"
        given: dict[int, int] = {}
        for key, value in data["points"].items():
            item_id = _ballot_item(form, key, field)
            if item_id in given:
                raise Invalid(field, "budget_duplicate_items")
            if value < 0:
                raise Invalid(field, "budget_negative_points", item=item_id)
            given[item_id] = value
        total = sum(given.values())
        if total != form.points:
            raise Invalid(field, "budget_points_total", points=form.points, given=total)
        chosen = sorted(k for k, v in given.items() if v > 0)
        content = {"points": {str(k): given[k] for k in chosen}}
    if len(chosen) < form.min_items:
        raise Invalid(field, "budget_too_few_items", min=form.min_items)
    if form.max_items is not None and len(chosen) > form.max_items:
        raise Invalid(field, "budget_too_many_items", max=form.max_items)
    cost = sum(form.items[i].cost for i in chosen)
    if form.max_cost is not None and cost > form.max_cost:
        raise Invalid(field, "budget_over_max_cost", max_cost=form.max_cost, cost=cost)
    return content


def _receipt(round_id: int, salt: str, content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{round_id}\n{salt}\n{canonical}".encode()).hexdigest()


def _ballot_upsert(dialect: str):
    """Insert or replace the voter's ballot, but only while the round is in `voting` and the
    voter a current member: the statement checks its own preconditions, so it needs no
    transaction around it. On PostgreSQL it share-locks the round, so closing (which locks
    it for update and then counts) waits for it and counts it."""
    source = select(
        BudgetRound.id,
        bindparam("voter_id", type_=Integer),
        bindparam("content", type_=JSON),
        bindparam("salt", type_=String),
        bindparam("receipt", type_=String),
        bindparam("cast_at", type_=UTCDateTime()),
    ).where(
        BudgetRound.id == bindparam("round_id", type_=Integer),
        BudgetRound.status == "voting",
        _current_membership(bindparam("voter_id", type_=Integer), BudgetRound.body_id).exists(),
    )
    if dialect == "postgresql":
        source = source.with_for_update(read=True)
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Ballot).from_select(["round_id", "voter_id", "content", "salt", "receipt", "cast_at"], source)
    return statement.on_conflict_do_update(
        index_elements=[Ballot.round_id, Ballot.voter_id],
        set_={name: statement.excluded[name] for name in ("content", "salt", "receipt", "cast_at")},
    )


_BALLOT_UPSERT = PreparedWrite(_ballot_upsert)


def cast_ballot(session: Session, voter, round_id: int, data: dict, now: datetime | None = None) -> dict:
    """Cast or replace the voter's ballot with one statement; a new salt gives a new receipt
    every time. Returns the ballot as its owner sees it.

    404/403/409 when the voter may not vote; where the form is known from an earlier ballot
    (`known_voting_form`), a bad ballot may get 422 before that is checked: callers that
    answer in a fixed order check `ballot_box` on failure (api.budgets.routes).
    """
    form = known_voting_form(session, round_id)
    if form is None:
        box = ballot_box(session, voter, round_id)
        box.check_may_vote()
        form = box.form
    content = validate_ballot(form, data)
    now = now or utcnow()
    salt = secrets.token_hex(16)
    receipt = _receipt(round_id, salt, content)
    params = {"round_id": round_id, "voter_id": voter.id, "content": content, "salt": salt, "receipt": receipt,
              "cast_at": now, "today": berlin_today(now)}
    if _BALLOT_UPSERT.execute(session, (), params) != 1:
        # The phase or the membership changed since the box was read: say what changed.
        ballot_box(session, voter, round_id).check_may_vote()
        raise Conflict("budget_ballot_conflict")
    return owner_view(round_id, content, receipt, now)


def own_ballot(session: Session, voter: User, round_id: int) -> Ballot | None:
    return session.scalar(
        select(Ballot)
        .where(Ballot.round_id == round_id, Ballot.voter_id == voter.id)
        .execution_options(populate_existing=True)
    )


def get_own_ballot(session: Session, voter: User, round_id: int) -> Ballot:
    get_round(session, voter, round_id)
    ballot = own_ballot(session, voter, round_id)
    if ballot is None:
        raise NotFound()
    return ballot


# ---------------------------------------------------------------------------------------------
# Results


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _election(rnd: BudgetRound, ballots: list[Ballot]):
    from voting import Election, Project

    on_ballot = [i for i in rnd.items if i.feasible]
    # Creation order breaks ties; names on one line so that the file stays line-based.
    projects = [Project(str(i.id), i.cost, _one_line(i.title)) for i in on_ballot]
    if rnd.ballot_type == "approval":
        raw = [[str(i) for i in b.content["item_ids"]] for b in ballots]
    else:
        raw = [{k: int(v) for k, v in b.content["points"].items()} for b in ballots]
    return Election.from_ballots(rnd.budget, projects, rnd.ballot_type, raw)


def _compute_results(session: Session, rnd: BudgetRound, now: datetime) -> BudgetResult:
    from voting import tally, write_pabulib

    ballots = list(session.scalars(select(Ballot).where(Ballot.round_id == rnd.id).order_by(Ballot.id)))
    election = _election(rnd, ballots)
    outcome = tally(election, rnd.rule)
    by_id = {r.id: r for r in outcome.projects}
    items = []
    for item in rnd.items:
        r = by_id.get(str(item.id))
        if r is None:
            items.append({"id": item.id, "title": item.title, "cost": item.cost, "votes": 0, "score": 0,
                          "selected": False, "code": "not_feasible"})
        else:
            items.append({"id": item.id, "title": item.title, "cost": item.cost, "votes": r.votes, "score": r.score,
                          "selected": r.selected, "code": str(r.explanation.value)})
    eligible = len(current_member_ids(session, rnd.body_id, berlin_today(now)))
    data = {
        "rule": rnd.rule,
        "budget": rnd.budget,
        "total_cost": outcome.total_cost,
        "ballots": len(ballots),
        "eligible_voters": eligible,
        "selected": [int(pid) for pid in outcome.selected],
        "items": items,
        "receipts": sorted(b.receipt for b in ballots),
    }
    text = write_pabulib(
        election,
        rnd.rule,
        outcome=outcome,
        description=_one_line(rnd.title),
        unit="Dortmund",
        instance=f"{rnd.body.slug}-{rnd.id}",
        date_end=now.astimezone(BERLIN).strftime("%d.%m.%Y"),
        min_length=rnd.min_items,
        max_length=rnd.max_items,
        max_sum_cost=rnd.max_cost,
        max_points=rnd.points,
        # API.md: pabutools reads the export and selects exactly `selected`.
        leave_out_unvoted=True,
    )
    result = BudgetResult(round_id=rnd.id, computed_at=now, outcome=data, pabulib=text)
    session.add(result)
    session.flush()
    return result


def get_result(session: Session, viewer: User | None, round_id: int) -> tuple[BudgetRound, BudgetResult]:
    """Staff read results once closed, everyone once published; earlier 403 staff / 404 others."""
    rnd = get_round(session, viewer, round_id)
    staff = _is_staff(viewer)
    if rnd.status == "published" or (rnd.status == "closed" and staff):
        result = session.get(BudgetResult, rnd.id)
        if result is None:  # pragma: no cover - closing always stores one
            raise NotFound()
        return rnd, result
    if staff:
        raise Forbidden("budget_results_not_ready")
    raise NotFound()


# ---------------------------------------------------------------------------------------------
# The scheduler (`flask budgets advance`)


@dataclass
class AdvanceReport:
    moved: list[tuple[int, str, str]]
    reminded: list[int]
    waiting: list[tuple[int, str]]


def reminder_due(rnd: BudgetRound, now: datetime) -> bool:
    """A day before the end, counted on Dortmund's wall clock (DST days have 23 or 25 hours)."""
    if rnd.voting_end_at is None:
        return False
    end_local = rnd.voting_end_at.astimezone(BERLIN)
    remind_at = (end_local - REMIND_BEFORE).replace(fold=0)  # wall-clock arithmetic
    return now.astimezone(BERLIN) >= remind_at and now < rnd.voting_end_at


def due_round_ids(session: Session, now: datetime) -> list[int]:
    stmt = select(BudgetRound.id).where(
        ((BudgetRound.status == "proposals") & (BudgetRound.proposals_end_at <= now))
        | ((BudgetRound.status == "voting") & BudgetRound.voting_end_at.is_not(None))
    ).order_by(BudgetRound.id)
    return list(session.scalars(stmt))


def advance_round(session: Session, round_id: int, now: datetime, report: AdvanceReport) -> None:
    """Everything the scheduler does for one round (the caller commits per round)."""
    rnd = _locked_round(session, round_id)
    if rnd.status == "proposals" and rnd.proposals_end_at is not None and rnd.proposals_end_at <= now:
        unreviewed = any(i.feasible is None for i in rnd.items)
        if unreviewed:
            report.waiting.append((rnd.id, "budget_items_unreviewed"))
            return
        try:
            with session.begin_nested():
                transition(session, None, rnd.id, "voting", now)
        except Conflict as exc:
            report.waiting.append((rnd.id, exc.message_key))
            return
        report.moved.append((rnd.id, "proposals", "voting"))
    if rnd.status == "voting" and rnd.voting_end_at is not None:
        if rnd.voting_end_at <= now:
            transition(session, None, rnd.id, "closed", now)
            report.moved.append((rnd.id, "voting", "closed"))
        elif rnd.reminder_sent_at is None and reminder_due(rnd, now):
            _notify_members(session, rnd, "budget_voting_closes_soon", now)
            rnd.reminder_sent_at = now
            report.reminded.append(rnd.id)
            session.flush()
