"""Public statistics on reports (`GET /stats/reports`), answered from counts kept on every write.

Two small tables, changed in the same transaction as the report (`models.reports.report_changed`,
the one place that also moves the map counts):

- `report_stats`: per month (of `created_at` in Europe/Berlin, as people reckon months),
  district, category and kind: how many reports were filed, how many of them are resolved
  now, and the answers to "did it help?" on them.
- `report_resolve_times`: how long the resolved ones took, as a histogram per month,
  district and kind. Buckets are whole hours below 48 h and whole days beyond (a bucket is
  named by its lower bound in hours: 0 … 47, 48, 72, 96 …), so the median is exact to the
  hour under two days and to the day beyond. Categories are left out of this key: no query
  filters by category, and without them a city-wide two-year median reads about 4× fewer
  rows (19,000 instead of some 76,000 for the demo's million reports).

What counts: public reports (`Report.is_public`) that are not `duplicate` (the same problem
reported twice). A report that leaves public view (hidden by moderation) or becomes a
duplicate leaves the statistics, its feedback with it.

A city-wide answer over two years reads some 4,000 + 19,000 rows (the demo's million reports)
however many reports there are: about 7 ms on either database, and a worker keeps the answer
for a while (api.cache). `rebuild_report_stats` recounts everything from the reports after a
bulk load (a million: 3–4 s on SQLite, under 2 s on PostgreSQL; bench/REPORTS.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Integer,
    String,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, add_counts, utcnow
from .errors import Invalid
from .reference import CATEGORIES, DISTRICTS

BERLIN = ZoneInfo("Europe/Berlin")
STATS_KINDS = ("litter", "unsafe_place")
# Whole hours below this, whole days from it on.
HOURLY_BELOW = 48 * 3600
MAX_MONTHS = 120  # a range of at most ten years


class ReportStats(Base):
    """Reports per Berlin month, district, category and kind (see the module docstring)."""

    __tablename__ = "report_stats"
    # SQLite: the rows live in the primary key's B-tree, so a range of months is one ordered
    # walk instead of an index walk plus a table lookup per row (the answer's four statements
    # on a million demo reports: 5.7 ms instead of 9.6).
    __table_args__ = ({"sqlite_with_rowid": False},)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    district: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    filed: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    helped: Mapped[int] = mapped_column(Integer, default=0)
    not_helped: Mapped[int] = mapped_column(Integer, default=0)


class ReportResolveTime(Base):
    """Resolved reports per Berlin month (of filing), district, kind and time-to-resolve bucket."""

    __tablename__ = "report_resolve_times"
    __table_args__ = ({"sqlite_with_rowid": False},)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    district: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)  # lower bound in hours
    count: Mapped[int] = mapped_column(Integer, default=0)


STATS_KEY = ("month", "district", "category", "kind")
STATS_SUMMED = ("filed", "resolved", "helped", "not_helped")
TIMES_KEY = ("month", "district", "kind", "bucket")
TIMES_SUMMED = ("count",)


# ---------------------------------------------------------------------------------------
# Months and buckets, the same in Python (kept counts) and in SQL (rebuild)
# ---------------------------------------------------------------------------------------


def berlin_month(moment: datetime) -> str:
    local = moment.astimezone(BERLIN)
    return f"{local.year:04d}-{local.month:02d}"


def resolve_bucket(created_at: datetime, resolved_at: datetime) -> int:
    """Whole seconds apart (as both databases count them) → the bucket's lower bound in hours."""
    elapsed = math.floor(resolved_at.timestamp()) - math.floor(created_at.timestamp())
    if elapsed < 0:
        return 0
    if elapsed < HOURLY_BELOW:
        return elapsed // 3600
    return elapsed // 86400 * 24


def _month_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "to_char(timezone('Europe/Berlin', reports.created_at), 'YYYY-MM')"
    # SQLite has no time zones. Berlin is 1 h (CET) or 2 h (CEST) ahead of UTC, and the clocks
    # change on the last Sundays of March and October at 01:00 UTC, never within two hours of
    # a month's end: shifting an instant by the offset that holds at the end of its UTC month
    # (+2 h at the ends of March … September, +1 h otherwise) gives its Berlin month.
    # tests/stats/test_months.py holds this to zoneinfo around every month end and clock
    # change from 2000 to 2060. Times are cut to whole seconds first: SQLite rounds fractions
    # to milliseconds, which could carry 23:59:59.9996 into the next month.
    return (
        "strftime('%Y-%m', substr(reports.created_at, 1, 19), CASE WHEN substr(reports.created_at, 6, 2) BETWEEN '03' AND '09'"
        " THEN '+2 hours' ELSE '+1 hours' END)"
    )


