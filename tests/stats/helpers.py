"""Helpers of the statistics tests: file and move reports over HTTP, read the answer and the tables.

`from tests.stats.helpers import STATS, stats, file_at, advance, moderate, kept_tables, recounted_tables`
"""
from __future__ import annotations

from sqlalchemy import select

from tests.reports import helpers as report_helpers
from tests.reports.helpers import LITTER, UNSAFE

API = "/api/v1"
STATS = f"{API}/stats/reports"


def stats(client, **params) -> dict:
    r = client.get(STATS, query_string={k: v for k, v in params.items() if v is not None})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def file_at(client, clock, user, when: str | None, point, kind: str = "litter", **overrides) -> dict:
    """File a report at `point` at the moment `when` (ISO 8601; None: the clock as it is)."""
    if when is not None:
        clock.set(when)
    base = UNSAFE if kind == "unsafe_place" else LITTER
    return report_helpers.file_report(client, user, base=base, lat=point[0], lon=point[1], **overrides)


def update(client, staff, report_id, status, **extra):
    return client.post(f"{API}/reports/{report_id}/updates", json={"status": status, "note": "Stand der Dinge.", **extra}, headers=staff.headers)


def advance(client, staff, report_id, status, **extra) -> dict:
    r = update(client, staff, report_id, status, **extra)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def moderate(client, moderator, report_id, action):
    reason_code = "ok" if action in ("approve", "restore") else "spam"
    r = client.post(
        f"{API}/moderation/decisions",
        json={"target_type": "report", "target_id": report_id, "action": action, "reason_code": reason_code},
        headers=moderator.headers,
    )
    assert r.status_code == 201, r.get_json()


def feedback(client, reporter, report_id, helped: bool):
    r = client.post(f"{API}/reports/{report_id}/feedback", json={"helped": helped}, headers=reporter.headers)
    assert r.status_code == 201, r.get_json()


def reopen(client, reporter, report_id):
    r = client.post(f"{API}/reports/{report_id}/reopen", json={}, headers=reporter.headers)
    assert r.status_code == 200, r.get_json()


def month_counts(answer: dict) -> dict[str, int]:
    return {row["month"]: row["count"] for row in answer["by_month"] if row["count"]}


def category_counts(answer: dict) -> dict[str, int]:
    return {row["category"]: row["count"] for row in answer["by_category"] if row["count"]}


def district_counts(answer: dict) -> dict[str, int]:
    return {row["district"]: row["count"] for row in answer["by_district"] if row["count"]}


# ---------------------------------------------------------------------------------------
# The tables: as kept, as rebuilt in SQL, as recounted in Python from the reports
# ---------------------------------------------------------------------------------------


def _table_rows(session) -> tuple[dict, dict]:
    from models.report_stats import (
        STATS_KEY,
        STATS_SUMMED,
        TIMES_KEY,
        TIMES_SUMMED,
        ReportResolveTime,
        ReportStats,
    )

    session.expire_all()
    tables = []
    for model, key, summed in ((ReportStats, STATS_KEY, STATS_SUMMED), (ReportResolveTime, TIMES_KEY, TIMES_SUMMED)):
        rows = {}
        for row in session.scalars(select(model)):
            values = tuple(getattr(row, name) for name in summed)
            assert all(v >= 0 for v in values), (key, values)
            if any(values):  # a row emptied by the kept deltas is harmless
                rows[tuple(getattr(row, name) for name in key)] = values
        tables.append(rows)
    return tables[0], tables[1]


def kept_tables(session) -> tuple[dict, dict]:
    session.rollback()
    return _table_rows(session)


def rebuilt_tables(session) -> tuple[dict, dict]:
    """What rebuild_report_stats counts, in a transaction that is then rolled back."""
    from models.report_stats import rebuild_report_stats

    session.rollback()
    rebuild_report_stats(session)
    session.flush()
    tables = _table_rows(session)
    session.rollback()
    return tables


def recounted_tables(session) -> tuple[dict, dict]:
    """The statistics counted in Python from every report (models.report_stats.stats_entry)."""
    from models.report_stats import stats_entry
    from models.reports import Report

    session.rollback()
    session.expire_all()
    counts: dict[tuple, list[int]] = {}
    times: dict[tuple, int] = {}
    for report in session.scalars(select(Report)):
        entry = stats_entry(report)
        if entry is None:
            continue
        row = counts.setdefault((entry.month, entry.district, entry.category, entry.kind), [0, 0, 0, 0])
        for i, value in enumerate((1, int(entry.resolved), entry.helped, entry.not_helped)):
            row[i] += value
        if entry.bucket is not None:
            key = (entry.month, entry.district, entry.kind, entry.bucket)
            times[key] = times.get(key, 0) + 1
    session.rollback()
    return {k: tuple(v) for k, v in counts.items()}, {k: (n,) for k, n in times.items()}
