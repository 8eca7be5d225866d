"""Report statistics in-process: the answer computed from the kept counts (no worker cache), and the recount.

    DATABASE_URL=sqlite:////tmp/m.db .venv/bin/python bench/stats.py             # answers only
    DATABASE_URL=sqlite:////tmp/m.db .venv/bin/python bench/stats.py --rebuild   # and rebuild_report_stats (rolled back)

Against a database seeded with `flask --app wsgi demo seed --reports N`. Prints a Markdown table
of the best and median of `--runs` runs: `report_summary` (what a request computes when the
worker has no copy: four statements over `report_stats` / `report_resolve_times`), the same
through the test client with `STATS_CACHE_SECONDS=0` (the whole request, JSON and headers),
and through the test client with a kept copy (what `make bench`'s wrk rows mostly measure).
`--rebuild` times `rebuild_report_stats` once, in a transaction that is rolled back.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from scenarios import STATS_FROM, STATS_TO


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm-up: statement compilation, page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000, statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from api import create_app
    from api.extensions import db
    from models import report_stats
    from models.reports import Report

    url = os.environ["DATABASE_URL"]
    app = create_app({"APP_ENV": "development", "DATABASE_URL": url, "REQUEST_LOG": False, "STATS_CACHE_SECONDS": 0})
    client = app.test_client()
    whole = f"/api/v1/stats/reports?from={STATS_FROM}&to={STATS_TO}"
    rows = []
    with app.app_context():
        session = db.session
        reports = session.scalar(select(func.count()).select_from(Report))
        kept = (
            session.scalar(select(func.count()).select_from(report_stats.ReportStats)),
            session.scalar(select(func.count()).select_from(report_stats.ReportResolveTime)),
        )
        for label, query in (
            (f"report_summary, whole city {STATS_FROM} … {STATS_TO}", report_stats.StatsQuery(STATS_FROM, STATS_TO)),
            ("report_summary, one district, litter, two years", report_stats.StatsQuery(STATS_FROM, STATS_TO, "hoerde", "litter")),
            ("report_summary, whole city, ten years", report_stats.StatsQuery(report_stats.shift_month(STATS_TO, -119), STATS_TO)),
        ):
            rows.append((label, *timed(lambda q=query: report_stats.report_summary(session, q), args.runs)))
        session.rollback()

    def get(path):
        response = client.get(path)
        assert response.status_code == 200, response.data

    rows.append(("GET whole city two years, test client, computed every time", *timed(lambda: get(whole), args.runs)))
    app.config["STATS_CACHE_SECONDS"] = 60
    rows.append(("GET whole city two years, test client, the worker's copy", *timed(lambda: get(whole), args.runs)))

    rebuild = None
    if args.rebuild:
        with app.app_context():
            started = time.perf_counter()
            report_stats.rebuild_report_stats(db.session)
            db.session.flush()
            rebuild = time.perf_counter() - started
            db.session.rollback()

    dialect = url.split(":", 1)[0]
    print(f"{dialect}: {reports:,} reports; kept rows: {kept[0]:,} report_stats, {kept[1]:,} report_resolve_times\n")
    print("| in-process | best ms | median ms |")
    print("|---|---:|---:|")
    for label, best, median in rows:
        print(f"| {label} | {best:.2f} | {median:.2f} |")
    if rebuild is not None:
        print(f"\nrebuild_report_stats: {rebuild:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