def _bucket_sql(dialect: str) -> str:
    if dialect == "postgresql":
        elapsed = (
            "(CAST(floor(extract(epoch FROM reports.resolved_at)) AS BIGINT)"
            " - CAST(floor(extract(epoch FROM reports.created_at)) AS BIGINT))"
        )
    else:
        # Whole seconds cut off as Python's floor does (SQLite would round fractions to ms).
        elapsed = "(CAST(strftime('%s', substr(reports.resolved_at, 1, 19)) AS INTEGER) - CAST(strftime('%s', substr(reports.created_at, 1, 19)) AS INTEGER))"
    # Integer division in both databases (the operands are integers).
    return f"CASE WHEN {elapsed} < 0 THEN 0 WHEN {elapsed} < {HOURLY_BELOW} THEN {elapsed} / 3600 ELSE {elapsed} / 86400 * 24 END"


# ---------------------------------------------------------------------------------------
# Kept on writes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsEntry:
    """What one report adds to the statistics (None where it does not count)."""

    month: str
    district: str
    category: str
    kind: str
    resolved: bool
    bucket: int | None  # resolved ones only
    helped: int
    not_helped: int


def stats_entry(report, public: bool | None = None) -> StatsEntry | None:
    """The report's share of the statistics; `public` overrides `report.is_public` (the state before a moderation decision)."""
    if not (report.is_public if public is None else public) or report.status == "duplicate":
        return None
    resolved = report.status == "resolved"
    bucket = resolve_bucket(report.created_at, report.resolved_at) if resolved and report.resolved_at is not None else None
    return StatsEntry(
        berlin_month(report.created_at), report.district, report.category, report.kind, resolved, bucket,
        report.helped_count or 0, report.not_helped_count or 0,
    )


def _rows(entry: StatsEntry, sign: int) -> tuple[dict, dict | None]:
    counts = {
        "month": entry.month, "district": entry.district, "category": entry.category, "kind": entry.kind,
        "filed": sign, "resolved": sign * entry.resolved, "helped": sign * entry.helped, "not_helped": sign * entry.not_helped,
    }
    if entry.bucket is None:
        return counts, None
    return counts, {"month": entry.month, "district": entry.district, "kind": entry.kind, "bucket": entry.bucket, "count": sign}


def move_in_stats(session: Session, before: StatsEntry | None, after: StatsEntry | None) -> None:
    """Take a report's old share out of the counts and put its new one in (one upsert per table)."""
    if before == after:
        return
    counts, times = [], []
    for entry, sign in ((before, -1), (after, +1)):
        if entry is not None:
            row, time_row = _rows(entry, sign)
            counts.append(row)
            if time_row is not None:
                times.append(time_row)
    add_counts(session, ReportStats.__table__, STATS_KEY, STATS_SUMMED, counts)
    add_counts(session, ReportResolveTime.__table__, TIMES_KEY, TIMES_SUMMED, times)


def rebuild_report_stats(session: Session) -> None:
    """Recount both tables from the reports (after a bulk load; otherwise they are kept on writes).

    Two INSERT … SELECT … GROUP BY statements: the database does the counting, no report
    row comes to Python.
    """
    # Here, not at the top: models.reports imports this module (for its deltas) as it loads.
    from .reports import Report

    dialect = session.get_bind().dialect.name
    reports = Report.__table__
    month = literal_column(_month_sql(dialect))
    bucket = literal_column(_bucket_sql(dialect))
    counted = (reports.c.is_public.is_(True), reports.c.status != "duplicate")
    session.execute(delete(ReportStats))
    session.execute(delete(ReportResolveTime))
    per_key = (
        select(
            month.label("month"), reports.c.district, reports.c.category, reports.c.kind,
            func.count().label("filed"),
            func.sum(case((reports.c.status == "resolved", 1), else_=0)).label("resolved"),
            func.sum(reports.c.helped_count).label("helped"),
            func.sum(reports.c.not_helped_count).label("not_helped"),
        )
        .where(*counted)
        .group_by(month, reports.c.district, reports.c.category, reports.c.kind)
    )
    session.execute(insert(ReportStats).from_select(list(STATS_KEY + STATS_SUMMED), per_key))
    resolved = (
        select(month.label("month"), reports.c.district, reports.c.kind, bucket.label("bucket"))
        .where(*counted, reports.c.status == "resolved", reports.c.resolved_at.is_not(None))
        .subquery("resolved")
    )
    per_bucket = select(resolved.c.month, resolved.c.district, resolved.c.kind, resolved.c.bucket, func.count().label("count")).group_by(
        resolved.c.month, resolved.c.district, resolved.c.kind, resolved.c.bucket
    )
    session.execute(insert(ReportResolveTime).from_select(list(TIMES_KEY + TIMES_SUMMED), per_bucket))


# ---------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------


def month_index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shift_month(month: str, months: int) -> str:
    return month_name(month_index(month) + months)


