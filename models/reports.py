"""Reports: Dreckpetze litter reports and Angsträume (unsafe places), from the street to "did it help?".

A report is filed with a point inside Dortmund (its district follows from the point), up to
three photos and a category that names the responsible department. Litter is public at
once; unsafe places wait for moderation (`pending`). Staff move a report along its
transitions with notes that form its public timeline; the reporter may reopen a resolved
report for a while and answers once whether it helped.

Two states again, as for ideas: `status` (the city's work) and `visibility` (moderation).
Public means visible and not pending. Every change of what the kept counts see (public or
not, status, category, place, feedback) goes through one pair of calls: a `ReportSnapshot`
taken before and `report_changed(session, before, report)` after, which moves the report's
per-cell map counts (`ReportMapCell`) and its share of the statistics (`models.report_stats`)
in the same transaction, so neither cluster nor statistics answers ever scan reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    event,
    insert,
    literal_column,
    or_,
    select,
    true,
    union_all,
    update,
)
from geoalchemy2 import Geometry
from geoalchemy2 import functions as geofunc
from sqlalchemy import column, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from . import moderation, outbox
from .base import Base, Revisioned, ShowsModeration, add_counts, insert_ignoring_duplicate, merge_counts, utcnow
from .delivery import PENDING
from .errors import Conflict, Forbidden, Invalid, NotFound
from .geography import (
    CLUSTER_ZOOMS,
    Bounds,
    CityMap,
    cluster_cell,
    cluster_cell_range,
    degrees_around,
    distance_m,
    page_cell,
    page_cell_count,
    page_cells,
)
from .prepared import PreparedSelect
from .reference import Category
from .report_stats import StatsEntry, move_in_stats, stats_entry
from .text import excerpt
from .users import User

REPORT_KINDS = ("litter", "unsafe_place")
REPORT_STATUSES = ("pending", "open", "acknowledged", "in_progress", "resolved", "duplicate", "rejected")
UPDATE_STATUSES = ("open", "acknowledged", "in_progress", "resolved", "duplicate", "rejected")
# Where the city still has work to do: what "me too", nearby and the staff queue look at.
OPEN_STATUSES = ("open", "acknowledged", "in_progress")
FINAL_STATUSES = ("duplicate", "rejected")

# Staff may skip steps forward; the same status again is a note without a change.
STAFF_TRANSITIONS: dict[str, set[str]] = {
    "open": {"acknowledged", "in_progress", "resolved", "duplicate", "rejected"},
    "acknowledged": {"in_progress", "resolved", "duplicate", "rejected"},
    "in_progress": {"resolved", "duplicate", "rejected"},
    "resolved": set(),
    "duplicate": set(),
    "rejected": set(),
    "pending": set(),
}
MAX_PHOTOS = 3

# What a list rendering depends on, and the reporter (whose own fields differ).
# Every change of a report bumps its revision (the ORM's through Revisioned, the counters'
# SQL updates by hand), so three integers key a rendering.
KEY_COLUMNS = ("id", "revision", "reporter_id")
PAGE_KEY_EXTRAS = KEY_COLUMNS[1:]


@dataclass(frozen=True)
class ReportPolicy:
    """Settings of the report service (from configuration)."""

    city: CityMap
    reopen_window: timedelta = timedelta(days=14)
    feedback_delay: timedelta = timedelta(days=3)
    nearby_window: timedelta = timedelta(days=30)
    # The app's untouched default pin (lat, lon), refused within `refused_pin_radius_m`.
    refused_pin: tuple[float, float] | None = None
    refused_pin_radius_m: float = 10.0
    premoderate_unsafe_places: bool = True
    photo_upload_ttl: timedelta = timedelta(hours=24)


def policy_from_config(config) -> ReportPolicy:
    """The policy the settings describe (api.config); the city map is read once per process."""
    from .geography import city_map

    return ReportPolicy(
        city=city_map(config["CITY_BOUNDARY_FILE"], config["DISTRICTS_FILE"]),
        reopen_window=timedelta(days=config["REPORT_REOPEN_DAYS"]),
        feedback_delay=timedelta(hours=config["REPORT_FEEDBACK_DELAY_HOURS"]),
        nearby_window=timedelta(days=config["REPORT_NEARBY_DAYS"]),
        refused_pin=config["REFUSED_PIN"],
        refused_pin_radius_m=config["REFUSED_PIN_RADIUS_M"],
        premoderate_unsafe_places=config["PREMODERATE_UNSAFE_PLACES"],
        photo_upload_ttl=timedelta(hours=config["PHOTO_UPLOAD_TTL_HOURS"]),
    )


# ---------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------


class Report(Revisioned, ShowsModeration, Base):
    __tablename__ = "reports"
    __table_args__ = (
        # Newest-first pages of a map box: per page-grid cell, newest first (see `box_page_keys`).
        # PostgreSQL also carries what a page's key rows need (KEY_COLUMNS), so a map page is
        # read from the index alone: its rows lie on random heap pages (spread in time, close
        # in space), and fetching 51 of them cost more than the whole walk.
        Index("ix_reports_page_cell", "page_cell", "is_public", "id", "lat", "lon", postgresql_include=PAGE_KEY_EXTRAS),
        Index("ix_reports_public_new", "is_public", "id", postgresql_include=("lat", "lon", *PAGE_KEY_EXTRAS)),
        # Open311 lists (models.open311): newest requested first within a time window.
        Index("ix_reports_public_requested", "is_public", "created_at", "id", postgresql_include=("revision",)),
        # The staff queue: open reports of a department, longest waiting first.
        Index("ix_reports_queue", "is_open", "department", "waiting_since", "id"),
        Index("ix_reports_reporter", "reporter_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district: Mapped[str] = mapped_column(ForeignKey("districts.slug"))
    page_cell: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="open")
    visibility: Mapped[str] = mapped_column(String(10), default="visible")
    # Derived from status and visibility, stored so that list queries can use an index.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmation_count: Mapped[int] = mapped_column(Integer, default=0)
    helped_count: Mapped[int] = mapped_column(Integer, default=0)
    not_helped_count: Mapped[int] = mapped_column(Integer, default=0)
    # Since when the city owes an answer: filing, or the reporter's reopening.
    waiting_since: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=0)

    photos: Mapped[list["ReportPhoto"]] = relationship(
        back_populates="report", order_by="ReportPhoto.position", lazy="selectin", passive_deletes=True
    )
    updates: Mapped[list["ReportUpdate"]] = relationship(order_by="ReportUpdate.id", lazy="selectin", passive_deletes=True)

    # -- derived state -------------------------------------------------------------------
    def refresh_public(self) -> None:
        self.is_public = self.visibility == "visible" and self.status != "pending"
        self.is_open = self.is_public and self.status in OPEN_STATUSES

    @property
    def author_id(self) -> int | None:
        return self.reporter_id

    # -- permissions ---------------------------------------------------------------------
    def can_view(self, user) -> bool:
        if self.is_public:
            return True
        if user is None:
            return False
        return user.id == self.reporter_id or user.is_moderator or user.is_staff

    def can_see_moderation(self, user) -> bool:
        return user is not None and (user.id == self.reporter_id or user.is_moderator or user.is_staff)

    # -- moderation target protocol (see models.moderation) -----------------------------
    target_type = "report"

    def snapshot(self) -> dict:
        return {
            "kind": self.kind,
            "category": self.category,
            "description": self.description,
            "lat": self.lat,
            "lon": self.lon,
            "district": self.district,
            "status": self.status,
            "visibility": self.visibility,
            "photos": [p.image_key for p in self.photos],
        }

    def excerpt(self) -> str:
        return excerpt(self.description)

    def approve(self) -> None:
        self.status = "open"
        self.visibility = "visible"
        self.waiting_since = utcnow()
        self.refresh_public()

    def set_visibility(self, visibility: str) -> None:
        self.visibility = visibility
        self.refresh_public()

    def public_changed(self, session: Session, was_public: bool) -> None:
        if was_public != self.is_public:
            # Moderation changes only the visibility (approve also the status, from a pending
            # report that counted nowhere), so the state before is the present one as it was public.
            report_changed(session, ReportSnapshot.of(self, public=was_public), self)

    def push_title(self) -> str:
        # A report has no title of its own; its category's name says what it is about.
        return _category_name(self)

    def push_route(self) -> dict:
        return {"report_id": self.id}


def _category_name(report: Report) -> str:
    from sqlalchemy.orm import object_session

    session = object_session(report)
    category = session.get(Category, report.category) if session is not None else None
    return category.name_de if category is not None else report.category


class ReportPhoto(Base):
    """A photo as served: the re-encoded image and its thumbnail, under unguessable keys.

    Uploaded first (photo-first flow) it has no report yet and expires unless a report takes
    it within the upload's lifetime.
    """

    __tablename__ = "report_photos"
    __table_args__ = (Index("ix_report_photos_unattached", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    image_key: Mapped[str] = mapped_column(String(100), unique=True)
    thumbnail_key: Mapped[str] = mapped_column(String(100), unique=True)
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[Report | None] = relationship(back_populates="photos")


class ReportUpdate(Base):
    """One entry of a report's public timeline: a staff update, or the reporter reopening it."""

    __tablename__ = "report_updates"
    __table_args__ = (Index("ix_report_updates_report", "report_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    # city | reporter
    by: Mapped[str] = mapped_column(String(10), default="city")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportConfirmation(Base):
    """ "Me too": one per user and report."""

    __tablename__ = "report_confirmations"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportFollow(Base):
    __tablename__ = "report_follows"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportFeedback(Base):
    """The reporter's answer to "did it help?": once per report."""

    __tablename__ = "report_feedback"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    helped: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportMapCell(Base):
    """Public reports per cluster cell, zoom level, category and status, kept on every write.

    `category_key` is a category code, `kind:<kind>` or `*`; `status_key` a status or `*`: each
    report counts in all six combinations, so any filter the map offers reads one row per
    cell. `id_sum` is the id of a cell's only report when `count` is 1; the coordinate sums
    place a cluster at the mean of its reports rather than at the cell's corner.
    """

    __tablename__ = "report_map_cells"

    zoom: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    status_key: Mapped[str] = mapped_column(String(20), primary_key=True)
    x: Mapped[int] = mapped_column(Integer, primary_key=True)
    y: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    id_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    lat_sum: Mapped[float] = mapped_column(Float, default=0.0)
    lon_sum: Mapped[float] = mapped_column(Float, default=0.0)


# ---------------------------------------------------------------------------------------
# Map counts
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapEntry:
    report_id: int
    kind: str
    category: str
    status: str
    lat: float
    lon: float


def _map_entry(report: Report, public: bool | None = None) -> MapEntry | None:
    if not (report.is_public if public is None else public):
        return None
    return MapEntry(report.id, report.kind, report.category, report.status, report.lat, report.lon)


def map_cell_rows(entry: MapEntry, sign: int) -> list[dict]:
    rows = []
    for zoom in CLUSTER_ZOOMS:
        x, y = cluster_cell(entry.lat, entry.lon, zoom)
        for category_key in (entry.category, f"kind:{entry.kind}", "*"):
            for status_key in (entry.status, "*"):
                rows.append(
                    {
                        "zoom": zoom, "category_key": category_key, "status_key": status_key, "x": x, "y": y,
                        "count": sign, "id_sum": sign * entry.report_id,
                        "lat_sum": sign * entry.lat, "lon_sum": sign * entry.lon,
                    }
                )
    return rows


MAP_CELL_KEY = ("zoom", "category_key", "status_key", "x", "y")
_SUMMED = ("count", "id_sum", "lat_sum", "lon_sum")


def apply_map_deltas(session: Session, rows: list[dict]) -> None:
    """Add count rows into `report_map_cells`: one multi-row upsert of the merged deltas."""
    # The coordinate sums of a merged row may keep rounding noise where count and ids cancel.
    add_counts(session, ReportMapCell.__table__, MAP_CELL_KEY, _SUMMED, rows, significant=("count", "id_sum"))


def move_on_map(session: Session, before: MapEntry | None, after: MapEntry | None) -> None:
    if before == after:
        return
    rows = []
    if before is not None:
        rows += map_cell_rows(before, -1)
    if after is not None:
        rows += map_cell_rows(after, +1)
    apply_map_deltas(session, rows)


def rebuild_map_cells(session: Session) -> None:
    """Recount every cell from the reports (after a bulk load; the counts are otherwise kept on writes)."""
    session.execute(delete(ReportMapCell))
    stmt = select(Report.id, Report.kind, Report.category, Report.status, Report.lat, Report.lon).where(Report.is_public.is_(True))
    rows = list(
        merge_counts((row for fields in session.execute(stmt) for row in map_cell_rows(MapEntry(*fields), +1)), MAP_CELL_KEY, _SUMMED).values()
    )
    for start in range(0, len(rows), 5000):
        session.execute(insert(ReportMapCell), rows[start:start + 5000])


# ---------------------------------------------------------------------------------------
# One mechanism for every kept count: a snapshot before, report_changed after
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSnapshot:
    """What the kept counts know of a report at one moment (None where it counts nowhere)."""

    map: MapEntry | None
    stats: StatsEntry | None

    @classmethod
    def of(cls, report: Report, public: bool | None = None) -> ReportSnapshot:
        return cls(_map_entry(report, public), stats_entry(report, public))


# A report that did not exist yet.
NOWHERE = ReportSnapshot(None, None)


def report_changed(session: Session, before: ReportSnapshot, report: Report) -> None:
    """Move the map counts and the statistics from `before` to the report as it is now."""
    after = ReportSnapshot.of(report)
    move_on_map(session, before.map, after.map)
    move_in_stats(session, before.stats, after.stats)


# ---------------------------------------------------------------------------------------
# Files that must not outlive a rolled-back transaction
# ---------------------------------------------------------------------------------------

_UNCOMMITTED = "report_files_uncommitted"
_DELETE_AFTER_COMMIT = "report_files_delete_after_commit"


def _stored_in_transaction(session: Session, storage, keys: list[str]) -> None:
    session.info.setdefault(_UNCOMMITTED, []).extend((storage, key) for key in keys)


def _delete_after_commit(session: Session, storage, keys: list[str]) -> None:
    session.info.setdefault(_DELETE_AFTER_COMMIT, []).extend((storage, key) for key in keys)


@event.listens_for(Session, "after_commit")
def _files_committed(session: Session) -> None:
    session.info.pop(_UNCOMMITTED, None)
    for storage, key in session.info.pop(_DELETE_AFTER_COMMIT, []):
        try:
            storage.delete(key)
        except OSError:  # pragma: no cover - a leftover file, never a lost row
            pass


@event.listens_for(Session, "after_rollback")
def _files_rolled_back(session: Session) -> None:
    # Photos written for a transaction that did not commit: no row points at them.
    session.info.pop(_DELETE_AFTER_COMMIT, None)
    for storage, key in session.info.pop(_UNCOMMITTED, []):
        try:
            storage.delete(key)
        except OSError:  # pragma: no cover
            pass


def store_photo(session: Session, owner: User, storage, processed, position: int = 0) -> ReportPhoto:
    """Write a processed photo's files and its row (not yet attached to a report).

    The files are written first: a failing storage (full disk, read-only directory) raises
    before any row exists; a transaction that fails later takes the files with it.
    """
    from media.storage import new_photo_key  # noqa: PLC0415 - storage keys are media's business

    image_key, thumbnail_key = new_photo_key(), new_photo_key()
    written = []
    try:
        storage.put(image_key, processed.image, processed.content_type)
        written.append(image_key)
        storage.put(thumbnail_key, processed.thumbnail, processed.content_type)
        written.append(thumbnail_key)
    except BaseException:
        for key in written:
            storage.delete(key)
        raise
    _stored_in_transaction(session, storage, written)
    photo = ReportPhoto(
        owner_id=owner.id,
        position=position,
        image_key=image_key,
        thumbnail_key=thumbnail_key,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
    )
    session.add(photo)
    session.flush()
    return photo


def expire_unattached_photos(session: Session, storage, policy: ReportPolicy, limit: int = 200) -> int:
    """Photo-first uploads that no report took within their lifetime: rows and files go."""
    cutoff = utcnow() - policy.photo_upload_ttl
    stale = session.scalars(
        select(ReportPhoto).where(ReportPhoto.report_id.is_(None), ReportPhoto.created_at < cutoff).limit(limit)
    ).all()
    for photo in stale:
        _delete_after_commit(session, storage, [photo.image_key, photo.thumbnail_key])
        session.delete(photo)
    session.flush()
    return len(stale)


# ---------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------


def get_visible_report(session: Session, report_id: int, viewer) -> Report:
    report = session.get(Report, report_id)
    if report is None or not report.can_view(viewer):
        raise NotFound()
    return report


def get_public_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None or not report.is_public:
        raise NotFound()
    return report


def report_category(session: Session, code: str, kind: str) -> Category:
    category = session.get(Category, code)
    if category is None or category.kind not in REPORT_KINDS:
        raise Invalid("category", "unknown_category")
    if category.kind != kind:
        raise Invalid("category", "category_wrong_kind", kind=kind)
    return category


def check_location(policy: ReportPolicy, lat: float, lon: float) -> str:
    """The district of a reported point; 422 outside Dortmund or on the app's default pin."""
    if policy.refused_pin is not None:
        pin_lat, pin_lon = policy.refused_pin
        if distance_m(lat, lon, pin_lat, pin_lon) <= policy.refused_pin_radius_m:
            raise Invalid("lat", "report_default_pin")
    district = policy.city.district_at(lat, lon)
    if district is None:
        raise Invalid("lat", "report_outside_city")
    return district


def check_submission(session: Session, policy: ReportPolicy, kind: str, category: str, lat: float, lon: float) -> str:
    """Everything about a new report but its text and photos; returns the district.

    Asked before any photo is decoded or stored: a report that cannot be filed costs nothing.
    """
    report_category(session, category, kind)
    return check_location(policy, lat, lon)


# ---------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------


def submit_report(
    session: Session,
    reporter: User | None,
    policy: ReportPolicy,
    *,
    kind: str,
    category: str,
    description: str,
    lat: float,
    lon: float,
    photos: list[ReportPhoto] = (),
) -> Report:
    """File a report. `photos` are rows from `store_photo` (uploaded with it or before it).

    `reporter` is None for a request an outside system filed through Open311 (models.open311):
    nobody in the app follows it then, and its moderation has no author to tell.
    """
    if reporter is not None:
        reporter.ensure_may_contribute()
    category_row = report_category(session, category, kind)
    district = check_location(policy, lat, lon)
    if len(photos) > MAX_PHOTOS:
        raise Invalid("photo", "too_many_photos", max=MAX_PHOTOS)
    pending = kind == "unsafe_place" and policy.premoderate_unsafe_places
    reasons = moderation.prescreen_reasons(description)
    now = utcnow()
    report = Report(
        kind=kind,
        category=category,
        department=category_row.department,
        description=description,
        lat=lat,
        lon=lon,
        district=district,
        page_cell=page_cell(lat, lon),
        status="pending" if pending else "open",
        visibility="hidden" if reasons and not pending else "visible",
        reporter_id=reporter.id if reporter is not None else None,
        confirmation_count=0,
        helped_count=0,
        not_helped_count=0,
        waiting_since=now,
        created_at=now,
        updated_at=now,
    )
    report.refresh_public()
    session.add(report)
    session.flush()
    for position, photo in enumerate(photos):
        photo.report_id = report.id
        photo.position = position
    if reporter is not None:
        # The reporter hears about what happens to their own report.
        session.add(ReportFollow(report_id=report.id, user_id=reporter.id, created_at=now))
    if reasons and not pending:
        moderation.hide_automatically(session, report, report.reporter_id, reasons)
    moderation.enqueue_new_content(session, report, report.reporter_id, pending=pending, reasons=reasons)
    report.refresh_public()
    report_changed(session, NOWHERE, report)
    session.flush()
    session.expire(report, ["photos"])
    return report


def claim_uploaded_photos(session: Session, owner: User, policy: ReportPolicy, photo_ids: list[int]) -> list[ReportPhoto]:
    """The caller's own photo-first uploads, not yet used by another report nor expired, in the given order.

    An expired upload is never claimed, so the sweep (`expire_unattached_photos`) only ever
    deletes photos that no report can take any more.
    """
    if len(photo_ids) > MAX_PHOTOS:
        raise Invalid("photo_ids", "too_many_photos", max=MAX_PHOTOS)
    if len(set(photo_ids)) != len(photo_ids):
        raise Invalid("photo_ids", "photo_ids_repeated")
    if not photo_ids:
        return []
    found = {
        p.id: p
        for p in session.scalars(
            select(ReportPhoto)
            .where(ReportPhoto.id.in_(photo_ids), ReportPhoto.created_at >= utcnow() - policy.photo_upload_ttl)
            .with_for_update()
        )
    }
    photos = []
    for photo_id in photo_ids:
        photo = found.get(photo_id)
        if photo is None or photo.owner_id != owner.id or photo.report_id is not None:
            raise Invalid("photo_ids", "unknown_photo", id=photo_id)
        photos.append(photo)
    return photos


def confirm(session: Session, user: User, report_id: int) -> None:
    """ "Me too": counted once per user; the confirmer follows the report from then on."""
    user.ensure_may_contribute()
    report = get_public_report(session, report_id)
    if report.reporter_id == user.id:
        return
    if report.status not in OPEN_STATUSES:
        raise Conflict("report_closed", status=report.status)
    if not insert_ignoring_duplicate(session, ReportConfirmation, report_id=report.id, user_id=user.id, created_at=utcnow()):
        return
    # Counted in SQL so parallel confirmations never lose an increment.
    session.execute(update(Report).where(Report.id == report.id).values(confirmation_count=Report.confirmation_count + 1, revision=Report.revision + 1))
    insert_ignoring_duplicate(session, ReportFollow, report_id=report.id, user_id=user.id, created_at=utcnow())


def follow(session: Session, user: User, report_id: int) -> None:
    report = get_public_report(session, report_id)
    insert_ignoring_duplicate(session, ReportFollow, report_id=report.id, user_id=user.id, created_at=utcnow())


def unfollow(session: Session, user: User, report_id: int) -> None:
    report = get_visible_report(session, report_id, user)
    session.execute(delete(ReportFollow).where(ReportFollow.report_id == report.id, ReportFollow.user_id == user.id))


def post_update(session: Session, staff: User, report: Report, policy: ReportPolicy, status: str, note: str, duplicate_of: int | None = None) -> Report:
    """A staff update: a status along the transitions (or the same one: a note), on the public timeline."""
    if not staff.is_staff:
        raise Forbidden("forbidden")
    staff.ensure_may_contribute()
    if not report.is_public:
        # Staff can read it, so hiding its existence would only mislead: the state is wrong.
        raise Conflict("report_not_public", status=report.status, visibility=report.visibility)
    if status != report.status and status not in STAFF_TRANSITIONS.get(report.status, set()):
        raise Conflict("illegal_transition", current=report.status, target=status)
    if status == "duplicate" and report.status != "duplicate":
        if duplicate_of is None:
            raise Invalid("duplicate_of", "duplicate_of_required")
        original = session.get(Report, duplicate_of)
        if original is None or not original.is_public or original.id == report.id:
            raise Invalid("duplicate_of", "duplicate_of_not_public")
        if original.duplicate_of == report.id:
            raise Invalid("duplicate_of", "duplicate_of_circular")
        report.duplicate_of = original.id
    elif duplicate_of is not None and status != "duplicate":
        raise Invalid("duplicate_of", "duplicate_of_only_for_duplicate")
    before = ReportSnapshot.of(report)
    now = utcnow()
    changed = status != report.status
    report.status = status
    report.updated_at = now
    if changed and status == "resolved":
        report.resolved_at = now
    report.refresh_public()
    session.add(
        ReportUpdate(
            report_id=report.id, status=status, note=note, by="city", author_id=staff.id,
            duplicate_of=report.duplicate_of if status == "duplicate" else None, created_at=now,
        )
    )
    report_changed(session, before, report)
    session.flush()
    _notify_followers(session, report, "report_status_changed" if changed else "report_update", exclude=(staff.id,))
    if changed and status == "resolved" and report.reporter_id is not None:
        _ask_for_feedback(session, report, policy, now)
    session.expire(report, ["updates"])
    return report


def reopen(session: Session, reporter: User, report: Report, policy: ReportPolicy, note: str | None = None) -> Report:
    reporter.ensure_may_contribute()
    if report.reporter_id != reporter.id:
        raise Forbidden("report_reporter_only")
    if report.status != "resolved" or not report.is_public:
        raise Conflict("report_not_resolved", status=report.status)
    now = utcnow()
    if report.resolved_at is None or now > report.resolved_at + policy.reopen_window:
        raise Conflict("report_reopen_window_over", days=policy.reopen_window.days)
    before = ReportSnapshot.of(report)
    # "Did it help?" no longer fits: questions still waiting for their time are withdrawn.
    session.execute(
        update(outbox.NotificationEvent)
        .where(
            outbox.NotificationEvent.type == "report_feedback_request",
            outbox.NotificationEvent.object_id == report.id,
            outbox.NotificationEvent.status == PENDING,
        )
        # Already past (times are whole seconds): the worker gives them up unsent.
        .values(discard_after=now - timedelta(seconds=1)),
        execution_options={"synchronize_session": False},
    )
    report.status = "open"
    report.waiting_since = now
    report.updated_at = now
    report.refresh_public()
    session.add(ReportUpdate(report_id=report.id, status="open", note=note, by="reporter", author_id=reporter.id, created_at=now))
    report_changed(session, before, report)
    session.flush()
    _notify_followers(session, report, "report_reopened", exclude=(reporter.id,))
    session.expire(report, ["updates"])
    return report


def give_feedback(session: Session, reporter: User, report: Report, helped: bool, comment: str | None) -> ReportFeedback:
    reporter.ensure_may_contribute()
    if report.reporter_id != reporter.id:
        raise Forbidden("report_reporter_only")
    if report.status != "resolved":
        raise Conflict("report_not_resolved", status=report.status)
    before = ReportSnapshot.of(report)
    feedback = ReportFeedback(report_id=report.id, user_id=reporter.id, helped=helped, comment=comment, created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(feedback)
            session.flush()
    except IntegrityError:
        raise Conflict("report_feedback_given") from None
    counter = Report.helped_count if helped else Report.not_helped_count
    session.execute(update(Report).where(Report.id == report.id).values({counter: counter + 1, Report.revision: Report.revision + 1}))
    session.refresh(report, ["helped_count", "not_helped_count", "revision"])
    # The statistics count the answers (the map does not show them).
    report_changed(session, before, report)
    return feedback


def _notify_followers(session: Session, report: Report, kind: str, exclude) -> None:
    """One event for all followers (the reporter among them): the worker finds and tells them."""
    outbox.record(
        session,
        kind,
        "report",
        report.id,
        report.push_title(),
        outbox.report_followers(report.id),
        exclude=exclude,
        data={"report_id": report.id, "status": report.status},
    )


def _ask_for_feedback(session: Session, report: Report, policy: ReportPolicy, resolved_at: datetime) -> None:
    """ "Did it help?", due a while after resolution; dropped if the report was reopened or answered meanwhile."""
    event = outbox.record(
        session,
        "report_feedback_request",
        "report",
        report.id,
        report.push_title(),
        outbox.users([report.reporter_id]),
        data={"report_id": report.id, "resolved_at": resolved_at.isoformat()},
    )
    event.next_attempt_at = resolved_at + policy.feedback_delay


def still_asking_for_feedback(session: Session, candidates: dict[int, set[str]]) -> set[tuple[int, str]]:
    """(report id, resolution time) of feedback requests still worth sending: resolved then, unanswered."""
    if not candidates:
        return set()
    rows = session.execute(
        select(Report.id, Report.resolved_at, Report.status, Report.is_public, ReportFeedback.report_id)
        .outerjoin(ReportFeedback, ReportFeedback.report_id == Report.id)
        .where(Report.id.in_(list(candidates)))
    ).all()
    alive = set()
    for report_id, resolved_at, status, is_public, answered in rows:
        if status == "resolved" and is_public and answered is None and resolved_at is not None:
            stamp = resolved_at.isoformat()
            if stamp in candidates[report_id]:
                alive.add((report_id, stamp))
    return alive


# ---------------------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------------------

# Up to this many page-grid cells a box is walked cell by cell; a larger box holds so many
# reports that the newest 50 are found by walking all public reports by id. On PostgreSQL
# every arm of the merge costs an index descent and a node of the plan: beyond 4 x 4 cells
# (about 20 km², 7 % of the city) the walk by id is cheaper.
MAX_PAGE_CELLS = 64
MAX_PAGE_CELLS_POSTGRESQL = 16


@dataclass(frozen=True)
class ReportFilters:
    kind: str | None = None
    category: str | None = None
    status: str | None = None
    department: str | None = None
    district: str | None = None

    def shape(self) -> tuple[bool, ...]:
        return (bool(self.kind), bool(self.category), bool(self.status), bool(self.department), bool(self.district))

    def params(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if value}




def _filtered(stmt, reports, filters: tuple[bool, ...]):
    for name, present in zip(("kind", "category", "status", "department", "district"), filters):
        if present:
            stmt = stmt.where(reports.c[name] == bindparam(name))
    return stmt


def _box_arm(cell: int | None, filters: tuple[bool, ...], after: bool, in_box: bool = True):
    reports = Report.__table__
    stmt = select(reports.c.id)
    if cell is not None:
        stmt = stmt.where(reports.c.page_cell == bindparam(f"cell{cell}"))
    stmt = stmt.where(reports.c.is_public == true())
    if in_box:
        stmt = stmt.where(
            reports.c.lat.between(bindparam("min_lat"), bindparam("max_lat")),
            reports.c.lon.between(bindparam("min_lon"), bindparam("max_lon")),
        )
    stmt = _filtered(stmt, reports, filters)
    if after:
        stmt = stmt.where(reports.c.id < bindparam("after"))
    return stmt


def _box_statement(cells: int, limit: int, filters: tuple[bool, ...], after: bool, keyed_arms: bool, whole_city: bool = False):
    """Newest first in a box: the page-grid cells' newest ids, merged.

    One arm per cell walks the (page_cell, is_public, id, lat, lon) index backwards, checking
    the point in the index itself. The arms form one compound SELECT ordered by id with the
    page's LIMIT: both databases merge the already ordered arms (SQLite's "MERGE (UNION ALL)",
    PostgreSQL's Merge Append) and stop once the page is full, so a page costs about
    limit + cells index steps (plus the points of the cells that lie outside the box)
    however many reports the box holds.

    SQLite takes the ids from the arms and then the page's key rows from the table. On
    PostgreSQL (`keyed_arms`) each arm reads the key rows themselves from that index, which
    INCLUDEs them, and carries its own ORDER BY and LIMIT: without them the planner, which
    takes a cell and a box as independent conditions and expects one row per arm, prefers
    reading every arm whole and sorting (measured: 2.7 ms against 0.12 ms on 1,000,000).
    `cells == 0` is the large-box shape: one walk over all public reports by id; for a box
    that holds the whole city (`whole_city`) without the box's condition, since every report
    lies inside the city (so its plan does not depend on the box either).
    """
    reports = Report.__table__
    keys = [reports.c[name] for name in KEY_COLUMNS]
    page = literal_column(str(int(limit)))
    if cells == 0:
        # One walk: the key rows straight from ix_reports_public_new (PostgreSQL: index only).
        walk = _box_arm(None, filters, after, in_box=not whole_city)
        return walk.with_only_columns(*keys).order_by(reports.c.id.desc()).limit(page)
    if keyed_arms:
        arms = [
            _box_arm(i, filters, after).with_only_columns(*keys).order_by(reports.c.id.desc()).limit(page).subquery(f"cell{i}")
            for i in range(cells)
        ]
        merged = union_all(*(select(*arm.c) for arm in arms)).subquery("box")
        return select(*merged.c).order_by(merged.c.id.desc()).limit(page)
    if cells == 1:
        ids = _box_arm(0, filters, after)
    else:
        ids = union_all(*(_box_arm(i, filters, after) for i in range(cells)))
    ids = ids.order_by(literal_column("id").desc()).limit(page)
    return select(*keys).where(reports.c.id.in_(ids)).order_by(reports.c.id.desc())


BOX_KEYS = PreparedSelect(_box_statement)


def box_page_keys(session: Session, city: CityMap, bounds: Bounds | None, filters: ReportFilters, limit: int, after: int | None,
                  merge_session: Session | None = None) -> list[tuple]:
    """Key rows (KEY_COLUMNS) of public reports in a box (None: the whole city), newest first; up to limit + 1.

    `merge_session` runs the merge of per-cell walks and the whole-city walk where given: on
    PostgreSQL a session on connections that keep generic plans (api.extensions), since those
    plans do not depend on the values and take longer to make than to run. The walk by id of
    a box too large for cells stays on `session`, planned for its values.
    """
    box = city.bounds.clamp(bounds) if bounds is not None else city.bounds
    if box is None:
        return []
    params = {"min_lat": box.min_lat, "max_lat": box.max_lat, "min_lon": box.min_lon, "max_lon": box.max_lon, **filters.params()}
    if after is not None:
        params["after"] = after
    postgresql = session.get_bind().dialect.name == "postgresql"
    cells = page_cells(box) if page_cell_count(box) <= (MAX_PAGE_CELLS_POSTGRESQL if postgresql else MAX_PAGE_CELLS) else []
    for i, cell in enumerate(cells):
        params[f"cell{i}"] = cell
    # Every report lies inside the city: a box around all of it needs no condition at all.
    whole_city = box == city.bounds
    # Plans that do not depend on the box's values: the merge of cells, the whole city.
    generic = bool(cells) or whole_city
    runs_on = merge_session if generic and merge_session is not None else session
    shape = (len(cells), limit + 1, filters.shape(), after is not None, postgresql and bool(cells), whole_city and not cells)
    return BOX_KEYS.rows(runs_on, shape, params)


def queue_statement(filters: ReportFilters):
    """Open public reports, longest waiting first: a department's queue."""
    stmt = select(Report).where(Report.is_open.is_(True))
    for name, value in filters.params().items():
        stmt = stmt.where(getattr(Report, name) == value)
    return stmt


def nearby(session: Session, policy: ReportPolicy, lat: float, lon: float, category: str, limit: int = 10) -> list[tuple[Report, float]]:
    """Open public reports of a category close by and recent: candidates for "me too".

    A square around the point is looked up in the spatial index (R*Tree on SQLite, GiST on
    PostGIS); the exact distance then decides.
    """
    category_row = session.get(Category, category)
    if category_row is None or category_row.kind not in REPORT_KINDS:
        raise Invalid("category", "unknown_category")
    radius = category_row.nearby_radius_m or 50
    dlat, dlon = degrees_around(lat, radius)
    since = utcnow() - policy.nearby_window
    ids = _ids_in_square(session, lat - dlat, lat + dlat, lon - dlon, lon + dlon)
    if not ids:
        return []
    candidates = session.scalars(
        select(Report).where(
            Report.id.in_(ids), Report.is_open.is_(True), Report.category == category, Report.created_at >= since
        )
    ).all()
    found = [(r, distance_m(lat, lon, r.lat, r.lon)) for r in candidates]
    found = [(r, d) for r, d in found if d <= radius]
    found.sort(key=lambda item: (item[1], -item[0].id))
    return found[:limit]


# The PostGIS point, computed by PostgreSQL from lat/lon (migration 0008); not an ORM column,
# because SQLite has no such type (its R*Tree is a table of its own).
_REPORT_POINTS = table("reports", column("id", Integer), column("geom", Geometry("POINT", srid=4326)))
_RTREE = table(
    "reports_rtree", column("id", Integer), column("min_lat", Float), column("max_lat", Float),
    column("min_lon", Float), column("max_lon", Float),
)
SQUARE_LIMIT = 5000


def _ids_in_square(session: Session, min_lat: float, max_lat: float, min_lon: float, max_lon: float) -> list[int]:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        envelope = geofunc.ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, 4326)
        stmt = select(_REPORT_POINTS.c.id).where(_REPORT_POINTS.c.geom.intersects(envelope))
    elif dialect == "sqlite":
        rtree = _RTREE.c
        stmt = select(rtree.id).where(rtree.min_lat <= max_lat, rtree.max_lat >= min_lat, rtree.min_lon <= max_lon, rtree.max_lon >= min_lon)
    else:  # pragma: no cover - the two databases this service runs on
        stmt = select(Report.id).where(Report.lat.between(min_lat, max_lat), Report.lon.between(min_lon, max_lon))
    return list(session.scalars(stmt.limit(SQUARE_LIMIT)))


@dataclass
class Cluster:
    lat: float
    lon: float
    count: int
    report_id: int | None


def clusters(session: Session, city: CityMap, bounds: Bounds | None, zoom: int, filters: ReportFilters, max_cells: int = 4096) -> tuple[int, list[Cluster]]:
    """Per-cell counts of public reports in a box at a zoom level (the nearest kept one,
    coarsened until the box spans at most `max_cells` cells). Returns (zoom used, clusters)."""
    box = city.bounds.clamp(bounds) if bounds is not None else city.bounds
    zoom = min(max(zoom, CLUSTER_ZOOMS[0]), CLUSTER_ZOOMS[-1])
    if box is None:
        return zoom, []
    x0, x1, y0, y1 = cluster_cell_range(box, zoom)
    while zoom > CLUSTER_ZOOMS[0] and (x1 - x0 + 1) * (y1 - y0 + 1) > max_cells:
        zoom -= 1
        x0, x1, y0, y1 = cluster_cell_range(box, zoom)
    if filters.category:
        category_key = filters.category
        if filters.kind:
            row = session.get(Category, filters.category)
            if row is None or row.kind != filters.kind:
                return zoom, []
    elif filters.kind:
        category_key = f"kind:{filters.kind}"
    else:
        category_key = "*"
    params = {"zoom": zoom, "category_key": category_key, "status_key": filters.status or "*", "x0": x0, "x1": x1, "y0": y0, "y1": y1}
    found = []
    for count, id_sum, lat_sum, lon_sum in CLUSTER_CELLS.rows(session, (), params):
        found.append(Cluster(lat_sum / count, lon_sum / count, count, id_sum if count == 1 else None))
    return zoom, found


CLUSTER_CELLS = PreparedSelect(
    lambda: select(ReportMapCell.count, ReportMapCell.id_sum, ReportMapCell.lat_sum, ReportMapCell.lon_sum).where(
        ReportMapCell.zoom == bindparam("zoom"),
        ReportMapCell.category_key == bindparam("category_key"),
        ReportMapCell.status_key == bindparam("status_key"),
        ReportMapCell.x.between(bindparam("x0"), bindparam("x1")),
        ReportMapCell.y.between(bindparam("y0"), bindparam("y1")),
        ReportMapCell.count > 0,
    )
)


def viewer_relations(session: Session, viewer, report_ids: list[int]) -> tuple[set[int], set[int]]:
    """Which of these reports the viewer follows and confirmed: two small queries for a page."""
    if viewer is None or not report_ids:
        return set(), set()
    following = set(
        session.scalars(select(ReportFollow.report_id).where(ReportFollow.user_id == viewer.id, ReportFollow.report_id.in_(report_ids)))
    )
    confirmed = set(
        session.scalars(
            select(ReportConfirmation.report_id).where(ReportConfirmation.user_id == viewer.id, ReportConfirmation.report_id.in_(report_ids))
        )
    )
    return following, confirmed


def photo_by_key(session: Session, key: str) -> tuple[ReportPhoto, bool] | None:
    """The photo a storage key belongs to, and whether the key is its thumbnail."""
    photo = session.scalar(select(ReportPhoto).where(or_(ReportPhoto.image_key == key, ReportPhoto.thumbnail_key == key)))
    if photo is None:
        return None
    return photo, photo.thumbnail_key == key


def photo_visible_to(photo: ReportPhoto, viewer) -> bool:
    if photo.report is None:
        return viewer is not None and viewer.id == photo.owner_id
    return photo.report.can_view(viewer)
