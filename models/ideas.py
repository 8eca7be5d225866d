"""Ideas (KümmertEuch): submission, supports, follows, comments and official answers.

Two independent state machines live on an idea: `status` (its life, moved by supporters and
staff) and `visibility` (moderation's word). Public means visible and not pending.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    and_,
    bindparam,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    event,
    literal,
    literal_column,
    inspect,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import moderation
from .base import Base, Revisioned, ShowsModeration, insert_ignoring_duplicate, utcnow
from .prepared import PreparedSelect
from .errors import Conflict, Forbidden, Invalid, NotFound
from . import outbox
from .reference import category_of_kind, district_exists
from .text import excerpt, fold, like_pattern, words
from .users import User

IDEA_STATUSES = ("pending", "published", "threshold_reached", "under_review", "accepted", "rejected", "implemented")
VISIBILITIES = ("visible", "hidden", "removed")

# The staff answers API.md allows; the same status again only updates the text.
RESPONSE_TRANSITIONS: dict[str, set[str]] = {
    "published": {"under_review", "accepted", "rejected"},
    "threshold_reached": {"under_review", "accepted", "rejected"},
    "under_review": {"accepted", "rejected"},
    "accepted": {"implemented"},
    "rejected": set(),
    "implemented": set(),
    "pending": set(),
}
RESPONSE_STATUSES = ("under_review", "accepted", "rejected", "implemented")


@dataclass(frozen=True)
class IdeaPolicy:
    """Settings of the idea platform (from configuration)."""

    support_threshold: int = 50
    premoderate_ideas: bool = True
    premoderate_comments: bool = True


class Idea(Revisioned, ShowsModeration, Base):
    __tablename__ = "ideas"
    __table_args__ = (
        Index("ix_ideas_public_new", "is_public", "id"),
        Index("ix_ideas_public_top", "is_public", "support_count", "id"),
        # The console's list of ideas by status, longest waiting first (console/views/ideas.py).
        Index("ix_ideas_public_status", "is_public", "status", "id"),
        Index("ix_ideas_district_public", "district", "is_public", "id"),
        Index("ix_ideas_author", "author_id", "is_public", "id"),
        # Ids are never reused, so nothing cached under an id can describe another idea.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    district: Mapped[str] = mapped_column(ForeignKey("districts.slug"))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    visibility: Mapped[str] = mapped_column(String(10), default="visible")
    # Derived from status and visibility, stored so that list queries can use an index.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    # Folded title and body (see models.text.fold) for accent- and ß-insensitive search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    response_status: Mapped[str | None] = mapped_column(String(20))
    response_body: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped by every ORM update (models.base.Revisioned): renderings cached per revision
    # (api/ideas/listing.py) can never outlive a change, even within one second.
    revision: Mapped[int] = mapped_column(Integer, default=0)

    author: Mapped[User | None] = relationship(lazy="joined", innerjoin=False)

    # -- derived state -------------------------------------------------------------------
    def refresh_public(self) -> None:
        self.is_public = self.visibility == "visible" and self.status != "pending"

    def refresh_search_text(self) -> None:
        self.search_text = fold(f"{self.title}\n{self.body}")

    # -- permissions ---------------------------------------------------------------------
    def can_view(self, user: User | None) -> bool:
        if self.is_public:
            return True
        if user is None:
            return False
        return user.id == self.author_id or user.is_moderator or user.is_staff

    def can_see_moderation(self, user: User | None) -> bool:
        return user is not None and (user.id == self.author_id or user.is_moderator or user.is_staff)

    # -- moderation target protocol (see models.moderation) -----------------------------
    target_type = "idea"

    def snapshot(self) -> dict:
        return {
            "title": self.title,
            "body": self.body,
            "category": self.category,
            "district": self.district,
            "status": self.status,
            "visibility": self.visibility,
        }

    def excerpt(self) -> str:
        return excerpt(f"{self.title}: {self.body}")

    def approve(self) -> None:
        self.status = "published"
        self.visibility = "visible"
        self.refresh_public()

    def set_visibility(self, visibility: str) -> None:
        self.visibility = visibility
        self.refresh_public()

    def public_changed(self, session: Session, was_public: bool) -> None:
        """Nothing counts public ideas (lists ask `is_public` itself)."""

    def push_title(self) -> str:
        return self.title

    def push_route(self) -> dict:
        return {"idea_id": self.id}


@event.listens_for(User, "after_update")
def author_renamed(mapper, connection, user) -> None:  # noqa: ARG001
    """An account's new name (or its erasure) changes how its ideas render: new revisions."""
    state = inspect(user)
    if state.attrs.display_name.history.has_changes() or state.attrs.deleted_at.history.has_changes():
        connection.execute(
            update(Idea.__table__).where(Idea.__table__.c.author_id == user.id).values(revision=Idea.__table__.c.revision + 1)
        )


