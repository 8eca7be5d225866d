"""Report answers: single reports, map pages from per-report fragments (api.fragments), GeoJSON.

The map page is the busiest answer of the report service. Its key query (models.reports.
box_page_keys) reads only what a rendering depends on; each report's rendering is cached per
worker under that row, and only the viewer's own fields are added per request.
"""
from __future__ import annotations

import orjson
from sqlalchemy import select

from api import presenters
from api.extensions import db
from api.fragments import FragmentCache
from api.pagination import decode_cursor, encode_cursor
from api.security import current_user
from models import reports as domain
from models.geography import Bounds, CityMap
from models.reports import Report, ReportFilters


def present_one(report: Report) -> dict:
    return present_many([report])[0]


def present_many(reports: list[Report]) -> list[dict]:
    viewer = current_user()
    following, confirmed = domain.viewer_relations(db.session, viewer, [r.id for r in reports])
    return [presenters.report(r, viewer, r.id in following, r.id in confirmed) for r in reports]


def _render(keys_by_id: dict[int, tuple]) -> dict[int, tuple[bytes, bytes, dict]]:
    """(JSON without its closing brace and viewer fields, moderation JSON, GeoJSON properties) per report."""
    rendered = {}
    for report in db.session.scalars(select(Report).where(Report.id.in_(list(keys_by_id)))):
        fields = presenters.report_fields(report, show_moderation=True)
        moderation = orjson.dumps(fields.pop("moderation"))
        properties = {
            "kind": report.kind,
            "category": report.category,
            "status": report.status,
            "district": report.district,
            "confirmations": report.confirmation_count,
            "feedback": fields["feedback"],
            "thumbnail_url": fields["photos"][0]["thumbnail_url"] if fields["photos"] else None,
            "created_at": fields["created_at"],
            "updated_at": fields["updated_at"],
        }
        rendered[report.id] = (orjson.dumps(fields)[:-1], moderation, (report.lon, report.lat, properties))
    return rendered


FRAGMENTS = FragmentCache(_render)
CURSOR_KIND = "reports-new"


def _page(city: CityMap, bounds: Bounds | None, filters: ReportFilters, limit: int, cursor: str | None):
    after = decode_cursor(CURSOR_KIND, cursor, [Report.__table__.c.id])[0] if cursor else None
    rows = domain.box_page_keys(db.session, city, bounds, filters, limit, after, merge_session=db.generic_plan_session())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(CURSOR_KIND, [rows[-1][0]])
    return rows, FRAGMENTS.parts({row[0]: tuple(row) for row in rows}), next_cursor


def report_page(viewer, city: CityMap, bounds: Bounds | None, filters: ReportFilters, limit: int, cursor: str | None) -> bytes:
    rows, fragments, next_cursor = _page(city, bounds, filters, limit, cursor)
    ids = [row[0] for row in rows]
    following, confirmed = domain.viewer_relations(db.session, viewer, ids)
    reporters = {row[0]: row[2] for row in rows}
    true, false, null = b"true", b"false", b"null"
    items = []
    for report_id in ids:
        prefix, moderation, _geo = fragments[report_id]
        reporter = reporters.get(report_id)
        items.append(
            b"".join(
                (
                    prefix,
                    b',"moderation":',
                    moderation if presenters.may_see_moderation(viewer, reporter) else null,
                    b',"following":',
                    true if report_id in following else false,
                    b',"confirmed_by_me":',
                    true if report_id in confirmed else false,
                    b',"reported_by_me":',
                    true if viewer is not None and reporter == viewer.id else false,
                    b"}",
                )
            )
        )
    return b'{"items":[' + b",".join(items) + b'],"next_cursor":' + orjson.dumps(next_cursor) + b"}"


def geojson_page(city: CityMap, bounds: Bounds | None, filters: ReportFilters, limit: int, cursor: str | None) -> dict:
    rows, fragments, next_cursor = _page(city, bounds, filters, limit, cursor)
    features = []
    for row in rows:
        lon, lat, properties = fragments[row[0]][2]
        features.append({"type": "Feature", "id": row[0], "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties})
    return {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}

