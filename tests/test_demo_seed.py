"""Demo data obeys the rules it demonstrates, on both paths: small seeds through the domain
operations, benchmark-sized ones in bulk."""
from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from api.demo import seed
from models.ideas import Comment, Idea, Support
from models.moderation import QueueEntry

THRESHOLD = 6

# What each demo subject is about, decided here independently of the templates.
SUBJECT_CATEGORY = {
    "Radweg": "mobility",
    "Zebrastreifen": "mobility",
    "Beleuchtung": "mobility",
    "Spielplatz": "play_and_youth",
    "Jugendtreff": "play_and_youth",
    "Bäume": "green_spaces",
    "Trinkbrunnen": "green_spaces",
    "Mülleimer": "cleanliness",
    "Sitzbänke": "social",
    "Toilette": "social",
    "WLAN": "digital",
    "Bolzplatz": "sports",
    "Kino": "culture",
}
ANSWERED = {"under_review", "accepted", "rejected", "implemented"}


@pytest.mark.parametrize("bulk", [False, True], ids=["domain", "bulk"])
def test_seeded_ideas_obey_the_rules(clean_app, session, monkeypatch, bulk):
    monkeypatch.setitem(clean_app.config, "IDEA_SUPPORT_THRESHOLD", THRESHOLD)
    seed(session, ideas=60, pending=5, echo=lambda *_: None, bulk=bulk)
    session.expire_all()
    rows = session.scalars(select(Idea).order_by(Idea.id)).all()
    assert len(rows) == 65
    supports = dict(session.execute(select(Support.idea_id, func.count()).group_by(Support.idea_id)).all())
    public_comments = dict(
        session.execute(
            select(Comment.idea_id, func.count())
            .where(Comment.status == "published", Comment.visibility == "visible")
            .group_by(Comment.idea_id)
        ).all()
    )
    statuses = set()
    for idea in rows:
        statuses.add(idea.status)
        assert idea.is_public == (idea.visibility == "visible" and idea.status != "pending"), idea.id
        assert idea.support_count == supports.get(idea.id, 0), idea.id
        assert idea.comment_count == public_comments.get(idea.id, 0), idea.id
        if idea.status in ANSWERED:
            assert idea.response_status == idea.status and idea.response_body and idea.responded_at, idea.id
        elif idea.status != "pending":
            assert idea.response_status is None, idea.id
            assert idea.status == ("threshold_reached" if idea.support_count >= THRESHOLD else "published"), idea.id
        subjects = [s for s in SUBJECT_CATEGORY if s in idea.title]
        assert len(subjects) == 1 and idea.category == SUBJECT_CATEGORY[subjects[0]], idea.title
    assert {"pending", "published", "threshold_reached"} <= statuses
    pending = {i.id for i in rows if i.status == "pending"}
    assert len(pending) == 5
    queued = set(session.execute(select(QueueEntry.target_type, QueueEntry.target_id)).all())
    assert queued == {("idea", i) for i in pending}
    assert sum(public_comments.values()) > 0


def test_small_seeds_go_through_the_domain_and_big_ones_in_bulk(clean_app, session, monkeypatch):
    import api.demo as demo

    calls = []
    monkeypatch.setattr(demo, "_seed_through_domain", lambda *a: calls.append("domain"))
    monkeypatch.setattr(demo, "_seed_in_bulk", lambda *a: calls.append("bulk"))
    demo.seed_ideas(session, 200, 10)
    demo.seed_ideas(session, demo.DOMAIN_SEED_MAX + 1, 0)
    assert calls == ["domain", "bulk"]


def test_make_run_seed_through_the_command_line(clean_app):
    r = clean_app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty", "--ideas", "12", "--pending", "2"])
    assert r.exit_code == 0, r.output
    assert "12 public ideas" in r.output and "2 pending ideas" in r.output


# --------------------------------------------------------------------------- reports