@dataclass(frozen=True)
class StatsQuery:
    """A normalised question: inclusive months, optional district and kind (the cache key, too)."""

    first: str
    last: str
    district: str | None = None
    kind: str | None = None

    @classmethod
    def of(cls, first: str | None, last: str | None, district: str | None = None, kind: str | None = None, now: datetime | None = None) -> StatsQuery:
        """Missing `last`: the current month in Berlin; missing `first`: twelve months up to `last`."""
        last = last or berlin_month(now or utcnow())
        first = first or shift_month(last, -11)
        if first > last:
            raise Invalid("from", "stats_range_reversed")
        if month_index(last) - month_index(first) + 1 > MAX_MONTHS:
            raise Invalid("from", "stats_range_too_long", max=MAX_MONTHS // 12)
        return cls(first, last, district, kind)

    def months(self) -> list[str]:
        return [month_name(i) for i in range(month_index(self.first), month_index(self.last) + 1)]


def _filtered(stmt, model, query: StatsQuery, kind: bool = True):
    if query.district is not None:
        stmt = stmt.where(model.district == query.district)
    if kind and query.kind is not None:
        stmt = stmt.where(model.kind == query.kind)
    return stmt


def _median(histogram: list[tuple[int, int]]) -> float | None:
    """The median of the bucketed times, from (bucket, count) in bucket order."""
    total = sum(count for _bucket, count in histogram)
    if total == 0:
        return None
    # 0-based ranks of the middle one (odd) or the middle two (even).
    wanted = sorted({(total - 1) // 2, total // 2})
    found, seen = [], 0
    for bucket, count in histogram:
        while wanted and wanted[0] < seen + count:
            found.append(bucket)
            wanted.pop(0)
        seen += count
    return sum(found) / len(found)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def report_summary(session: Session, query: StatsQuery) -> dict:
    """The answer of `GET /stats/reports` (see api.stats.schemas for its fields)."""
    s = ReportStats
    months = query.months()
    year_before = (shift_month(query.first, -12), shift_month(query.last, -12))
    # Per month and kind, over the range and the year before it (the litter trend ignores
    # the kind filter: it is always about litter).
    per_month = session.execute(
        _filtered(
            select(s.month, s.kind, func.sum(s.filed), func.sum(s.resolved), func.sum(s.helped), func.sum(s.not_helped))
            .where(s.month.between(year_before[0], query.last))
            .group_by(s.month, s.kind),
            s, query, kind=False,
        )
    ).all()
    in_range = [(m, k, int(f), int(r), int(h), int(n)) for m, k, f, r, h, n in per_month if query.first <= m <= query.last and k in STATS_KINDS]
    counted = [row for row in in_range if query.kind in (None, row[1])]
    by_month = {m: dict.fromkeys(STATS_KINDS, 0) for m in months}
    for m, k, filed, *_rest in counted:
        by_month[m][k] += filed
    litter_now = sum(f for m, k, f, *_ in in_range if k == "litter")
    litter_before = sum(int(f) for m, k, f, *_ in per_month if k == "litter" and year_before[0] <= m <= year_before[1])

    per_category = {
        (category, kind): int(n)
        for category, kind, n in session.execute(
            _filtered(
                select(s.category, s.kind, func.sum(s.filed)).where(s.month.between(query.first, query.last)).group_by(s.category, s.kind),
                s, query,
            )
        )
    }
    categories = [(code, kind) for code, kind, *_ in CATEGORIES if kind in STATS_KINDS and query.kind in (None, kind)]
    categories += sorted(key for key in per_category if key not in set(categories))
    per_district = {
        district: int(n)
        for district, n in session.execute(
            _filtered(select(s.district, func.sum(s.filed)).where(s.month.between(query.first, query.last)).group_by(s.district), s, query)
        )
    }
    districts = [slug for slug, _ in DISTRICTS] if query.district is None else [query.district]
    districts += sorted(d for d in per_district if d not in set(districts))

    t = ReportResolveTime
    histogram = session.execute(
        _filtered(
            select(t.bucket, func.sum(t.count)).where(t.month.between(query.first, query.last)).group_by(t.bucket).order_by(t.bucket),
            t, query,
        )
    ).all()
    helped = sum(row[4] for row in counted)
    answers = helped + sum(row[5] for row in counted)
    return {
        "from": query.first,
        "to": query.last,
        "district": query.district,
        "kind": query.kind,
        "total": sum(row[2] for row in counted),
        "by_category": [{"category": code, "kind": kind, "count": per_category.get((code, kind), 0)} for code, kind in categories],
        "by_district": [{"district": d, "count": per_district.get(d, 0)} for d in districts],
        "by_month": [{"month": m, "count": sum(c.values()), **c} for m, c in by_month.items()],
        "resolved": sum(row[3] for row in counted),
        "median_hours_to_resolve": _median([(int(b), int(c)) for b, c in histogram]),
        "feedback": {"answers": answers, "helped": helped, "share_helped": _share(helped, answers)},
        "litter_trend": {
            "count": litter_now,
            "year_before": litter_before,
            "change": round((litter_now - litter_before) / litter_before, 4) if litter_before else None,
        },
    }


__all__ = [
    "BERLIN", "ReportResolveTime", "ReportStats", "StatsEntry", "StatsQuery", "berlin_month", "move_in_stats",
    "rebuild_report_stats", "report_summary", "resolve_bucket", "stats_entry",
]
