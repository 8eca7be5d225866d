"""Reports for city staff: the open ones by department and waiting time, one report with its
photos, timeline and place, status updates and duplicates — through the same operations as
`POST /reports/{id}/updates`."""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, url_for
from sqlalchemy import select

from api.extensions import db
from api.presenters import photo_url
from api.reports.routes import report_policy
from api.transactions import writes
from models import reports as domain
from models.errors import DomainError
from models.reference import Category, Department, District
from models.reports import STAFF_TRANSITIONS, Report, ReportFilters

from ..texts import lang, t
from . import blp, page
from .moderation import _waited

PAGE_SIZE = 50
STATUS_ORDER = ("open", "acknowledged", "in_progress", "resolved", "duplicate", "rejected")


def _departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.position)))


def _names(lang: str) -> dict[str, dict[str, str]]:
    """Category, district and department names for the page (reports store their codes)."""
    return {
        "category": {c.code: c.name(lang) for c in db.session.scalars(select(Category))},
        "district": {d.slug: d.name for d in db.session.scalars(select(District))},
        "department": {d.code: d.name_en if lang == "en" else d.name_de for d in _departments()},
    }


@blp.get("/reports")
@page("staff")
def reports():
    departments = _departments()
    chosen = request.args.get("department")
    if chosen not in {d.code for d in departments}:
        chosen = None
    filters = ReportFilters(department=chosen)
    rows = db.session.scalars(domain.queue_statement(filters).limit(PAGE_SIZE)).all()
    items = [dict(report=r, waited=_waited(r.waiting_since)) for r in rows]
    return render_template("console/reports.html", items=items, departments=departments, department=chosen, names=_names(lang()))


def _outline(city, district_slug: str, lat: float, lon: float) -> dict:
    """The district's outline and the report's point as SVG coordinates (no tiles, no script)."""
    geometry = dict(city.districts).get(district_slug)
    polygons = list(getattr(geometry, "geoms", [geometry])) if geometry is not None else []
    min_lon, min_lat, max_lon, max_lat = geometry.bounds if geometry is not None else (lon - .01, lat - .01, lon + .01, lat + .01)
    width, height = 400, 300
    scale = min(width / (max_lon - min_lon), height / (max_lat - min_lat)) * 0.95

    def xy(x, y):
        return round((x - min_lon) * scale + 10, 1), round((max_lat - y) * scale + 10, 1)

    paths = []
    for polygon in polygons:
        points = [xy(x, y) for x, y in polygon.exterior.coords]
        paths.append("M" + " L".join(f"{px},{py}" for px, py in points) + " Z")
    px, py = xy(lon, lat)
    return {"paths": paths, "x": px, "y": py, "width": width + 20, "height": height + 20}


def _detail(report: Report, error: str | None = None, status: int = 200):
    policy = report_policy()
    candidates = [(r, round(d)) for r, d in domain.nearby(db.session, policy, report.lat, report.lon, report.category) if r.id != report.id]
    allowed = [s for s in STATUS_ORDER if s == report.status or s in STAFF_TRANSITIONS.get(report.status, set())]
    photos = [dict(url=photo_url(p.image_key), thumb=photo_url(p.thumbnail_key)) for p in report.photos]
    tiles = current_app.config["CONSOLE_TILE_URL"]
    return render_template(
        "console/report.html", report=report, updates=report.updates, photos=photos, allowed=allowed,
        candidates=candidates, outline=_outline(policy.city, report.district, report.lat, report.lon), tiles=tiles,
        error=error, waited=_waited(report.waiting_since), names=_names(lang()),
    ), status


@blp.get("/reports/<id:report_id>")
@page("staff")
def report(report_id):
    found = domain.get_visible_report(db.session, report_id, g.console_user)
    return _detail(found)


@blp.post("/reports/<id:report_id>/updates")
@page("staff")
@writes
def report_update(report_id):
    found = domain.get_visible_report(db.session, report_id, g.console_user)
    form = request.form
    duplicate_of = form.get("duplicate_of") or None
    try:
        duplicate_of = int(duplicate_of) if duplicate_of else None
        domain.post_update(db.session, g.console_user, found, report_policy(), form.get("status") or "",
                           (form.get("note") or "").strip(), duplicate_of)
    except ValueError:
        return _detail(found, t("invalid_input"), 422)
    except DomainError as error:
        # The same message and status the API gives for this refusal (409 for an illegal transition).
        db.session.rollback()
        found = domain.get_visible_report(db.session, report_id, g.console_user)
        return _detail(found, t(error.message_key, **error.params), error.http_status)
    return redirect(url_for("console.report", report_id=report_id))
