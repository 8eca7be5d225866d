"""The pieces of the statistics without HTTP: Berlin months in Python and in SQLite's SQL,
resolution buckets, the median, the query's defaults and limits."""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from models.errors import Invalid
from models.report_stats import (
    BERLIN,
    StatsQuery,
    _bucket_sql,
    _median,
    _month_sql,
    berlin_month,
    resolve_bucket,
    shift_month,
)


def _clock_changes(year: int) -> list[datetime]:
    """The instants (UTC) Berlin's clocks change in `year`, found from zoneinfo itself."""
    found = []
    moment = datetime(year, 1, 1, tzinfo=UTC)
    offset = moment.astimezone(BERLIN).utcoffset()
    while moment.year == year:
        step = moment + timedelta(hours=1)
        if step.astimezone(BERLIN).utcoffset() != offset:
            found.append(step)
            offset = step.astimezone(BERLIN).utcoffset()
        moment = step
    return found


def _tricky_instants(first_year: int, last_year: int) -> list[datetime]:
    instants = []
    for year in range(first_year, last_year + 1):
        edges = _clock_changes(year)
        for month in range(1, 13):
            # Midnight on the first in Berlin, as UTC.
            edges.append(datetime(year, month, 1, tzinfo=BERLIN).astimezone(UTC))
        for edge in edges:
            for seconds in (-3 * 3600, -7200, -3601, -3600, -3599, -1, 0, 1, 3599, 3600, 7199, 7200, 3 * 3600):
                instants.append(edge + timedelta(seconds=seconds))
    return instants


def _sqlite_rows(expression: str, rows: list[tuple]) -> list:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE reports (n INTEGER, created_at TEXT, resolved_at TEXT)")
    db.executemany("INSERT INTO reports VALUES (?, ?, ?)", rows)
    return [value for _n, value in db.execute(f"SELECT n, {expression} FROM reports ORDER BY n")]


def _stored(moment: datetime) -> str:
    # As SQLAlchemy stores models.base.UTCDateTime on SQLite: naive UTC with microseconds.
    return moment.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_berlin_months_in_python():
    assert berlin_month(datetime(2026, 3, 31, 21, 59, 59, tzinfo=UTC)) == "2026-03"
    assert berlin_month(datetime(2026, 3, 31, 22, 30, tzinfo=UTC)) == "2026-04"
    assert berlin_month(datetime(2026, 10, 31, 22, 59, 59, tzinfo=UTC)) == "2026-10"
    assert berlin_month(datetime(2026, 10, 31, 23, 0, tzinfo=UTC)) == "2026-11"
    assert berlin_month(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == "2027-01"


def test_sqlite_month_rule_agrees_with_zoneinfo_at_every_month_end_and_clock_change():
    instants = _tricky_instants(2000, 2060)
    # Fractions of a second just before midnight must not round into the next month.
    instants += [datetime(2026, 3, 31, 21, 59, 59, 999_900, tzinfo=UTC), datetime(2026, 12, 31, 22, 59, 59, 999_999, tzinfo=UTC)]
    rows = [(n, _stored(moment), None) for n, moment in enumerate(instants)]
    assert _sqlite_rows(_month_sql("sqlite"), rows) == [berlin_month(moment) for moment in instants]


def test_migration_month_rule_is_the_models_rule():
    from importlib import import_module

    migration = import_module("migrations.versions.0010_report_stats")
    instants = _tricky_instants(2024, 2030)
    rows = [(n, _stored(moment), None) for n, moment in enumerate(instants)]
    assert _sqlite_rows(migration.MONTH["sqlite"], rows) == _sqlite_rows(_month_sql("sqlite"), rows)


@pytest.mark.parametrize(
    "took, bucket",
    [
        (timedelta(0), 0),
        (timedelta(seconds=3599), 0),
        (timedelta(hours=1), 1),
        (timedelta(hours=30, minutes=30), 30),
        (timedelta(hours=47, minutes=59, seconds=59), 47),
        (timedelta(hours=48), 48),
        (timedelta(hours=71, minutes=59), 48),
        (timedelta(hours=72), 72),
        (timedelta(days=5, hours=3), 120),
        (timedelta(days=400, seconds=1), 9600),
        (timedelta(seconds=-30), 0),  # a clock that went backwards counts as no time
    ],
)
def test_resolution_buckets_in_python_and_sqlite(took, bucket):
    created = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # across a clock change: real hours count
    assert resolve_bucket(created, created + took) == bucket
    row = (0, _stored(created), _stored(created + took))
    assert _sqlite_rows(_bucket_sql("sqlite"), [row]) == [bucket]


def test_buckets_count_whole_seconds_like_the_databases():
    created = datetime(2026, 5, 1, 10, 0, 0, 999_999, tzinfo=UTC)
    resolved = datetime(2026, 5, 1, 11, 0, 0, 100_000, tzinfo=UTC)  # 59 min 59.1 s, but whole seconds 10:00:00 → 11:00:00
    assert resolve_bucket(created, resolved) == 1
    assert _sqlite_rows(_bucket_sql("sqlite"), [(0, _stored(created), _stored(resolved))]) == [1]


def test_median_of_buckets():
    assert _median([]) is None
    assert _median([(5, 0)]) is None
    assert _median([(30, 1)]) == 30
    assert _median([(30, 1), (120, 1)]) == 75
    assert _median([(1, 2), (2, 1), (96, 1)]) == 1.5
    assert _median([(1, 2), (2, 1), (96, 2)]) == 2
    assert _median([(0, 10), (48, 1)]) == 0


def test_query_defaults_and_limits():
    now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # January 2027 in Berlin
    assert StatsQuery.of(None, None, now=now) == StatsQuery("2026-02", "2027-01")
    assert StatsQuery.of(None, "2026-06", now=now) == StatsQuery("2025-07", "2026-06")
    assert StatsQuery.of("2026-10", None, now=now) == StatsQuery("2026-10", "2027-01")
    assert StatsQuery.of("2026-10", "2026-10", "hoerde", "litter").months() == ["2026-10"]
    assert len(StatsQuery.of("2017-01", "2026-12").months()) == 120
    with pytest.raises(Invalid) as error:
        StatsQuery.of("2016-12", "2026-12")
    assert error.value.field == "from" and error.value.message_key == "stats_range_too_long"
    with pytest.raises(Invalid) as error:
        StatsQuery.of("2026-11", "2026-10")
    assert error.value.field == "from" and error.value.message_key == "stats_range_reversed"
    with pytest.raises(Invalid):
        StatsQuery.of("2027-02", None, now=now)
    assert shift_month("2026-01", -1) == "2025-12" and shift_month("2026-12", 1) == "2027-01" and shift_month("2026-03", -12) == "2025-03"