class Support(Base):
    __tablename__ = "supports"

    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Follow(Base):
    __tablename__ = "idea_follows"

    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_idea", "idea_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # pending (awaiting pre-moderation) -> published; deleted by its author
    status: Mapped[str] = mapped_column(String(20), default="pending")
    visibility: Mapped[str] = mapped_column(String(10), default="visible")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")
    idea: Mapped[Idea] = relationship(lazy="joined")

    target_type = "comment"

    @property
    def is_public(self) -> bool:
        return self.status == "published" and self.visibility == "visible"

    def can_view(self, user: User | None) -> bool:
        # A comment is seen only where its idea is: under a hidden idea it is out of reach
        # for flags, appeals and deletion as much as for reading.
        if not self.idea.can_view(user):
            return False
        if self.is_public or self.status == "deleted":
            return True
        if user is None:
            return False
        return user.id == self.author_id or user.is_moderator or user.is_staff

    def snapshot(self) -> dict:
        return {"body": self.body, "idea_id": self.idea_id, "status": self.status, "visibility": self.visibility}

    @property
    def district(self) -> str | None:
        """A comment belongs where its idea does (the moderation queue's district filter)."""
        return self.idea.district

    def excerpt(self) -> str:
        return excerpt(self.body)

    def approve(self) -> None:
        self.status = "published"
        self.visibility = "visible"

    def set_visibility(self, visibility: str) -> None:
        self.visibility = visibility

    def record_moderation(self, reason_code: str, note: str | None, when: datetime) -> None:
        """A comment shows no moderation details; the log keeps them."""

    def public_changed(self, session: Session, was_public: bool) -> None:
        # The idea's comment count follows its public comments.
        if self.is_public and not was_public:
            comment_became_public(session, self)
        elif was_public and not self.is_public:
            comment_left_public(session, self)

    def push_title(self) -> str:
        return self.idea.title

    def push_route(self) -> dict:
        return {"idea_id": self.idea_id}


# ---------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------


def get_visible_idea(session: Session, idea_id: int, viewer: User | None) -> Idea:
    idea = session.get(Idea, idea_id)
    if idea is None or not idea.can_view(viewer):
        raise NotFound()
    return idea


def get_public_idea(session: Session, idea_id: int) -> Idea:
    """Supports, follows and comments only attach to public ideas (others: 404)."""
    idea = session.get(Idea, idea_id)
    if idea is None or not idea.is_public:
        raise NotFound()
    return idea


def supported_by_others(session: Session, idea: Idea) -> bool:
    """Whether someone other than the author supports it: only they lock the text.

    Asked of the supports themselves, not of `support_count`, which counts the author too.
    """
    other = select(Support.user_id).where(Support.idea_id == idea.id)
    if idea.author_id is not None:
        other = other.where(Support.user_id != idea.author_id)
    return session.scalar(select(other.exists())) is True


def _check_references(session: Session, category: str | None, district: str | None) -> None:
    if category is not None and category_of_kind(session, category, "idea") is None:
        raise Invalid("category", "unknown_category")
    if district is not None and not district_exists(session, district):
        raise Invalid("district", "unknown_district")


# ---------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------


