"""Cursor pagination: `{items, next_cursor}`, keyset-based so it stays stable under inserts."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from typing import Any, Sequence

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import BigInteger, DateTime, Integer, Select, and_, or_
from sqlalchemy.orm import Session

from .fields import EARLIEST, LATEST, MAX_DB_INT, QueryArgs, Text, WholeNumber

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageArgs(QueryArgs):
    limit = WholeNumber(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = Text(load_default=None, validate=validate.Length(max=500))


def page_schema(item_schema: type[ma.Schema] | ma.Schema, name: str) -> type[ma.Schema]:
    """The list answer for `item_schema`, named for the OpenAPI spec."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.String(allow_none=True),
        },
    )


@dataclass(frozen=True)
class SortKey:
    """One column of a keyset ordering; the last key must be unique (the id)."""

    column: Any
    descending: bool = True

    def order_by(self):
        return self.column.desc() if self.descending else self.column.asc()


class BadCursor(ma.ValidationError):
    def __init__(self):
        super().__init__({"cursor": ["Invalid cursor."]})


def encode_cursor(kind: str, values: Sequence[Any]) -> str:
    raw = json.dumps([kind, [_to_cursor(v) for v in values]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Times travel in cursors as whole microseconds since 1970 (cursors hold integers only),
# within the years the app's times keep to (api.fields): beyond them a value names no row.
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_TIME_RANGE = ((EARLIEST - _EPOCH) // _MICROSECOND, (LATEST - _EPOCH) // _MICROSECOND)


def _is_time(column) -> bool:
    column_type = getattr(column, "type", None)
    return isinstance(column_type, DateTime) or isinstance(getattr(column_type, "impl", None), DateTime)


def _bounds(column) -> tuple[int, int]:
    """The values a column holds: a cursor value beyond them names no row (and PostgreSQL
    would refuse to compare it with an integer column: a 5xx)."""
    column_type = getattr(column, "type", None)
    if _is_time(column):
        return _TIME_RANGE
    if isinstance(column_type, BigInteger):
        return -(2**63) + 1, 2**63 - 1
    if isinstance(column_type, Integer):
        return -MAX_DB_INT, MAX_DB_INT
    raise TypeError(f"keyset cursors handle integer and time columns only, not {column_type!r}")


def _from_cursor(value: int, column):
    return _EPOCH + value * _MICROSECOND if _is_time(column) else value


def _to_cursor(value):
    return (value - _EPOCH) // _MICROSECOND if isinstance(value, datetime) else value


def decode_cursor(kind: str, cursor: str, columns: Sequence[Any]) -> list[Any]:
    """The values of a cursor made by `encode_cursor` for `kind`, checked against `columns`
    (the columns they are compared with, in order)."""
    arity = len(columns)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_kind, values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadCursor() from None
    # A cursor only fits the listing (and sort order) that made it.
    if cursor_kind != kind or not isinstance(values, list) or len(values) != arity:
        raise BadCursor()
    for value, column in zip(values, columns):
        low, high = _bounds(column)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise BadCursor()
    return [_from_cursor(value, column) for value, column in zip(values, columns)]


def _after(keys: Sequence[SortKey], values: Sequence[Any]):
    """Rows strictly after `values` in the ordering, as (a < x) OR (a = x AND b < y) ..."""
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        beyond = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


def keyset_page(
    session: Session,
    stmt: Select,
    keys: Sequence[SortKey],
    kind: str,
    limit: int,
    cursor: str | None,
):
    """Run an ORM query for one page. Returns (objects, next_cursor)."""
    if cursor:
        stmt = stmt.where(_after(keys, decode_cursor(kind, cursor, [k.column for k in keys])))
    stmt = stmt.order_by(*(k.order_by() for k in keys)).limit(limit + 1)
    rows = list(session.scalars(stmt).unique())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(kind, _values(rows[-1], keys))
    return rows, next_cursor


def _values(row, keys: Sequence[SortKey]) -> list:
    return [getattr(row, k.column.key) for k in keys]
