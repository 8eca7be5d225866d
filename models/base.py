"""Declarative base and the column types every model shares."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, String, Text, TypeDecorator, event, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


def utcnow() -> datetime:
    # Whole seconds: the API shows no fractions, and keyset cursors compare what clients saw.
    return datetime.now(timezone.utc).replace(microsecond=0)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database.

    SQLite drops the offset, so values are stored as naive UTC there and get their tzinfo
    back on load; PostgreSQL keeps `timestamptz` and still hands back UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the domain only handles aware UTC times")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class Revisioned:
    """Models with a `revision` column that every ORM update increments.

    Incremented in SQL (`revision = revision + 1`), so two parallel updates never end on the
    same number; caches of a rendering key on it.
    """


@event.listens_for(Revisioned, "before_update", propagate=True)
def _bump_revision(mapper, connection, target) -> None:  # noqa: ARG001
    target.revision = type(target).revision + 1


class ShowsModeration:
    """Content whose author is shown the latest moderation decision (reason and note)."""

    moderation_reason_code: Mapped[str | None] = mapped_column(String(20))
    moderation_note: Mapped[str | None] = mapped_column(Text)
    moderation_decided_at: Mapped[datetime | None]

    def record_moderation(self, reason_code: str, note: str | None, when: datetime) -> None:
        self.moderation_reason_code = reason_code
        self.moderation_note = note
        self.moderation_decided_at = when
        self.updated_at = when


def insert_ignoring_duplicate(session: Session, model, **values) -> bool:
    """INSERT that treats "already there" as success (a relation: support, follow, "me too");
    True when a row was added.

    A savepoint keeps the surrounding transaction usable when a parallel request won the race.
    """
    try:
        with session.begin_nested():
            session.execute(insert(model).values(**values))
        return True
    except IntegrityError:
        return False


def merge_counts(rows, keys: tuple[str, ...], summed: tuple[str, ...]) -> dict[tuple, dict]:
    """Count rows summed per key (the key's values in `keys` order → one row)."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        target = merged.get(key)
        if target is None:
            merged[key] = dict(row)
        else:
            for name in summed:
                target[name] += row[name]
    return merged


def add_counts(session: Session, table, keys: tuple[str, ...], summed: tuple[str, ...], rows, significant: tuple[str, ...] | None = None) -> None:
    """Add delta rows into a table of kept counts: one multi-row upsert (`INSERT … ON CONFLICT
    (keys) DO UPDATE SET c = c + excluded.c`) per 500 rows.

    Rows with the same key are summed first: PostgreSQL refuses to touch one row twice in a
    statement. Keys go in sorted order, so parallel writers lock the rows they share in the
    same order (two reports of one month and district do not deadlock). A merged row whose
    `significant` sums (default: all of `summed`) are zero changes nothing and is left out.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    merged = merge_counts(rows, keys, summed)
    checked = significant or summed
    values = [merged[key] for key in sorted(merged) if any(merged[key][name] != 0 for name in checked)]
    if not values:
        return
    construct = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for start in range(0, len(values), 500):
        stmt = construct(table).values(values[start:start + 500])
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={name: table.c[name] + stmt.excluded[name] for name in summed})
        session.execute(stmt)