def submit_idea(session: Session, author: User, policy: IdeaPolicy, *, title, body, category, district, location=None) -> Idea:
    author.ensure_may_contribute()
    _check_references(session, category, district)
    status = "pending" if policy.premoderate_ideas else "published"
    reasons = moderation.prescreen_reasons(title, body)
    idea = Idea(
        title=title,
        body=body,
        category=category,
        district=district,
        lat=location["lat"] if location else None,
        lon=location["lon"] if location else None,
        status=status,
        # Stopped by the pre-screen, it is hidden from the start (see add_comment).
        visibility="hidden" if reasons and status != "pending" else "visible",
        author_id=author.id,
        support_count=0,
        comment_count=0,
    )
    idea.refresh_search_text()
    session.add(idea)
    session.flush()
    # The author hears about what happens to their own idea.
    session.add(Follow(idea_id=idea.id, user_id=author.id))
    if reasons and idea.status != "pending":
        moderation.hide_automatically(session, idea, author.id, reasons)
    idea.refresh_public()
    moderation.enqueue_new_content(session, idea, author.id, pending=idea.status == "pending", reasons=reasons)
    session.flush()
    return idea


def edit_idea(session: Session, actor: User, idea: Idea, changes: dict) -> Idea:
    actor.ensure_may_contribute()
    if idea.author_id != actor.id:
        raise Forbidden("forbidden")
    if idea.visibility == "removed":
        raise Conflict("idea_removed")
    if supported_by_others(session, idea):
        raise Conflict("idea_has_supporters")
    _check_references(session, changes.get("category"), changes.get("district"))
    for field in ("title", "body", "category", "district"):
        if field in changes:
            setattr(idea, field, changes[field])
    if "location" in changes:
        location = changes["location"]
        idea.lat, idea.lon = (location["lat"], location["lon"]) if location else (None, None)
    idea.refresh_search_text()
    idea.updated_at = utcnow()
    moderation.refresh_excerpt(session, idea)
    reasons = moderation.prescreen_reasons(idea.title, idea.body)
    if reasons:
        if idea.status != "pending" and idea.visibility == "visible":
            moderation.hide_automatically(session, idea, actor.id, reasons)
        moderation.enqueue_new_content(session, idea, actor.id, pending=idea.status == "pending", reasons=reasons)
    idea.refresh_public()
    session.flush()
    return idea


def delete_idea(session: Session, actor: User, idea: Idea) -> None:
    actor.ensure_may_contribute()
    if idea.author_id != actor.id:
        raise Forbidden("forbidden")
    if supported_by_others(session, idea):
        raise Conflict("idea_has_supporters")
    moderation.forget_target(session, idea)
    session.delete(idea)
    session.flush()


def support(session: Session, user: User, idea_id: int, policy: IdeaPolicy) -> None:
    user.ensure_may_contribute()
    idea = get_public_idea(session, idea_id)
    if not insert_ignoring_duplicate(session, Support, idea_id=idea.id, user_id=user.id, created_at=utcnow()):
        return
    # Counted in SQL so parallel supports of different users never lose an increment.
    session.execute(update(Idea).where(Idea.id == idea.id).values(support_count=Idea.support_count + 1))
    session.refresh(idea, ["support_count", "status"])
    if idea.status == "published" and idea.support_count >= policy.support_threshold:
        result = session.execute(
            update(Idea).where(Idea.id == idea.id, Idea.status == "published").values(status="threshold_reached", updated_at=utcnow())
        )
        if result.rowcount:
            session.refresh(idea, ["status", "updated_at"])
            _notify_followers(session, idea, "idea_status_changed", exclude=())


def unsupport(session: Session, user: User, idea_id: int) -> None:
    user.ensure_may_contribute()
    idea = get_public_idea(session, idea_id)
    result = session.execute(delete(Support).where(Support.idea_id == idea.id, Support.user_id == user.id))
    if result.rowcount:
        session.execute(update(Idea).where(Idea.id == idea.id).values(support_count=Idea.support_count - 1))


def follow(session: Session, user: User, idea_id: int) -> None:
    idea = get_public_idea(session, idea_id)
    insert_ignoring_duplicate(session, Follow, idea_id=idea.id, user_id=user.id, created_at=utcnow())


