"""Public statistics on reports: counts, time to resolve, "did it help?", the litter trend."""
from __future__ import annotations

from flask import current_app

from api.cache import cached_json
from api.extensions import db
from api.parsing import Blueprint
from api.security import public
from models import report_stats as domain

from . import messages  # noqa: F401  (registers the texts)
from .schemas import ReportStatsArgs, ReportStatsSchema

blp = Blueprint("stats", __name__, description="Statistics on reports (Dreckpetze, Angsträume)")

CACHE_HEADERS = {
    "ETag": {"description": "Strong, from the body: send it back as If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": "public, max-age=STATS_MAX_AGE (default 300)", "schema": {"type": "string"}},
}


@blp.route("/stats/reports")
@public
@blp.arguments(ReportStatsArgs(), location="query")
@blp.response(200, ReportStatsSchema, headers=CACHE_HEADERS)
@blp.alt_response(304, description="Not modified (If-None-Match with the answer's ETag)", headers=CACHE_HEADERS)
def report_stats(args):
    """Public reports (not duplicates) filed per month (Europe/Berlin), category and district; how many are resolved
    and how fast (median); the share of "it helped"; litter against the same months a year earlier.

    Answered from counts kept on every write. An answer may be up to `STATS_CACHE_SECONDS`
    (default 60) old; it carries a strong `ETag` and `Cache-Control: public, max-age=STATS_MAX_AGE` (default 300).
    """
    query = domain.StatsQuery.of(args["first"], args["last"], args["district"], args["kind"])
    config = current_app.config
    return cached_json(
        ("stats/reports", query),
        lambda: domain.report_summary(db.session, query),
        ttl=config["STATS_CACHE_SECONDS"],
        max_age=config["STATS_MAX_AGE"],
    )