def _alter_markt_box() -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of the 1 km² square around Alter Markt."""
    from models.geography import degrees_around

    dlat, dlon = degrees_around(51.5136, 500)
    return 51.5136 - dlat, 51.5136 + dlat, 7.4653 - dlon, 7.4653 + dlon


def test_report_points_are_uniform_over_the_city_area(clean_app):
    import numpy as np

    import api.demo as demo

    with clean_app.app_context():
        city = demo._configured_city()
    lat, lon = demo._points_in(city, 280_000, np.random.default_rng(1))
    assert len(lat) == 280_000
    min_lat, max_lat, min_lon, max_lon = _alter_markt_box()
    inside = int(((lat >= min_lat) & (lat <= max_lat) & (lon >= min_lon) & (lon <= max_lon)).sum())
    # Dortmund is about 280 km²: some 1,000 of 280,000 points per km² (±3 σ).
    assert 900 <= inside <= 1100, inside


def test_seeded_reports_obey_the_rules(clean_app, session):
    from media.storage import storage_from_config
    from models.geography import page_cell
    from models.moderation import prescreen_reasons
    from models.reference import Category
    from models.reports import OPEN_STATUSES, Report, ReportFollow, ReportMapCell, ReportPhoto, ReportUpdate, rebuild_map_cells
    import api.demo as demo

    count = 3000
    seed(session, reports=count, echo=lambda *_: None)
    session.expire_all()
    city = demo._configured_city()
    reports = session.scalars(select(Report).order_by(Report.id)).all()
    assert len(reports) == count
    categories = {c.code: c for c in session.scalars(select(Category))}
    updates: dict[int, list] = {}
    for u in session.scalars(select(ReportUpdate).order_by(ReportUpdate.id)):
        updates.setdefault(u.report_id, []).append(u)
    follows = set(session.execute(select(ReportFollow.report_id, ReportFollow.user_id)).all())
    by_id = {r.id: r for r in reports}
    previous = None
    for r in reports:
        assert city.district_at(r.lat, r.lon) == r.district, r.id
        assert r.page_cell == page_cell(r.lat, r.lon), r.id
        category = categories[r.category]
        assert category.kind == r.kind and r.department == category.department, r.id
        assert r.is_public == (r.visibility == "visible" and r.status != "pending"), r.id
        assert r.is_open == (r.is_public and r.status in OPEN_STATUSES), r.id
        assert (r.id, r.reporter_id) in follows, r.id
        assert not prescreen_reasons(r.description), r.description
        if previous is not None:
            assert r.created_at >= previous.created_at, r.id  # "newest first" is by id
        previous = r
        timeline = updates.get(r.id, [])
        if r.status in ("pending", "open"):
            assert timeline == [] and r.resolved_at is None, r.id
        else:
            assert timeline and timeline[-1].status == r.status and timeline[-1].by == "city", r.id
            assert all(r.created_at <= u.created_at <= r.updated_at for u in timeline), r.id
            assert (r.resolved_at == timeline[-1].created_at) if r.status == "resolved" else r.resolved_at is None, r.id
        if r.status == "pending":
            assert r.kind == "unsafe_place", r.id
        if r.status == "duplicate":
            original = by_id[r.duplicate_of]
            assert original.id < r.id and original.is_public, r.id
            assert timeline[-1].duplicate_of == original.id, r.id
        else:
            assert r.duplicate_of is None, r.id
        assert r.waiting_since >= r.created_at, r.id
    statuses = {r.status for r in reports}
    assert {"pending", "open", "acknowledged", "in_progress", "resolved", "duplicate", "rejected"} <= statuses
    litter = sum(r.kind == "litter" for r in reports) / count
    assert 0.82 <= litter <= 0.88, litter
    pending = {r.id for r in reports if r.status == "pending"}
    assert set(session.execute(select(QueueEntry.target_id).where(QueueEntry.target_type == "report")).scalars()) == pending

    photos = session.scalars(select(ReportPhoto)).all()
    storage = storage_from_config(clean_app.config)
    assert len(photos) == demo.REPORT_PHOTOS
    for photo in photos:
        assert by_id[photo.report_id].is_public and photo.owner_id == by_id[photo.report_id].reporter_id
        assert storage.get(photo.image_key)[:3] == b"\xff\xd8\xff" and storage.exists(photo.thumbnail_key)

    def cells():
        return {
            (c.zoom, c.category_key, c.status_key, c.x, c.y): (c.count, c.id_sum, c.lat_sum, c.lon_sum)
            for c in session.scalars(select(ReportMapCell))
        }

    seeded = cells()
    rebuild_map_cells(session)
    session.flush()
    session.expire_all()
    rebuilt = cells()
    # The same rows and counts; the coordinate sums to rounding (the seed adds them up in id
    # order, the rebuild in whatever order the database scans the table).
    assert seeded.keys() == rebuilt.keys()
    for key, (n, id_sum, lat_sum, lon_sum) in seeded.items():
        assert (n, id_sum) == rebuilt[key][:2], key
        assert math.isclose(lat_sum, rebuilt[key][2], rel_tol=1e-12) and math.isclose(lon_sum, rebuilt[key][3], rel_tol=1e-12), key
    session.rollback()


def test_report_seed_on_top_of_existing_reports(clean_app, session):
    from models.reports import Report, ReportMapCell, rebuild_map_cells

    seed(session, reports=300, echo=lambda *_: None)
    seed(session, reports=200, echo=lambda *_: None)
    ids = session.scalars(select(Report.id).order_by(Report.id)).all()
    assert len(ids) == 500 and len(set(ids)) == 500
    seeded = set(session.execute(select(ReportMapCell.zoom, ReportMapCell.category_key, ReportMapCell.status_key, ReportMapCell.x, ReportMapCell.y, ReportMapCell.count)).all())
    rebuild_map_cells(session)
    assert seeded == set(session.execute(select(ReportMapCell.zoom, ReportMapCell.category_key, ReportMapCell.status_key, ReportMapCell.x, ReportMapCell.y, ReportMapCell.count)).all())
    session.rollback()


def test_reports_seed_through_the_command_line(clean_app):
    runner = clean_app.test_cli_runner()
    r = runner.invoke(args=["demo", "seed", "--if-empty", "--reports", "40"])
    assert r.exit_code == 0, r.output
    assert "demo seed: 40 reports" in r.output
    r = runner.invoke(args=["demo", "seed", "--if-empty", "--reports", "40"])
    assert r.exit_code == 0 and "nothing to do" in r.output, r.output


def test_the_map_answers_from_seeded_reports(client, clean_app):
    from models.reports import Report
    from api.extensions import db

    r = clean_app.test_cli_runner().invoke(args=["demo", "seed", "--reports", "2000"])
    assert r.exit_code == 0, r.output
    min_lat, max_lat, min_lon, max_lon = _alter_markt_box()
    page = client.get(f"/api/v1/reports?bbox={min_lon},{min_lat},{max_lon},{max_lat}&limit=50").get_json()
    with clean_app.app_context():
        expected = db.session.scalars(
            select(Report.id).where(Report.is_public.is_(True), Report.lat.between(min_lat, max_lat), Report.lon.between(min_lon, max_lon))
            .order_by(Report.id.desc()).limit(50)
        ).all()
        public = db.session.scalar(select(func.count()).select_from(Report).where(Report.is_public.is_(True)))
    assert [item["id"] for item in page["items"]] == expected and expected
    clusters = client.get("/api/v1/reports/clusters?zoom=11").get_json()
    assert sum(f["properties"]["count"] for f in clusters["features"]) == public