def unfollow(session: Session, user: User, idea_id: int) -> None:
    idea = session.get(Idea, idea_id)
    if idea is None or not idea.can_view(user):
        raise NotFound()
    session.execute(delete(Follow).where(Follow.idea_id == idea.id, Follow.user_id == user.id))


def respond(session: Session, staff: User, idea: Idea, status: str, body: str) -> Idea:
    """Official answer of the city; moves the status along the allowed transitions."""
    if not staff.is_staff:
        raise Forbidden("forbidden")
    staff.ensure_may_contribute()
    if not idea.can_view(staff):
        raise NotFound()
    if not idea.is_public:
        # Staff can read it, so hiding its existence would only mislead: the state is wrong.
        raise Conflict("idea_not_public", status=idea.status, visibility=idea.visibility)
    if status != idea.status and status not in RESPONSE_TRANSITIONS.get(idea.status, set()):
        raise Conflict("illegal_transition", current=idea.status, target=status)
    now = utcnow()
    idea.status = status
    idea.response_status = status
    idea.response_body = body
    idea.responded_at = now
    idea.updated_at = now
    idea.refresh_public()
    session.flush()
    _notify_followers(session, idea, "idea_response", exclude=(staff.id,))
    return idea


def add_comment(session: Session, author: User, idea_id: int, policy: IdeaPolicy, body: str, parent_id: int | None) -> Comment:
    author.ensure_may_contribute()
    idea = get_public_idea(session, idea_id)
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.idea_id != idea.id or not parent.can_view(author):
            raise Invalid("parent_id", "unknown_parent_comment")
        if parent.parent_id is not None:
            raise Invalid("parent_id", "reply_to_reply")
    status = "pending" if policy.premoderate_comments else "published"
    reasons = moderation.prescreen_reasons(body)
    comment = Comment(
        idea_id=idea.id,
        idea=idea,
        parent_id=parent_id,
        body=body,
        author_id=author.id,
        status=status,
        # Stopped by the pre-screen, it is hidden from the start: never counted, never public.
        visibility="hidden" if reasons and status != "pending" else "visible",
    )
    session.add(comment)
    session.flush()
    if reasons and comment.status != "pending":
        moderation.hide_automatically(session, comment, author.id, reasons)
    moderation.enqueue_new_content(session, comment, author.id, pending=comment.status == "pending", reasons=reasons)
    if comment.is_public:
        comment_became_public(session, comment)
    session.flush()
    return comment


def comment_became_public(session: Session, comment: Comment) -> None:
    session.execute(update(Idea).where(Idea.id == comment.idea_id).values(comment_count=Idea.comment_count + 1))
    _notify_followers(session, comment.idea, "idea_comment", exclude=(comment.author_id,), comment=comment)


def comment_left_public(session: Session, comment: Comment) -> None:
    session.execute(update(Idea).where(Idea.id == comment.idea_id).values(comment_count=Idea.comment_count - 1))


def delete_comment(session: Session, actor: User, idea_id: int, comment_id: int) -> None:
    actor.ensure_may_contribute()
    comment = session.get(Comment, comment_id)
    if comment is None or comment.idea_id != idea_id or not comment.can_view(actor) or comment.status == "deleted":
        raise NotFound()
    if comment.author_id != actor.id:
        raise Forbidden("forbidden")
    if not moderation.was_ever_public(session, comment):
        # Nobody else ever read it: no trace is left, and replies to it go with it.
        _vanish_comment(session, comment)
        return
    was_public = comment.is_public
    comment.status = "deleted"
    # The text goes; the place in the thread stays, so replies keep their context.
    comment.body = ""
    comment.updated_at = utcnow()
    if was_public:
        comment_left_public(session, comment)
    moderation.forget_target(session, comment)
    session.flush()


def _vanish_comment(session: Session, comment: Comment) -> None:
    replies = session.scalars(select(Comment).where(Comment.parent_id == comment.id)).all()
    for gone in (*replies, comment):
        if gone.is_public:
            comment_left_public(session, gone)
        moderation.forget_target(session, gone)
    # Replies first: the parent's row is referenced by theirs.
    for gone in replies:
        session.delete(gone)
    session.flush()
    session.delete(comment)
    session.flush()


def _notify_followers(session: Session, idea: Idea, kind: str, exclude, comment: Comment | None = None) -> None:
    """One event for all followers, however many: the worker finds and tells them."""
    data = {"idea_id": idea.id, "status": idea.status}
    if comment is not None:
        # The comment is the object: if it is hidden before the push leaves, nobody hears of it.
        data["comment_id"] = comment.id
    outbox.record(
        session,
        kind,
        "comment" if comment is not None else "idea",
        comment.id if comment is not None else idea.id,
        idea.title,
        outbox.idea_followers(idea.id),
        exclude=exclude,
        data=data,
    )


# ---------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------


def list_columns():
    """Plain rows for lists: the idea's columns and its author's name, in one query.

    Rows instead of ORM objects: a page of twenty is read several times faster.
    """
    ideas, users = Idea.__table__, User.__table__
    return select(
        *(column for column in ideas.c if column.name != "search_text"),
        users.c.display_name.label("author_name"),
        users.c.deleted_at.label("author_deleted_at"),
    ).join_from(ideas, users, ideas.c.author_id == users.c.id, isouter=True)


LIST_SORT_COLUMNS = {"new": ("id",), "top": ("support_count", "id")}


def _list_key_part(sort: str, own: bool, limit: int, district: bool, category: bool, status: bool, terms: int, after: bool):
    ideas = Idea.__table__
    stmt = select(
        ideas.c.id,
        ideas.c.support_count,
        ideas.c.comment_count,
        ideas.c.revision,
        ideas.c.status,
        ideas.c.visibility,
        ideas.c.author_id,
    )
    if own:
        stmt = stmt.where(ideas.c.author_id == bindparam("viewer"), ideas.c.is_public.is_(False), ideas.c.visibility != "removed")
    else:
        stmt = stmt.where(ideas.c.is_public.is_(True))
    if district:
        stmt = stmt.where(ideas.c.district == bindparam("district"))
    if category:
        stmt = stmt.where(ideas.c.category == bindparam("category"))
    if status:
        stmt = stmt.where(ideas.c.status == bindparam("status"))
    for i in range(terms):
        stmt = stmt.where(ideas.c.search_text.like(bindparam(f"term{i}"), escape="\\"))
    columns = [ideas.c[name] for name in LIST_SORT_COLUMNS[sort]]
    if after:
        # (a < x) OR (a = x AND b < y): rows after the cursor in descending order.
        clauses = []
        for i, column in enumerate(columns):
            equal = [columns[j] == bindparam(f"after{j}") for j in range(i)]
            clauses.append(and_(*equal, column < bindparam(f"after{i}")))
        stmt = stmt.where(or_(*clauses))
    return stmt.order_by(*(c.desc() for c in columns)).limit(literal_column(str(int(limit))))


def _list_key_statement(sort: str, viewer: bool, limit: int, district: bool, category: bool, status: bool, terms: int, after: bool):
    """One shape of the idea-list page query: ids and everything a cached rendering depends on.

    A logged-in viewer also sees their own unpublished ideas: that part is walked on its own
    (each part keeps its index) and merged in the same statement, one round trip either way.
    The author's name is part of the rendering too; renaming an account bumps the revision of
    its ideas instead (`author_renamed`), so this hot query reads one table only.

    The page size is written into the SQL (one statement per size, 1-101): as a parameter,
    PostgreSQL's generic plan guesses a large LIMIT, finds it dearer than a custom plan and
    then plans the query anew on every execution (measured: 0.6 ms, three times the query).
    """
    public = _list_key_part(sort, False, limit, district, category, status, terms, after)
    if not viewer:
        return public
    # Each part as a subquery: SQLite allows ORDER BY/LIMIT only there inside a UNION.
    parts = [part.subquery() for part in (public, _list_key_part(sort, True, limit, district, category, status, terms, after))]
    merged = union_all(*(select(*part.c) for part in parts)).subquery()
    order = [merged.c[name].desc() for name in LIST_SORT_COLUMNS[sort]]
    return select(*merged.c).order_by(*order).limit(literal_column(str(int(limit))))


LIST_KEYS = PreparedSelect(_list_key_statement)


def list_page_keys(session: Session, viewer: User | None, sort: str, limit: int, after: list[int] | None, *, district=None, category=None, status=None, q=None) -> list[tuple]:
    """Key rows of one list page (public ideas plus the viewer's own unpublished ones), in order.

    Each row: (id, support_count, comment_count, revision, status, visibility, author_id):
    everything a rendering of the idea depends on. Returns up to limit + 1.
    """
    terms = words(q or "")[:8]
    params: dict = {"district": district, "category": category, "status": status}
    params.update({f"term{i}": like_pattern(t) for i, t in enumerate(terms)})
    if after:
        params.update({f"after{i}": v for i, v in enumerate(after)})
    if viewer is not None:
        params["viewer"] = viewer.id
    shape = (sort, viewer is not None, limit + 1, bool(district), bool(category), bool(status), len(terms), bool(after))
    return LIST_KEYS.rows(session, shape, params)


def _relation_statement(count: int):
    ids = [bindparam(f"id{i}") for i in range(count)]
    return union_all(
        select(Support.idea_id, literal("supports")).where(Support.user_id == bindparam("viewer"), Support.idea_id.in_(ids)),
        select(Follow.idea_id, literal("follows")).where(Follow.user_id == bindparam("viewer"), Follow.idea_id.in_(ids)),
    )


VIEWER_RELATIONS = PreparedSelect(_relation_statement)


def viewer_relations(session: Session, viewer: User | None, idea_ids: list[int]) -> tuple[set[int], set[int]]:
    """Which of these ideas the viewer supports and follows: one query for a whole page."""
    if viewer is None or not idea_ids:
        return set(), set()
    params = {"viewer": viewer.id, **{f"id{i}": idea_id for i, idea_id in enumerate(idea_ids)}}
    supported, following = set(), set()
    for idea_id, relation in VIEWER_RELATIONS.rows(session, (len(idea_ids),), params):
        (supported if relation == "supports" else following).add(idea_id)
    return supported, following


SIMILAR_STOPWORDS = {
    "der", "die", "das", "und", "oder", "ein", "eine", "einen", "einem", "einer", "mit", "fuer", "auf", "von",
    "den", "dem", "des", "ist", "sind", "wir", "ich", "sie", "es", "im", "in", "am", "an", "zu", "zum", "zur",
    "bitte", "mehr", "nicht", "auch", "wird", "werden", "kann", "koennte", "sollte", "the", "and", "for",
    "with", "this", "that", "neue", "neuen", "neuer", "dortmund",
}


def similar_ideas(session: Session, district: str | None, title: str, body: str, limit: int = 5) -> list[Idea]:
    """Public ideas of the same district that share the draft's significant words."""
    title_words = [w for w in words(title) if len(w) >= 4 and w not in SIMILAR_STOPWORDS]
    body_words = [w for w in words(body) if len(w) >= 5 and w not in SIMILAR_STOPWORDS]
    keywords = list(dict.fromkeys(title_words + body_words))[:8]
    if not keywords:
        return []
    # Stems (first six letters) also catch inflected forms: "Spielplatz" and "Spielplätze".
    stems = list(dict.fromkeys(w[:6] if len(w) > 6 else w for w in keywords))
    stmt = select(Idea).where(Idea.is_public.is_(True))
    if district:
        stmt = stmt.where(Idea.district == district)
    stmt = stmt.where(or_(*(Idea.search_text.like(like_pattern(s), escape="\\") for s in stems)))
    candidates = session.scalars(stmt.order_by(Idea.id.desc()).limit(300)).all()
    scored = []
    for idea in candidates:
        title_text = fold(idea.title)
        text = idea.search_text
        score = sum(3 for s in stems if s in title_text) + sum(1 for s in stems if s in text)
        scored.append((score, idea.support_count, idea.id, idea))
    scored.sort(key=lambda t: (-t[0], -t[1], -t[2]))
    # A shared word in the title counts 4 (3 + 1); matches only in the body need two words.
    return [idea for score, *_rest, idea in scored if score >= 2][:limit]
